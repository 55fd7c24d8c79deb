package kernelsym

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// The Linux model on guest data built by hand: layouts from BTF the
// guest could have corrupted, task and module lists that loop, threads
// that are not on init_task.tasks.

const directMap = 0xffff888000000000

// taskBTF marshals a small task_struct of size bytes with comm at
// commOff, as BTF in guest memory could describe it, and returns the
// layout the model derives (or its error).
func taskBTF(t *testing.T, size, commOff uint32) (linuxLayout, error) {
	t.Helper()
	i32 := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	u64 := &btf.Int{Name: "long unsigned int", Size: 8}
	char := &btf.Int{Name: "char", Size: 1, Encoding: btf.Char}
	ptr := &btf.Pointer{Target: &btf.Void{}}
	lh := &btf.Struct{Name: "list_head", Size: 16, Members: []btf.Member{{Name: "next", Type: ptr}, {Name: "prev", Type: ptr, Offset: 64}}}
	th := &btf.Struct{Name: "thread_struct", Size: 8, Members: []btf.Member{{Name: "sp", Type: u64}}}
	task := &btf.Struct{Name: "task_struct", Size: size, Members: []btf.Member{
		{Name: "tasks", Type: lh, Offset: 0},
		{Name: "pid", Type: i32, Offset: 16 * 8},
		{Name: "__state", Type: i32, Offset: 20 * 8},
		{Name: "exit_state", Type: i32, Offset: 24 * 8},
		{Name: "stack", Type: ptr, Offset: 32 * 8},
		{Name: "mm", Type: ptr, Offset: 40 * 8},
		{Name: "thread", Type: th, Offset: 48 * 8},
		{Name: "comm", Type: &btf.Array{Index: i32, Type: char, Nelems: 16}, Offset: btf.Bits(commOff * 8)},
	}}
	b, err := btf.NewBuilder([]btf.Type{task}, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b.Marshal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	bt, err := parseBTF(raw)
	if err != nil {
		t.Fatal(err)
	}
	return linuxLayoutFrom(bt)
}

// readyLinux is a model as discovery leaves it, with init_task at
// directMap+0x1000 and current_task's per-CPU slot at directMap+0x100.
func readyLinux(ly linuxLayout) *Linux {
	l := NewLinux(nil)
	l.missing = ""
	l.layout = ly
	l.syms = NewSymbolTable([]Symbol{{Name: "init_task", Addr: directMap + 0x1000, Size: 64}})
	l.percpu = map[string]uint64{"current_task": 0x100}
	l.perCPUOffset = directMap
	return l
}

func TestLinuxLayoutRefusesBadBTF(t *testing.T) {
	for _, c := range []struct {
		name          string
		size, commOff uint32
		want          string
	}{
		{"comm outside task_struct", 64, 4096, "task_struct.comm (16 bytes at 4096) does not fit a 64-byte task_struct"},
		{"huge task_struct", 0xfff00000, 64, "sizeof(struct task_struct) is 4293918720"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := taskBTF(t, c.size, c.commOff)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
	if _, err := taskBTF(t, 128, 64); err != nil {
		t.Fatalf("a sane layout: %v", err)
	}
}

// TestLinuxThreads: the current task is a thread that is not its group's
// leader, so not on init_task.tasks; for_each_thread's list finds it,
// and its stack is one the unwinder knows.
func TestLinuxThreads(t *testing.T) {
	ly, err := taskBTF(t, 128, 64)
	if err != nil {
		t.Fatal(err)
	}
	ly.signal = Field{Offset: 80, Size: 8}
	ly.threadNode = Field{Offset: 96, Size: 16}
	ly.signalThreadHead = Field{Offset: 0, Size: 16}
	g := fakeGuest{make([]byte, 1<<20)}
	le := binary.LittleEndian
	le.PutUint64(g.ram[0x1000:], directMap+0x1000)       // init_task.tasks.next: itself
	le.PutUint64(g.ram[0x1000+32:], directMap+0x10000)   // init_task.stack
	le.PutUint64(g.ram[0x1000+80:], directMap+0x6000)    // init_task.signal
	le.PutUint64(g.ram[0x6000:], directMap+0x1000+96)    // thread_head.next: init_task's node
	le.PutUint64(g.ram[0x1000+96:], directMap+0x2000+96) // then the thread's
	le.PutUint64(g.ram[0x2000+96:], directMap+0x6000)    // then the head
	le.PutUint64(g.ram[0x2000+32:], directMap+0x20000)   // the thread's stack
	copy(g.ram[0x2000+64:], "worker")
	le.PutUint64(g.ram[0x100:], directMap+0x2000) // current_task: the thread
	l := readyLinux(ly)
	l.threadSize = 16 << 10
	tasks, err := l.Tasks(g.memory(1))
	if err != nil || len(tasks) != 2 || tasks[1].Comm != "worker" || !tasks[1].Current {
		t.Fatalf("tasks %+v, err %v: want init_task and the current thread", tasks, err)
	}
	if _, ok := l.stackInfo(g.memory(1))(directMap + 0x20000 + 0x100); !ok {
		t.Error("the current thread's stack is not among the unwinder's stacks")
	}
}

func TestLinuxListLoops(t *testing.T) {
	t.Run("tasks", func(t *testing.T) {
		ly, _ := taskBTF(t, 128, 64)
		g := fakeGuest{make([]byte, 1<<20)}
		le := binary.LittleEndian
		le.PutUint64(g.ram[0x1000:], directMap+0x2000) // init_task -> A
		le.PutUint64(g.ram[0x2000:], directMap+0x3000) // A -> B
		le.PutUint64(g.ram[0x3000:], directMap+0x2000) // B -> A, never back to init_task
		_, err := readyLinux(ly).Tasks(g.memory(1))
		if err == nil || !strings.Contains(err.Error(), "task list loops at task_struct 0xffff888000002000") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("modules", func(t *testing.T) {
		g := fakeGuest{make([]byte, 1<<20)}
		le := binary.LittleEndian
		le.PutUint64(g.ram[0x3000:], directMap+0x4000) // modules.next -> A
		le.PutUint64(g.ram[0x4000:], directMap+0x5000) // A -> B
		le.PutUint64(g.ram[0x5000:], directMap+0x4000) // B -> A: skips the head
		copy(g.ram[0x4010:], "a")
		copy(g.ram[0x5010:], "b")
		l := NewLinux(nil)
		l.missing = ""
		l.layout.modList = Field{Offset: 0, Size: 16}
		l.layout.modName = Field{Offset: 16, Size: 56}
		l.layout.moduleSize = 128
		l.syms = NewSymbolTable([]Symbol{{Name: "modules", Addr: directMap + 0x3000}})
		l.loadModules(g.memory(1))
		if len(l.modules) != 2 || l.modules[0].Name != "a" || l.modules[1].Name != "b" {
			t.Errorf("modules %+v: want a and b once", l.modules)
		}
	})
}

// TestLinuxStacks: CPU 0's IRQ stack ends 8 bytes above
// hardirq_stack_ptr (irq_64.c: stack + IRQ_STACK_SIZE - 8) and spans
// THREAD_SIZE; the IST stacks are cea_exception_stacks' members.
func TestLinuxStacks(t *testing.T) {
	l := readyLinux(linuxLayout{estacks: map[string]Field{"DF": {Offset: 4096, Size: 8192}, "NMI": {Offset: 16384, Size: 8192}}})
	l.threadSize = 16 << 10
	l.percpu["hardirq_stack_ptr"] = 0x108
	l.percpu["cea_exception_stacks"] = 0x110
	g := fakeGuest{make([]byte, 1<<20)}
	binary.LittleEndian.PutUint64(g.ram[0x108:], 0xffffc90000003ff8)
	binary.LittleEndian.PutUint64(g.ram[0x110:], 0xfffffe0000009000)
	stacks, err := l.Stacks(g.memory(1))
	if err != nil {
		t.Fatal(err)
	}
	want := []Stack{
		{Name: "IRQ", Begin: 0xffffc90000000000, End: 0xffffc90000004000, Guard: true},
		{Name: "#DF", Begin: 0xfffffe000000a000, End: 0xfffffe000000c000, Guard: true},
		{Name: "NMI", Begin: 0xfffffe000000d000, End: 0xfffffe000000f000, Guard: true},
	}
	if len(stacks) != len(want) {
		t.Fatalf("stacks %+v", stacks)
	}
	for i := range want {
		if stacks[i] != want[i] {
			t.Errorf("stack %d: %+v, want %+v", i, stacks[i], want[i])
		}
	}
}
