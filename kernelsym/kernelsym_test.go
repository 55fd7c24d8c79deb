package kernelsym_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"vmapstack/internal/testtool"
	"vmapstack/kernelimg"
	"vmapstack/kernelsym"
	"vmapstack/target"
)

func loadReal(t *testing.T) *kernelsym.ELFKernel {
	t.Helper()
	k, err := kernelsym.Load(kernelimg.ELF)
	if err != nil {
		t.Fatal(err)
	}
	if !k.HasSymbols || !k.HasDWARF || !k.TasksOK {
		t.Fatalf("real kernel: symbols %v DWARF %v tasks %v (%s)", k.HasSymbols, k.HasDWARF, k.TasksOK, k.Missing)
	}
	return k
}

// TestLayoutMatchesCompiler checks the offsets read from DWARF against
// what gcc computes from kernel.h: the test writes static assertions with
// kernelsym's figures and compiles them.
func TestLayoutMatchesCompiler(t *testing.T) {
	gcc := testtool.Require(t, "gcc")
	k := loadReal(t)
	l := k.Task
	var src strings.Builder
	src.WriteString("#include \"../../kernelimg/src/kernel.h\"\n")
	check := func(expr string, v uint64) {
		fmt.Fprintf(&src, "_Static_assert(%s == %d, \"%s\");\n", expr, v, expr)
	}
	check("sizeof(struct task_struct)", l.Size)
	check("offsetof(struct task_struct, stack)", l.Stack.Offset)
	check("sizeof(((struct task_struct *)0)->stack)", l.Stack.Size)
	check("offsetof(struct task_struct, thread.sp)", l.ThreadSP.Offset)
	check("offsetof(struct task_struct, comm)", l.Comm.Offset)
	check("sizeof(((struct task_struct *)0)->comm)", l.Comm.Size)
	check("offsetof(struct task_struct, pid)", l.Pid.Offset)
	check("sizeof(((struct task_struct *)0)->pid)", l.Pid.Size)
	check("offsetof(struct task_struct, state)", l.State.Offset)
	check("offsetof(struct task_struct, mm)", l.MM.Offset)
	check("sizeof(struct mm_struct)", l.MMSize)
	check("offsetof(struct mm_struct, pgd)", l.MMPgd.Offset)
	check("offsetof(struct mm_struct, name)", l.MMName.Offset)
	check("MAX_TASKS", uint64(k.TaskTableLen))
	check("sizeof(nr_tasks)", k.NrTasksSize)
	check("TASK_RUNNING", 0)
	check("THREAD_SIZE", k.ThreadSize)
	dir := t.TempDir()
	// The include is relative to this package directory.
	file := filepath.Join(dir, "layout.c")
	wd, _ := os.Getwd()
	text := strings.Replace(src.String(), "../../kernelimg/src/kernel.h", filepath.Join(wd, "../kernelimg/src/kernel.h"), 1)
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(gcc, "-std=gnu11", "-ffreestanding", "-fsyntax-only", file).CombinedOutput()
	if err != nil {
		t.Fatalf("gcc disagrees with kernelsym's layout: %v\n%s", err, out)
	}
	if name := k.StateNames[0]; name != "TASK_RUNNING" {
		t.Errorf("state 0 is named %q, want TASK_RUNNING", name)
	}
	if name := k.StateNames[1]; name != "TASK_DEAD" {
		t.Errorf("state 1 is named %q, want TASK_DEAD", name)
	}
}

// TestSymbolsMatchNm compares lookups in both directions with nm's view.
func TestSymbolsMatchNm(t *testing.T) {
	nm := testtool.Require(t, "nm")
	k := loadReal(t)
	out, err := exec.Command(nm, "-S", filepath.Join("..", "kernelimg", "kernel.elf")).Output()
	if err != nil {
		t.Fatal(err)
	}
	type nmSym struct{ addr, size uint64 }
	syms := map[string]nmSym{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 4 {
			continue
		}
		a, _ := strconv.ParseUint(f[0], 16, 64)
		s, _ := strconv.ParseUint(f[1], 16, 64)
		syms[f[3]] = nmSym{a, s}
	}
	for _, name := range []string{"do_double_fault", "handle_stack_overflow", "do_page_fault", "vmalloc_fault",
		"prepare_switch_to", "switch_mm", "panic", "current_task", "task_table", "nr_tasks", "init_task"} {
		t.Run(name, func(t *testing.T) {
			want, ok := syms[name]
			if !ok {
				t.Fatalf("nm does not list %s with a size", name)
			}
			s, ok := k.Lookup(name)
			if !ok || s.Addr != want.addr || s.Size != want.size {
				t.Fatalf("Lookup(%s) = %+v %v, nm says %#x size %#x", name, s, ok, want.addr, want.size)
			}
			for _, off := range []uint64{0, 1, want.size - 1} {
				got, goff, ok := k.Symbolize(want.addr + off)
				if !ok || got.Name != name || goff != off {
					t.Errorf("Symbolize(%s+%#x) = %s+%#x %v", name, off, got.Name, goff, ok)
				}
			}
			wantDesc := name + "+0x1"
			if d := k.Describe(want.addr + 1); d != wantDesc {
				t.Errorf("Describe = %q, want %q", d, wantDesc)
			}
		})
	}
	// The task-model addresses are the symbols'.
	for name, got := range map[string]uint64{"current_task": k.CurrentTask, "task_table": k.TaskTable, "nr_tasks": k.NrTasks} {
		if syms[name].addr != got {
			t.Errorf("%s at %#x, nm says %#x", name, got, syms[name].addr)
		}
	}
	if _, ok := k.Lookup("no_such_symbol"); ok {
		t.Error("Lookup of a missing name succeeded")
	}
	if _, _, ok := k.Symbolize(0x1000); ok {
		t.Error("Symbolize of an address below the image found a symbol")
	}
}

// TestTasksOfBootedKernel reads the tasks of the real kernel, stopped at
// the #DF of scenario=overflow, and checks them against the kernel's own
// console lines ("task 1 \"recurse\": stack 0x...4000..0x...7fff").
func TestTasksOfBootedKernel(t *testing.T) {
	k := loadReal(t)
	for _, scenario := range []string{"overflow", "tasks"} {
		t.Run(scenario, func(t *testing.T) {
			m, err := target.New(target.Config{Kernel: kernelimg.ELF, Append: "scenario=" + scenario})
			if err != nil {
				t.Fatal(err)
			}
			bo, _ := target.ParseBreakOn("df,triple")
			m.SetBreakOn(bo)
			st := m.RunUntil(context.Background(), 2_000_000)
			if st.Kind == target.StopInternal || st.Kind == target.StopTripleFault {
				t.Fatalf("machine: %v", st)
			}
			console := string(m.Console())
			re := regexp.MustCompile(`task (\d+) "([^"]+)": stack 0x([0-9a-f]{16})\.\.0x([0-9a-f]{16})`)
			lines := re.FindAllStringSubmatch(console, -1)
			if len(lines) == 0 {
				t.Fatalf("no task lines on the console:\n%s", console)
			}
			tasks, err := k.Tasks(kernelsym.Memory{Read: m.CPU().ReadLinear})
			if err != nil {
				t.Fatal(err)
			}
			if len(tasks) != len(lines)+1 || tasks[0].Comm != "swapper" || tasks[0].Pid != 0 {
				t.Fatalf("tasks %+v, console lists %d tasks besides swapper", tasks, len(lines))
			}
			for i, l := range lines {
				got := tasks[i+1]
				pid, _ := strconv.ParseInt(l[1], 10, 64)
				lo, _ := strconv.ParseUint(l[3], 16, 64)
				hi, _ := strconv.ParseUint(l[4], 16, 64)
				if got.Pid != pid || got.Comm != l[2] || got.Stack != lo || got.StackEnd != hi+1 {
					t.Errorf("task %d: %+v, console says pid %d %q %#x..%#x", i+1, got, pid, l[2], lo, hi)
				}
				if got.SP < got.Stack || got.SP >= got.StackEnd {
					t.Errorf("task %q: saved sp %#x outside its stack", got.Comm, got.SP)
				}
				if got.MM == 0 || got.PGD == 0 || got.MMName == "" {
					t.Errorf("task %q: mm %#x pgd %#x name %q", got.Comm, got.MM, got.PGD, got.MMName)
				}
				if g0, g1 := got.GuardPage(); g1 != got.Stack || g1-g0 != 4096 {
					t.Errorf("guard page %#x-%#x", g0, g1)
				}
			}
			cur, err := k.Current(kernelsym.Memory{Read: m.CPU().ReadLinear})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, tk := range tasks {
				if tk.Current {
					n++
					if tk.Addr != cur.Addr {
						t.Errorf("current marker on %q, current_task is %q", tk.Comm, cur.Comm)
					}
				}
			}
			if n != 1 {
				t.Errorf("%d tasks marked current", n)
			}
			if scenario == "overflow" && cur.Comm != "recurse" {
				t.Errorf("current at the #DF is %q, want recurse", cur.Comm)
			}
		})
	}
}

// fakeMem is guest memory for the readers: sparse pages.
type fakeMem map[uint64][]byte

func (f fakeMem) write(addr uint64, b []byte) {
	for i, c := range b {
		a := addr + uint64(i)
		p := f[a&^0xfff]
		if p == nil {
			p = make([]byte, 4096)
			f[a&^0xfff] = p
		}
		p[a&0xfff] = c
	}
}

func (f fakeMem) read(addr uint64, buf []byte) (int, error) {
	for i := range buf {
		a := addr + uint64(i)
		p := f[a&^0xfff]
		if p == nil {
			return i, fmt.Errorf("linear %#x: not mapped", a)
		}
		buf[i] = p[a&0xfff]
	}
	return len(buf), nil
}

func (f fakeMem) u64(addr, v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	f.write(addr, b[:])
}

func (f fakeMem) u32(addr uint64, v uint32) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	f.write(addr, b[:])
}

// task writes a task_struct with the real kernel's layout.
func (f fakeMem) task(k *kernelsym.ELFKernel, addr uint64, pid int32, comm string, state int32, stack, sp, mm uint64) {
	l := k.Task
	f.write(addr, make([]byte, l.Size))
	f.u64(addr+l.Stack.Offset, stack)
	f.u64(addr+l.ThreadSP.Offset, sp)
	f.u64(addr+l.MM.Offset, mm)
	f.u32(addr+l.Pid.Offset, uint32(pid))
	f.u32(addr+l.State.Offset, uint32(state))
	f.write(addr+l.Comm.Offset, []byte(comm+"\x00"))
}

func TestTasksFromMemory(t *testing.T) {
	k := loadReal(t)
	const (
		t1, t2, mm = 0xffff888000200000, 0xffff888000201000, 0xffff888000202000
		name       = 0xffff888000203000
	)
	base := func() fakeMem {
		f := fakeMem{}
		f.u32(k.NrTasks, 3)
		f.u64(k.TaskTable, t1)
		f.u64(k.TaskTable+8, 0) // a NULL slot is skipped
		f.u64(k.TaskTable+16, t2)
		f.u64(k.CurrentTask, t2)
		f.task(k, t1, 1, "alpha", 0, 0xffffc90000004000, 0xffffc90000007f00, mm)
		f.task(k, t2, 2, "a-name-of-16byte", 1, 0xffffc9000000c000, 0xffffc9000000ff00, 0)
		f.u64(mm+k.Task.MMPgd.Offset, 0xffff888000100000)
		f.u64(mm+k.Task.MMName.Offset, name)
		f.write(name, []byte("mm-x\x00"))
		return f
	}
	f := base()
	tasks, err := k.Tasks(kernelsym.Memory{Read: f.read})
	if err != nil {
		t.Fatal(err)
	}
	want := []kernelsym.Task{
		{Addr: t1, Pid: 1, Comm: "alpha", State: 0, StateName: "TASK_RUNNING", Stack: 0xffffc90000004000, StackEnd: 0xffffc90000008000,
			SP: 0xffffc90000007f00, MM: mm, PGD: 0xffff888000100000, MMName: "mm-x"},
		{Addr: t2, Pid: 2, Comm: "a-name-of-16byte", State: 1, StateName: "TASK_DEAD", Stack: 0xffffc9000000c000, StackEnd: 0xffffc90000010000,
			SP: 0xffffc9000000ff00, Current: true},
	}
	if fmt.Sprint(tasks) != fmt.Sprint(want) {
		t.Errorf("Tasks:\n got %+v\nwant %+v", tasks, want)
	}

	// Error paths, each on a copy of the good memory with one thing broken.
	cases := []struct {
		name   string
		break_ func(f fakeMem)
		want   string
	}{
		{"nr_tasks unreadable", func(f fakeMem) { delete(f, k.NrTasks&^0xfff) }, "read nr_tasks"},
		{"nr_tasks negative", func(f fakeMem) { f.u32(k.NrTasks, 0xffffffff) }, "nr_tasks is -1"},
		{"task unreadable", func(f fakeMem) { delete(f, t2&^0xfff) }, "task_table[2]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := base()
			c.break_(f)
			_, err := k.Tasks(kernelsym.Memory{Read: f.read})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
		})
	}
	t.Run("nr_tasks above the table", func(t *testing.T) {
		f := base()
		f.u32(k.NrTasks, 1000)
		for i := 3; i < k.TaskTableLen; i++ {
			f.u64(k.TaskTable+uint64(8*i), 0)
		}
		tasks, err := k.Tasks(kernelsym.Memory{Read: f.read})
		if err != nil || len(tasks) != 2 {
			t.Fatalf("%d tasks, err %v", len(tasks), err)
		}
	})
	t.Run("current NULL", func(t *testing.T) {
		f := base()
		f.u64(k.CurrentTask, 0)
		if _, err := k.Current(kernelsym.Memory{Read: f.read}); err == nil || !strings.Contains(err.Error(), "NULL") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("unknown state value", func(t *testing.T) {
		f := base()
		f.u32(t1+k.Task.State.Offset, 7)
		tasks, err := k.Tasks(kernelsym.Memory{Read: f.read})
		if err != nil || tasks[0].StateName != "7" {
			t.Fatalf("state name %q err %v", tasks[0].StateName, err)
		}
	})
}

func TestNoTaskModel(t *testing.T) {
	// The zero ELFKernel is what the monitor gets for a kernel file it
	// cannot read.
	for _, k := range []*kernelsym.ELFKernel{{}} {
		if _, err := k.Tasks(kernelsym.Memory{Read: fakeMem{}.read}); !errors.Is(err, kernelsym.ErrNoTaskModel) {
			t.Errorf("Tasks: %v", err)
		}
		if _, err := k.Current(kernelsym.Memory{Read: fakeMem{}.read}); !errors.Is(err, kernelsym.ErrNoTaskModel) {
			t.Errorf("Current: %v", err)
		}
		if _, err := k.ReadTask(fakeMem{}.read, 0); !errors.Is(err, kernelsym.ErrNoTaskModel) {
			t.Errorf("ReadTask: %v", err)
		}
		if _, ok := k.Lookup("panic"); ok {
			t.Error("Lookup without symbols")
		}
		if k.Describe(0xffffffff80100000) != "" || len(k.Symbols()) != 0 {
			t.Error("symbols without a symbol table")
		}
	}
}

// TestStripped loads the real kernel with its debug information removed
// (symbols kept) and with everything removed: neither is an error.
func TestStripped(t *testing.T) {
	objcopy := testtool.Require(t, "objcopy")
	for _, c := range []struct {
		flag        string
		wantSymbols bool
	}{{"--strip-debug", true}, {"--strip-all", false}} {
		t.Run(c.flag, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "k.elf")
			if b, err := exec.Command(objcopy, c.flag, filepath.Join("..", "kernelimg", "kernel.elf"), out).CombinedOutput(); err != nil {
				t.Fatalf("objcopy: %v\n%s", err, b)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			k, err := kernelsym.Load(data)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if k.HasDWARF || k.TasksOK || k.Missing == "" {
				t.Errorf("DWARF %v tasks %v missing %q", k.HasDWARF, k.TasksOK, k.Missing)
			}
			if k.HasSymbols != c.wantSymbols {
				t.Errorf("HasSymbols %v, want %v", k.HasSymbols, c.wantSymbols)
			}
			if _, ok := k.Lookup("do_double_fault"); ok != c.wantSymbols {
				t.Errorf("Lookup(do_double_fault) ok=%v", ok)
			}
			if k.ThreadSize != kernelsym.DefaultThreadSize || k.ThreadSizeSource != "default" {
				t.Errorf("thread size %d from %s", k.ThreadSize, k.ThreadSizeSource)
			}
			if _, err := k.Tasks(kernelsym.Memory{Read: fakeMem{}.read}); !errors.Is(err, kernelsym.ErrNoTaskModel) {
				t.Errorf("Tasks: %v", err)
			}
		})
	}
}

// minimalELF is an ELF64 header with no sections and no segments.
func minimalELF() []byte {
	var b bytes.Buffer
	b.Write([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	for _, v := range []any{uint16(2), uint16(62), uint32(1), uint64(0x100000), uint64(0), uint64(0), uint32(0),
		uint16(64), uint16(56), uint16(0), uint16(64), uint16(0), uint16(0)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	return b.Bytes()
}

func TestLoadWithoutSections(t *testing.T) {
	k, err := kernelsym.Load(minimalELF())
	if err != nil {
		t.Fatal(err)
	}
	if k.HasSymbols || k.HasDWARF || k.TasksOK || !strings.Contains(k.Missing, "no DWARF") {
		t.Errorf("%+v", k)
	}
}

func TestLoadBadELF(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("not an ELF at all"), minimalELF()[:20]} {
		if _, err := kernelsym.Load(b); err == nil || !strings.HasPrefix(err.Error(), "kernelsym: read ELF") {
			t.Errorf("Load(%q): %v", b, err)
		}
	}
}

// TestOtherLayouts compiles small kernels whose task_struct differs from
// the mini kernel's (members reordered, thread not first, THREAD_SIZE
// exposed as a variable or an enumerator, members missing) and checks
// what Load finds.
func TestOtherLayouts(t *testing.T) {
	gcc := testtool.Require(t, "gcc")
	common := `
struct mm_struct { const char *name; unsigned long *pgd; };
struct thread_struct { unsigned long pad, sp; };
`
	task := `
struct task_struct { int state; char comm[16]; int pid; struct mm_struct *mm; struct thread_struct thread; void *stack; };
struct task_struct *current_task;
struct task_struct *task_table[7];
long nr_tasks;
`
	cases := []struct {
		name, src      string
		ok             bool
		threadSize     uint64
		source, reason string
	}{
		{"variable", common + task + "const unsigned long thread_size __attribute__((used)) = 8192;\n", true, 8192, "DWARF variable thread_size", ""},
		{"enumerator", common + task + "enum { THREAD_SIZE_ENUM = 32768 } ts_holder __attribute__((used));\n", true, 32768, "DWARF enumerator THREAD_SIZE_ENUM", ""},
		{"default", common + task, true, 16384, "default", ""},
		{"no stack member", common + strings.Replace(task, " void *stack;", "", 1), false, 16384, "default", "no member stack"},
		{"no task_table", common + strings.Replace(task, "struct task_struct *task_table[7];", "", 1), false, 16384, "default", "no variable task_table"},
		{"no task_struct", common + "int nr_tasks;\n", false, 16384, "default", "no struct task_struct"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, "k.c")
			out := filepath.Join(dir, "k.elf")
			if err := os.WriteFile(src, []byte(c.src+"void _start(void) {}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if b, err := exec.Command(gcc, "-g", "-O0", "-nostdlib", "-static", "-fno-pie", "-no-pie", "-o", out, src).CombinedOutput(); err != nil {
				t.Fatalf("gcc: %v\n%s", err, b)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			k, err := kernelsym.Load(data)
			if err != nil {
				t.Fatal(err)
			}
			if k.TasksOK != c.ok || (c.reason != "" && !strings.Contains(k.Missing, c.reason)) {
				t.Fatalf("TasksOK %v missing %q, want %v %q", k.TasksOK, k.Missing, c.ok, c.reason)
			}
			if k.ThreadSize != c.threadSize || k.ThreadSizeSource != c.source {
				t.Errorf("thread size %d from %q, want %d from %q", k.ThreadSize, k.ThreadSizeSource, c.threadSize, c.source)
			}
			if !c.ok {
				return
			}
			l := k.Task
			// x86-64 SysV layout of the structure above.
			want := kernelsym.TaskLayout{Size: 56, State: kernelsym.Field{Offset: 0, Size: 4}, Comm: kernelsym.Field{Offset: 4, Size: 16},
				Pid: kernelsym.Field{Offset: 20, Size: 4}, MM: kernelsym.Field{Offset: 24, Size: 8},
				ThreadSP: kernelsym.Field{Offset: 40, Size: 8}, Stack: kernelsym.Field{Offset: 48, Size: 8},
				MMSize: 16, MMName: kernelsym.Field{Offset: 0, Size: 8}, MMPgd: kernelsym.Field{Offset: 8, Size: 8}}
			if l != want {
				t.Errorf("layout\n got %+v\nwant %+v", l, want)
			}
			if k.TaskTableLen != 7 || k.NrTasksSize != 8 {
				t.Errorf("task_table length %d, nr_tasks size %d", k.TaskTableLen, k.NrTasksSize)
			}
			for name, got := range map[string]uint64{"current_task": k.CurrentTask, "task_table": k.TaskTable, "nr_tasks": k.NrTasks} {
				s, ok := k.Lookup(name)
				if !ok || s.Addr != got || got == 0 {
					t.Errorf("%s at %#x, symbol %+v", name, got, s)
				}
			}
			// Tasks read through the layout found, with a 64-bit nr_tasks.
			f := fakeMem{}
			f.u64(k.NrTasks, 1)
			f.u64(k.TaskTable, 0x5000)
			f.u64(k.CurrentTask, 0x5000)
			f.write(0x5000, make([]byte, 64))
			f.u64(0x5000+48, 0x9000)
			f.u64(0x5000+40, 0x9ff0)
			f.u32(0x5000+20, 3)
			f.write(0x5000+4, []byte("x\x00"))
			tasks, err := k.Tasks(kernelsym.Memory{Read: f.read})
			if err != nil || len(tasks) != 1 || tasks[0].Stack != 0x9000 || tasks[0].SP != 0x9ff0 || tasks[0].Pid != 3 ||
				tasks[0].Comm != "x" || tasks[0].StackEnd != 0x9000+c.threadSize || !tasks[0].Current {
				t.Errorf("tasks %+v err %v", tasks, err)
			}
		})
	}
}

// TestLoadHostileSegment: a PT_LOAD claiming far more file bytes than the
// file has (and no memory size) is an error naming the segment, not an
// allocation of its claimed size.
func TestLoadHostileSegment(t *testing.T) {
	for _, tc := range []struct {
		name          string
		filesz, memsz uint64
	}{
		{"huge file size, no memory size", 1 << 62, 0},
		{"file size beyond the file", 1 << 20, 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := testtool.PVHKernel([]byte{0xf4})
			// The code segment is the second program header (64 + 56).
			ph := f[64+56:]
			binary.LittleEndian.PutUint64(ph[32:], tc.filesz)
			binary.LittleEndian.PutUint64(ph[40:], tc.memsz)
			_, err := kernelsym.Load(f)
			if err == nil || !strings.Contains(err.Error(), "do not fit the") {
				t.Fatalf("error %v", err)
			}
		})
	}
}
