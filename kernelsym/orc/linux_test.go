package orc

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"testing"
	"time"

	"golang.org/x/arch/x86/x86asm"

	"vmapstack/internal/linuxtest"
)

// The tests below read the ORC tables of Debian's 6.1 kernel, the one the
// machine boots (internal/debian fetches it; it is never committed). The
// vmlinux inside its bzImage has section headers but no symbols: the
// tests find functions by the kernel's exported-symbol table (__ksymtab)
// and entry_SYSCALL_64 by its first instructions.

// vmlinux61 returns the vmlinux inside Debian's kernel package
// (linuxtest.RequireVmlinux: unpacked once per test binary), or skips
// (fails with VMAPSTACK_REQUIRE_TOOLS=1) where the package cannot be had.
func vmlinux61(t *testing.T) *elf.File {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(linuxtest.RequireVmlinux(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func sectionData(t *testing.T, f *elf.File, name string) (*elf.Section, []byte) {
	t.Helper()
	s := f.Section(name)
	if s == nil {
		t.Fatalf("vmlinux has no %s section", name)
	}
	b, err := s.Data()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s, b
}

// kernelTable builds the vmlinux's table from its sections.
func kernelTable(t *testing.T, f *elf.File) (*Table, *elf.Section, []byte, []byte) {
	t.Helper()
	ipSec, ipData := sectionData(t, f, ".orc_unwind_ip")
	_, orcData := sectionData(t, f, ".orc_unwind")
	start := time.Now()
	tab, err := NewTable(ipSec.Addr, ipData, orcData)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d ORC entries (%d + %d bytes) decoded in %v", tab.Len(), len(ipData), len(orcData), time.Since(start))
	return tab, ipSec, ipData, orcData
}

// TestLinuxTables checks the whole kernel table: its size, that every ip
// is in the kernel's code, that the entries are 6.1's.
func TestLinuxTables(t *testing.T) {
	f := vmlinux61(t)
	tab, ipSec, ipData, orcData := kernelTable(t, f)
	if tab.Len() != len(ipData)/4 || tab.Len() != len(orcData)/EntrySize {
		t.Fatalf("%d entries for sections of %d and %d bytes", tab.Len(), len(ipData), len(orcData))
	}

	var text []*elf.Section
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_EXECINSTR != 0 {
			text = append(text, s)
		}
	}
	perSection := map[string]int{}
	types := map[Type]int{}
	var ends, prev uint64
	for i := range tab.Len() {
		ip, e := tab.At(i)
		if ip < prev {
			t.Fatalf("entry %d at %#x is below the one before, %#x", i, ip, prev)
		}
		prev = ip
		var in *elf.Section
		for _, s := range text {
			// objtool ends each section with a terminator at its end.
			if ip >= s.Addr && ip <= s.Addr+s.Size {
				in = s
			}
		}
		if in == nil {
			t.Fatalf("entry %d: ip %#x is in no code section", i, ip)
		}
		perSection[in.Name]++
		types[e.Type]++
		if e.End {
			ends++
			if e.SPReg != RegUndefined {
				t.Errorf("entry %d at %#x: end with sp %v", i, ip, e.SPReg)
			}
		}
		// 6.1's five padding bits are clear: a 6.4 table (type:3,
		// signal:1) would set them.
		if pad := orcData[i*EntrySize+5] >> 3; pad != 0 {
			t.Fatalf("entry %d at %#x: padding bits %#x set: not 6.1's struct orc_entry", i, ip, pad)
		}
	}
	t.Logf("entries per section: %v; types: %v; %d end entries", perSection, types, ends)
	if perSection[".text"] < tab.Len()*9/10 || perSection[".init.text"] == 0 {
		t.Errorf("entries per section: %v", perSection)
	}
	if types[TypeCall] < tab.Len()*9/10 || types[TypeRegs] == 0 || types[TypeRegsPartial] == 0 || types[3] != 0 || ends == 0 {
		t.Errorf("types %v, %d end entries", types, ends)
	}

	// What the kernel itself reads from memory is the same table.
	orcSec := f.Section(".orc_unwind")
	mem := memory{{ipSec.Addr, ipData}, {orcSec.Addr, orcData}}
	start := time.Now()
	loaded, err := LoadTable(mem.read, ipSec.Addr, orcSec.Addr, len(ipData)/4)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("LoadTable through Read: %v", time.Since(start))
	for _, i := range []int{0, 1, tab.Len() / 2, tab.Len() - 1} {
		ip1, e1 := tab.At(i)
		ip2, e2 := loaded.At(i)
		if ip1 != ip2 || e1 != e2 {
			t.Errorf("entry %d: %#x %v from the sections, %#x %v loaded", i, ip1, e1, ip2, e2)
		}
	}
}

// exportedFunctions reads the kernel's exported symbols (struct
// kernel_symbol with CONFIG_HAVE_ARCH_PREL32_RELOCATIONS: value_offset,
// name_offset, namespace_offset, each relative to its own address) and
// keeps those in .text.
func exportedFunctions(t *testing.T, f *elf.File) map[string]uint64 {
	strSec, strs := sectionData(t, f, "__ksymtab_strings")
	textSec := f.Section(".text")
	out := map[string]uint64{}
	for _, name := range []string{"__ksymtab", "__ksymtab_gpl"} {
		sec, b := sectionData(t, f, name)
		for off := 0; off+12 <= len(b); off += 12 {
			at := sec.Addr + uint64(off)
			value := at + uint64(int64(int32(binary.LittleEndian.Uint32(b[off:]))))
			nameAt := at + 4 + uint64(int64(int32(binary.LittleEndian.Uint32(b[off+4:]))))
			if nameAt < strSec.Addr || nameAt >= strSec.Addr+uint64(len(strs)) {
				t.Fatalf("%s entry %d: name at %#x is outside __ksymtab_strings", name, off/12, nameAt)
			}
			s := strs[nameAt-strSec.Addr:]
			s = s[:bytes.IndexByte(s, 0)]
			if value >= textSec.Addr && value < textSec.Addr+textSec.Size {
				out[string(s)] = value
			}
		}
	}
	return out
}

// TestLinuxFunctionEntries: at a C function's first instruction the
// return address is at SP (sp:sp+8, type call, BP untouched). Exported
// functions are named by __ksymtab; a few are hand-written asm (the
// retpoline thunks start with UNWIND_HINT_EMPTY).
func TestLinuxFunctionEntries(t *testing.T) {
	f := vmlinux61(t)
	tab, _, _, _ := kernelTable(t, f)
	funcs := exportedFunctions(t, f)
	if len(funcs) < 5000 {
		t.Fatalf("%d exported functions in .text", len(funcs))
	}
	entry := Entry{SPOffset: 8, SPReg: RegSP, Type: TypeCall}
	good, starts := 0, 0
	for _, addr := range funcs {
		if e, ok := tab.Find(addr); ok && e == entry {
			good++
		}
		if i, ok := tab.Index(addr); ok {
			if ip, _ := tab.At(i); ip == addr {
				starts++
			}
		}
	}
	t.Logf("%d exported functions: %d with the function-entry ORC state, %d with an entry starting there", len(funcs), good, starts)
	if good < len(funcs)*95/100 {
		t.Errorf("only %d of %d exported functions start with %v", good, len(funcs), entry)
	}
	// Some well-known functions have an entry of their own; dump_stack
	// (unaligned, right after the previous function's last instruction,
	// its jump to the return thunk) shares that instruction's entry, in
	// the same state.
	for _, tc := range []struct {
		name string
		own  bool
	}{{"schedule", true}, {"memcpy", true}, {"kfree", true}, {"mutex_lock", true}, {"kmalloc_trace", true}, {"dump_stack", false}} {
		addr, ok := funcs[tc.name]
		if !ok {
			t.Errorf("%s is not exported", tc.name)
			continue
		}
		i, ok := tab.Index(addr)
		ip, e := tab.At(i)
		if !ok || e != entry || tc.own && ip != addr {
			t.Errorf("%s at %#x: entry at %#x is %v, want %v (own entry: %v)", tc.name, addr, ip, e, entry, tc.own)
		}
	}
}

// entrySyscall64 finds entry_SYSCALL_64 by its first instructions:
// swapgs; mov %rsp, %gs:… (arch/x86/entry/entry_64.S).
func entrySyscall64(t *testing.T, f *elf.File) uint64 {
	textSec, text := sectionData(t, f, ".text")
	pat := []byte{0x0f, 0x01, 0xf8, 0x65, 0x48, 0x89, 0x24, 0x25}
	i := bytes.Index(text, pat)
	if i < 0 || bytes.Contains(text[i+1:], pat) {
		t.Fatal("entry_SYSCALL_64's first instructions (swapgs; mov %rsp to the per-CPU area) are not in .text once")
	}
	return textSec.Addr + uint64(i)
}

// firstCall decodes the code from pc on to its first CALL, which must be
// direct, and returns the return address and the callee.
func firstCall(t *testing.T, f *elf.File, pc uint64) (ret, callee uint64) {
	textSec, text := sectionData(t, f, ".text")
	start := pc
	for pc < start+0x200 {
		inst, err := x86asm.Decode(text[pc-textSec.Addr:], 64)
		if err != nil {
			t.Fatalf("decoding at %#x: %v", pc, err)
		}
		if inst.Op == x86asm.CALL {
			rel, ok := inst.Args[0].(x86asm.Rel)
			if !ok {
				t.Fatalf("call at %#x is not direct: %v", pc, inst)
			}
			ret = pc + uint64(inst.Len)
			return ret, ret + uint64(int64(rel))
		}
		pc += uint64(inst.Len)
	}
	t.Fatalf("no call in 0x200 bytes from %#x", start)
	return 0, 0
}

// TestLinuxSyscallEntry: entry_SYSCALL_64 starts with the end of the
// stack (UNWIND_HINT_EMPTY) and, once PUSH_AND_CLEAR_REGS has built the
// pt_regs, has a regs entry at SP; the return address of its call to
// do_syscall_64 leads the unwind through that pt_regs to user mode.
func TestLinuxSyscallEntry(t *testing.T) {
	f := vmlinux61(t)
	tab, _, _, _ := kernelTable(t, f)
	sysc := entrySyscall64(t, f)
	if e, ok := tab.Find(sysc); !ok || e != (Entry{End: true}) {
		t.Errorf("entry_SYSCALL_64 at %#x: %v, %v; want the end of the stack", sysc, e, ok)
	}
	i, _ := tab.Index(sysc)
	var regsAt uint64
	for ; i < tab.Len(); i++ {
		ip, e := tab.At(i)
		if ip >= sysc+0x100 {
			break
		}
		if e.Type == TypeRegs {
			if e != (Entry{SPReg: RegSP, Type: TypeRegs}) {
				t.Errorf("first regs entry at %#x is %v, want sp:sp+0", ip, e)
			}
			regsAt = ip
			break
		}
	}
	if regsAt == 0 {
		t.Fatalf("no regs entry in entry_SYSCALL_64's first 0x100 bytes")
	}

	// The first CALL after it is do_syscall_64's.
	ret, callee := firstCall(t, f, regsAt)
	t.Logf("entry_SYSCALL_64 at %#x, pt_regs complete at %#x, calls do_syscall_64 at %#x, returning to %#x", sysc, regsAt, callee, ret)
	if e, ok := tab.Find(callee); !ok || e != (Entry{SPOffset: 8, SPReg: RegSP, Type: TypeCall}) {
		t.Errorf("do_syscall_64 at %#x: %v", callee, e)
	}

	// A task stopped at do_syscall_64's first instruction: one call
	// frame, then the user registers.
	m := newMachine()
	const regsAddr = taskEnd - PtRegsSize
	user := Regs{IP: 0x7f0000001234, CS: userCS, Flags: 0x246, SP: 0x7ffc00001000, SS: userSS, BP: 0x7ffc00002000, OrigAX: 0}
	m.putRegs(regsAddr, user)
	m.put(regsAddr-8, ret)
	u := &Unwinder{Mem: m.mem().read, Tables: tab, Stacks: Stacks(nil, Stack{Begin: taskBegin, End: taskEnd, Kind: KindTask})}
	frames, err := u.Unwind(Regs{IP: callee, SP: regsAddr - 8, DI: regsAddr, CS: kernelCS})
	if err != nil {
		t.Fatal(err)
	}
	checkFrames(t, frames, []brief{
		{PC: callee, SP: regsAddr - 8, Exact: true, Kind: KindTask, Reliable: true},
		{PC: ret, SP: regsAddr, RetAddr: regsAddr - 8, Kind: KindTask, Reliable: true},
		{PC: user.IP, SP: user.SP, BP: user.BP, RetAddr: regsAddr + IretFrameOffset, Exact: true, Kind: KindTask, RegsAddr: regsAddr, Reliable: true},
	})

	// Stopped at entry_SYSCALL_64 itself, the stack ends at once.
	frames, err = u.UnwindFrom(sysc, regsAddr, 0, true)
	if err != nil || len(frames) != 1 {
		t.Errorf("from entry_SYSCALL_64: %d frames, %v", len(frames), err)
	}
}

// doubleFaultEntry finds asm_exc_double_fault through the kernel's own
// IDT description: the struct idt_data of def_idts (in .init.data) for
// vector 8, __KERNEL_CS, an interrupt gate on IST 1 (ISTG(X86_TRAP_DF,
// asm_exc_double_fault, IST_INDEX_DF)): vector, segment, the 16-bit
// idt_bits 0x8e01, then at offset 16 the handler's address.
func doubleFaultEntry(t *testing.T, f *elf.File) uint64 {
	sec, data := sectionData(t, f, ".init.data")
	pat := []byte{8, 0, 0, 0, 0x10, 0, 0, 0, 0x01, 0x8e}
	i := bytes.Index(data, pat)
	if i < 0 || i+24 > len(data) || bytes.Contains(data[i+1:], pat) {
		t.Fatalf("the #DF gate's idt_data is not in .init.data once")
	}
	addr := binary.LittleEndian.Uint64(data[i+16:])
	t.Logf("def_idts' #DF entry at %#x: asm_exc_double_fault at %#x", sec.Addr+uint64(i), addr)
	return addr
}

// TestLinuxDoubleFault unwinds from where the machine stops when it
// delivers a #DF (RIP at asm_exc_double_fault, RSP below the error code
// and IRET frame on the #DF IST stack) of a task that overflowed in
// do_syscall_64: the IRET frame leads to the task stack, then the
// syscall's pt_regs to user mode, all with the kernel's own entries.
func TestLinuxDoubleFault(t *testing.T) {
	f := vmlinux61(t)
	tab, _, _, _ := kernelTable(t, f)
	df := doubleFaultEntry(t, f)
	i, ok := tab.Index(df)
	ip, e := tab.At(i)
	if !ok || ip != df || e != (Entry{SPOffset: 8, SPReg: RegSP, Type: TypeRegsPartial}) {
		t.Fatalf("asm_exc_double_fault at %#x: entry at %#x is %v, want the IRET frame above an error code (sp:sp+8, regs (partial))", df, ip, e)
	}

	// do_syscall_64 and the return address into entry_SYSCALL_64.
	ret, callee := firstCall(t, f, entrySyscall64(t, f))

	m := newMachine()
	const regsAddr = taskEnd - PtRegsSize
	user := Regs{IP: 0x7f0000001234, CS: userCS, Flags: 0x246, SP: 0x7ffc00001000, SS: userSS}
	m.putRegs(regsAddr, user)
	m.put(regsAddr-8, ret)
	// The fault hit do_syscall_64's first instruction; the CPU pushed
	// the error code (0) and the IRET frame on IST 1.
	m.put(dfEnd-48, 0, callee, kernelCS, 0x10046, regsAddr-8, kernelSS)
	u := &Unwinder{Mem: m.mem().read, Tables: tab, Stacks: Stacks(m.mem().read,
		Stack{Begin: taskBegin, End: taskEnd, Kind: KindTask},
		Stack{Begin: dfBegin, End: dfEnd, Kind: KindDF})}
	frames, err := u.Unwind(Regs{IP: df, SP: dfEnd - 48, CS: kernelCS, SS: kernelSS})
	if err != nil {
		t.Fatal(err)
	}
	checkFrames(t, frames, []brief{
		{PC: df, SP: dfEnd - 48, Exact: true, Kind: KindDF, Reliable: true},
		{PC: callee, SP: regsAddr - 8, RetAddr: dfEnd - 40, Exact: true, Kind: KindTask, RegsAddr: dfEnd - 40 - IretFrameOffset, Partial: true, Reliable: true},
		{PC: ret, SP: regsAddr, RetAddr: regsAddr - 8, Kind: KindTask, Reliable: true},
		{PC: user.IP, SP: user.SP, RetAddr: regsAddr + IretFrameOffset, Exact: true, Kind: KindTask, RegsAddr: regsAddr, Reliable: true},
	})
	if n := frames[0].Stack.Next; n != regsAddr-8 {
		t.Errorf("#DF stack's Next = %#x, want the interrupted RSP", n)
	}
}
