package kernelsym

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"vmapstack/internal/linuxtest"
	"vmapstack/kernelsym/kallsyms"
)

func TestLinuxStateName(t *testing.T) {
	for _, c := range []struct {
		state, exit uint64
		want        string
	}{
		{0, 0, "R (running)"},
		{1, 0, "S (sleeping)"},
		{2, 0, "D (disk sleep)"},
		{0x402, 0, "I (idle)"},       // TASK_IDLE: uninterruptible, no load
		{0x102, 0, "D (disk sleep)"}, // TASK_KILLABLE
		{4, 0, "T (stopped)"},        // __TASK_STOPPED
		{0x8, 0, "t (tracing stop)"}, // __TASK_TRACED
		{0x80, 0x20, "Z (zombie)"},   // TASK_DEAD with EXIT_ZOMBIE
		{0x80, 0x10, "X (dead)"},     // EXIT_DEAD
		{0x40, 0, "P (parked)"},      // TASK_PARKED
		{0x800, 0, "R (running)"},    // TASK_NEW: outside TASK_REPORT, so /proc says R too
	} {
		if got := linuxStateName(c.state, c.exit); got != c.want {
			t.Errorf("state %#x exit %#x: %q, want %q", c.state, c.exit, got, c.want)
		}
	}
}

func TestSymbolsFromKallsyms(t *testing.T) {
	ks := []kallsyms.Symbol{
		{Name: "b_func", Addr: 0xffffffff81000100, Type: 't'},
		{Name: "a_func", Addr: 0xffffffff81000000, Type: 'T'},
		{Name: "alias", Addr: 0xffffffff81000000, Type: 't'},
		{Name: "current_task", Addr: 0x1fb80, Type: 'A'},
		{Name: "weak_undef", Addr: 0, Type: 'w'},
		{Name: "data", Addr: 0xffffffff82000000, Type: 'D'},
	}
	syms, percpu := symbolsFromKallsyms(ks)
	st := NewSymbolTable(syms)
	if s, ok := st.Lookup("weak_undef"); ok {
		t.Errorf("undefined weak symbol kept: %+v", s)
	}
	if off, ok := percpu["current_task"]; !ok || off != 0x1fb80 {
		t.Errorf("per-CPU offset: %#x %v", off, ok)
	}
	// A per-CPU offset does not name an address: CR2 0x1fb88 (a NULL
	// pointer's field) is nobody's.
	if d := st.Describe(0x1fb88); d != "" {
		t.Errorf("Describe(0x1fb88) = %q", d)
	}
	s, off, ok := st.Symbolize(0xffffffff81000010)
	if !ok || s.Name != "a_func" || off != 0x10 || s.Size != 0x100 || !s.Func || !s.Global {
		t.Errorf("Symbolize: %+v off %#x ok %v; want a_func+0x10, size 0x100, the first alias", s, off, ok)
	}
	if d := st.Describe(0xffffffff81000104); d != "b_func+0x4" {
		t.Errorf("Describe: %q", d)
	}
}

// TestLinuxLayoutFromDebianBTF resolves every field the Linux model
// reads in the BTF of Debian's kernel (the .BTF section of the vmlinux
// inside the bzImage: the same bytes the running kernel has at
// __start_BTF), and checks what is known of 6.1's layout.
func TestLinuxLayoutFromDebianBTF(t *testing.T) {
	vmlinux := linuxtest.RequireVmlinux(t)
	ef, err := elf.NewFile(bytesReader(vmlinux))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := ef.Section(".BTF").Data()
	if err != nil {
		t.Fatal(err)
	}
	b, err := parseBTF(raw)
	if err != nil {
		t.Fatal(err)
	}
	l, err := linuxLayoutFrom(b)
	if err != nil {
		t.Fatal(err)
	}
	// pahole's layout of Debian's 6.1 task_struct: thread is at the
	// end, its sp 24 bytes in; stack right after the thread_info and
	// __state; comm is a 16-byte array.
	if l.stack.Offset != 32 || l.stack.Size != 8 || l.state.Offset != 24 || l.state.Size != 4 {
		t.Errorf("task_struct.stack %+v, __state %+v", l.stack, l.state)
	}
	if l.comm.Size != 16 || l.pid.Size != 4 || l.sp.Size != 8 || l.mm.Size != 8 || l.tasks.Size != 16 {
		t.Errorf("comm %+v pid %+v thread.sp %+v mm %+v tasks %+v", l.comm, l.pid, l.sp, l.mm, l.tasks)
	}
	if l.sp.Offset <= l.comm.Offset || l.taskSize < l.sp.Offset+8 {
		t.Errorf("thread.sp at %#x, comm at %#x, sizeof %#x", l.sp.Offset, l.comm.Offset, l.taskSize)
	}
	if l.mmPgd.Size != 8 {
		t.Errorf("mm_struct.pgd (inside an anonymous struct): %+v", l.mmPgd)
	}
	if l.modList.Size != 16 || l.modName.Size != 56 || l.modBase.Size != 8 || l.ksymtab.Size != 8 || l.modNumORC.Size == 0 {
		t.Errorf("module list %+v name %+v core_layout.base %+v mod_kallsyms.symtab %+v arch.num_orcs %+v",
			l.modList, l.modName, l.modBase, l.ksymtab, l.modNumORC)
	}
	for _, n := range []string{"DF", "NMI", "DB", "MCE"} {
		if f, ok := l.estacks[n]; !ok || f.Size != 8192 {
			t.Errorf("cea_exception_stacks.%s_stack: %+v %v", n, f, ok)
		}
	}
	if l.inactiveFrame.size != 56 || l.inactiveFrame.retAddr != 48 || l.inactiveFrame.bp != 40 {
		t.Errorf("inactive_task_frame: %+v", l.inactiveFrame)
	}
	if _, err := b.field("task_struct", "thread.nosuch"); err == nil {
		t.Error("a missing member resolved")
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

func TestBzImageVersion(t *testing.T) {
	img := make([]byte, 0x400)
	copy(img[0x202:], "HdrS")
	img[0x20e], img[0x20f] = 0x00, 0x01 // the string at 0x300
	copy(img[0x300:], "6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP\x00")
	if v := bzImageVersion(img); v != "6.1.0-57-cloud-amd64" {
		t.Errorf("version %q", v)
	}
	img[0x20f] = 0xff // past the end
	if v := bzImageVersion(img); v != "" {
		t.Errorf("out of range: %q", v)
	}
	if v := bzImageVersion([]byte("\x7fELF")); v != "" {
		t.Errorf("ELF: %q", v)
	}
}

// TestSymbolFileFromImage: before the kernel runs, the symbol file comes
// from the kallsyms inside Debian's bzImage, at link addresses, with the
// vmlinux's sections, under a name with the kernel's release.
func TestSymbolFileFromImage(t *testing.T) {
	f := linuxtest.Require(t)
	img, err := os.ReadFile(f.Kernel)
	if err != nil {
		t.Fatal(err)
	}
	l := ForImage(img).(*Linux)
	p, data, err := l.SymbolFile()
	if err != nil {
		t.Fatal(err)
	}
	if want := "/vmapstack/linux/vmlinux-" + f.Release + ".kallsyms"; p != want {
		t.Errorf("path %q, want %q", p, want)
	}
	ef, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	syms, err := ef.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	text := ef.Section(".text")
	if text == nil || text.Addr != 0xffffffff81000000 || text.Type != elf.SHT_NOBITS {
		t.Fatalf(".text: %+v", text)
	}
	found := map[string]elf.Symbol{}
	for _, s := range syms {
		found[s.Name] = s
	}
	for _, name := range []string{"exc_double_fault", "asm_exc_double_fault", "handle_stack_overflow", "do_one_initcall"} {
		s, ok := found[name]
		if !ok || elf.ST_TYPE(s.Info) != elf.STT_FUNC || s.Section != elf.SectionIndex(indexOf(ef, ".text")) || s.Value < text.Addr || s.Value >= text.Addr+text.Size {
			t.Errorf("%s: %+v (found %v)", name, s, ok)
		}
	}
	if s, ok := found["init_task"]; !ok || elf.ST_TYPE(s.Info) != elf.STT_OBJECT {
		t.Errorf("init_task: %+v %v", s, ok)
	}
	// The same state gives the same file.
	p2, data2, _ := l.SymbolFile()
	if p2 != p || !bytes.Equal(data, data2) {
		t.Error("a second SymbolFile differs")
	}
}

func indexOf(f *elf.File, name string) int {
	for i, s := range f.Sections {
		if s.Name == name {
			return i
		}
	}
	return -1
}

// fakeGuest is guest memory for the Linux model's bad-input tests: RAM,
// with linear addresses of the direct map translated to it.
type fakeGuest struct{ ram []byte }

func (g fakeGuest) phys(addr uint64, buf []byte) (int, error) {
	if addr >= uint64(len(g.ram)) {
		return 0, fmt.Errorf("physical %#x outside RAM", addr)
	}
	n := copy(buf, g.ram[addr:])
	if n < len(buf) {
		return n, fmt.Errorf("physical %#x outside RAM", addr+uint64(n))
	}
	return n, nil
}

func (g fakeGuest) linear(addr uint64, buf []byte) (int, error) {
	const directMap = 0xffff888000000000
	if addr < directMap {
		return 0, fmt.Errorf("linear %#x not mapped", addr)
	}
	return g.phys(addr-directMap, buf)
}

func (g fakeGuest) memory(instret uint64) Memory {
	return Memory{Read: g.linear, ReadPhys: g.phys, PhysSize: uint64(len(g.ram)), Instret: instret}
}

// TestLinuxBadGuest: what a kernel without VMCOREINFO, or with one that
// points at garbage, gets: a model that says what is missing, never a
// panic, and another look only after the machine has run.
func TestLinuxBadGuest(t *testing.T) {
	vmcoreinfo := func(lines string) []byte {
		ram := make([]byte, 4<<20)
		r := rand.New(rand.NewPCG(1, 2))
		for i := 1 << 20; i < 2<<20; i += 8 {
			binary.LittleEndian.PutUint64(ram[i:], r.Uint64())
		}
		copy(ram[2<<20:], "OSRELEASE=6.1.0-57-cloud-amd64\nPAGESIZE=4096\n"+lines)
		return ram
	}
	const names = "ffff888000100000"
	for _, c := range []struct {
		name string
		ram  []byte
		want string
	}{
		{"no VMCOREINFO", make([]byte, 4<<20), "no VMCOREINFO"},
		{"no kallsyms in VMCOREINFO", vmcoreinfo("SYMBOL(init_uts_ns)=ffffffff82a14f40\n"), "kallsyms"},
		{"kallsyms at garbage", vmcoreinfo("SYMBOL(kallsyms_names)=" + names + "\nSYMBOL(kallsyms_num_syms)=ffff888000100100\n" +
			"SYMBOL(kallsyms_token_table)=ffff888000180000\nSYMBOL(kallsyms_token_index)=ffff888000190000\n" +
			"SYMBOL(kallsyms_offsets)=ffff888000200000\nSYMBOL(kallsyms_relative_base)=ffff888000300000\n"), "kallsyms"},
		{"kallsyms outside RAM", vmcoreinfo("SYMBOL(kallsyms_names)=ffffffff82000000\nSYMBOL(kallsyms_num_syms)=ffffffff82000100\n" +
			"SYMBOL(kallsyms_token_table)=ffffffff82000200\nSYMBOL(kallsyms_token_index)=ffffffff82000300\n" +
			"SYMBOL(kallsyms_offsets)=ffffffff82000400\nSYMBOL(kallsyms_relative_base)=ffffffff82000500\n"), "kallsyms"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := NewLinux(nil)
			g := fakeGuest{c.ram}
			l.Sync(g.memory(100))
			err := l.TaskModel()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("TaskModel: %v, want an error with %q", err, c.want)
			}
			if _, err := l.Tasks(g.memory(100)); err == nil {
				t.Error("Tasks without a model")
			}
			if _, err := l.Unwind(g.memory(100), UnwindStart{}, 16); err == nil {
				t.Error("Unwind without a model")
			}
			if s, err := l.Stacks(g.memory(100)); err == nil || s != nil {
				t.Errorf("Stacks without a model: %v %v", s, err)
			}
			if _, _, err := l.SymbolFile(); err == nil {
				t.Error("a symbol file without symbols or an image")
			}
			// No progress, no second scan; progress, another one.
			scanned := 0
			counting := g.memory(100)
			counting.ReadPhys = func(a uint64, b []byte) (int, error) { scanned++; return g.phys(a, b) }
			l.Sync(counting)
			if scanned != 0 {
				t.Errorf("%d reads at the same instruction count", scanned)
			}
			counting.Instret = 200
			l.Sync(counting)
			if scanned == 0 {
				t.Error("no new look after the machine ran")
			}
		})
	}
}
