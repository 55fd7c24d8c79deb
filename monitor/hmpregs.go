package monitor

import (
	"fmt"
	"io"
	"strings"

	"vmapstack/target/cpu"
	"vmapstack/target/x86"
)

// infoRegisters prints the CPU as QEMU 7.2's hmp_info_registers does
// ("\nCPU#0\n", then x86_cpu_dump_state of target/i386/cpu-dump.c with
// CPU_DUMP_FPU): 64-bit registers, bases and 16 XMM registers when CS is
// a 64-bit code segment, 32-bit ones and 8 XMM registers otherwise; the
// descriptor table and control register lines follow EFER.LMA. Fields this machine does not model are
// printed with the value QEMU shows for them on this machine: II=0 (no
// interrupt shadow is kept across a stop), A20=1, SMM=0, DR0-3 zero,
// DR6/DR7 at their reset values (the debugger's breakpoints and
// watchpoints do not use the debug registers).
func (mon *Monitor) infoRegisters(out io.Writer) error {
	st := mon.state()
	var b strings.Builder
	b.WriteString("\nCPU#0\n")
	g := st.GPR
	fl := st.RFLAGS
	lma := st.EFER&x86.EFERLMA != 0
	pe := st.CR0&x86.CR0PE != 0
	cs64 := lma && st.Seg[cpu.CS].Attr&0x2000 != 0 // QEMU's HF_CS64_MASK
	bit := func(n uint, c byte) byte {
		if fl&(1<<n) != 0 {
			return c
		}
		return '-'
	}
	halted := 0
	if mon.cpu().Halted() {
		halted = 1
	}
	flags := fmt.Sprintf("[%c%c%c%c%c%c%c] CPL=%d II=0 A20=1 SMM=0 HLT=%d\n",
		bit(10, 'D'), bit(11, 'O'), bit(7, 'S'), bit(6, 'Z'), bit(4, 'A'), bit(2, 'P'), bit(0, 'C'),
		st.Seg[cpu.CS].Sel&3, halted)
	if cs64 {
		fmt.Fprintf(&b, "RAX=%016x RBX=%016x RCX=%016x RDX=%016x\n", g[cpu.RAX], g[cpu.RBX], g[cpu.RCX], g[cpu.RDX])
		fmt.Fprintf(&b, "RSI=%016x RDI=%016x RBP=%016x RSP=%016x\n", g[cpu.RSI], g[cpu.RDI], g[cpu.RBP], g[cpu.RSP])
		fmt.Fprintf(&b, "R8 =%016x R9 =%016x R10=%016x R11=%016x\n", g[8], g[9], g[10], g[11])
		fmt.Fprintf(&b, "R12=%016x R13=%016x R14=%016x R15=%016x\n", g[12], g[13], g[14], g[15])
		fmt.Fprintf(&b, "RIP=%016x RFL=%08x %s", st.RIP, uint32(fl), flags)
	} else {
		fmt.Fprintf(&b, "EAX=%08x EBX=%08x ECX=%08x EDX=%08x\n", uint32(g[cpu.RAX]), uint32(g[cpu.RBX]), uint32(g[cpu.RCX]), uint32(g[cpu.RDX]))
		fmt.Fprintf(&b, "ESI=%08x EDI=%08x EBP=%08x ESP=%08x\n", uint32(g[cpu.RSI]), uint32(g[cpu.RDI]), uint32(g[cpu.RBP]), uint32(g[cpu.RSP]))
		fmt.Fprintf(&b, "EIP=%08x EFL=%08x %s", uint32(st.RIP), uint32(fl), flags)
	}
	for i, name := range []string{"ES", "CS", "SS", "DS", "FS", "GS"} {
		b.WriteString(segLine(name, st.Seg[i], lma, pe, cs64))
	}
	b.WriteString(segLine("LDT", st.LDTR, lma, pe, cs64))
	b.WriteString(segLine("TR", st.TR, lma, pe, cs64))
	if lma {
		fmt.Fprintf(&b, "GDT=     %016x %08x\n", st.GDTR.Base, st.GDTR.Limit)
		fmt.Fprintf(&b, "IDT=     %016x %08x\n", st.IDTR.Base, st.IDTR.Limit)
		fmt.Fprintf(&b, "CR0=%08x CR2=%016x CR3=%016x CR4=%08x\n", uint32(st.CR0), st.CR2, st.CR3, uint32(st.CR4))
	} else {
		fmt.Fprintf(&b, "GDT=     %08x %08x\n", uint32(st.GDTR.Base), st.GDTR.Limit)
		fmt.Fprintf(&b, "IDT=     %08x %08x\n", uint32(st.IDTR.Base), st.IDTR.Limit)
		fmt.Fprintf(&b, "CR0=%08x CR2=%08x CR3=%08x CR4=%08x\n", uint32(st.CR0), uint32(st.CR2), uint32(st.CR3), uint32(st.CR4))
	}
	for i := 0; i < 4; i++ {
		fmt.Fprintf(&b, "DR%d=%016x ", i, 0)
	}
	fmt.Fprintf(&b, "\nDR6=%016x DR7=%016x\n", 0xffff0ff0, 0x400)
	fmt.Fprintf(&b, "EFER=%016x\n", st.EFER)

	// FPU: FSW with TOP in bits 13:11, FTW abridged (bit i: physical
	// register i not empty), FPRi by physical register, mantissa then
	// sign/exponent.
	top := int(st.FSTAT>>11) & 7
	ftw := 0
	for i := 0; i < 8; i++ {
		if st.FTAG>>(2*i)&3 != 3 {
			ftw |= 1 << i
		}
	}
	fmt.Fprintf(&b, "FCW=%04x FSW=%04x [ST=%d] FTW=%02x MXCSR=%08x\n", st.FCTRL&0xffff, st.FSTAT&0xffff, top, ftw, st.MXCSR)
	for i := 0; i < 8; i++ {
		r := st.ST[(i-top+8)&7] // ST(j) is physical register (top+j)&7
		var lo uint64
		for j := 7; j >= 0; j-- {
			lo = lo<<8 | uint64(r[j])
		}
		sep := " "
		if i&1 == 1 {
			sep = "\n"
		}
		fmt.Fprintf(&b, "FPR%d=%016x %04x%s", i, lo, uint16(r[8])|uint16(r[9])<<8, sep)
	}
	nxmm := 8
	if cs64 {
		nxmm = 16
	}
	for i := 0; i < nxmm; i++ {
		x := st.XMM[i]
		var lo, hi uint64
		for j := 7; j >= 0; j-- {
			lo = lo<<8 | uint64(x[j])
			hi = hi<<8 | uint64(x[8+j])
		}
		sep := " "
		if i&1 == 1 {
			sep = "\n"
		}
		fmt.Fprintf(&b, "XMM%02d=%016x %016x%s", i, hi, lo, sep)
	}
	_, err := io.WriteString(out, b.String())
	return err
}

// segLine is QEMU's cpu_x86_dump_seg_cache: selector, base (64 bits
// wide when CS is 64-bit code, else 32), limit, the descriptor's high dword bits 23:8 (QEMU's
// segment cache flags: type, S, DPL, P, limit 19:16, AVL, L, D/B, G),
// then for a present segment in protected mode its DPL and kind.
func segLine(name string, s cpu.Seg, lma, pe, cs64 bool) string {
	a := uint32(s.Attr)
	raw := s.Limit
	if a&0x8000 != 0 { // G: the descriptor holds the limit in 4K units
		raw >>= 12
	}
	flags := (a&0xff)<<8 | (raw>>16&0xf)<<16 | (a>>12&0xf)<<20
	var line string
	if cs64 {
		line = fmt.Sprintf("%-3s=%04x %016x %08x %08x", name, s.Sel, s.Base, s.Limit, flags)
	} else {
		line = fmt.Sprintf("%-3s=%04x %08x %08x %08x", name, s.Sel, uint32(s.Base), s.Limit, flags)
	}
	if !pe || a&0x80 == 0 {
		return line + "\n"
	}
	line += fmt.Sprintf(" DPL=%d ", a>>5&3)
	typ := a & 0xf
	pick := func(n uint32, c byte) byte {
		if typ&n != 0 {
			return c
		}
		return '-'
	}
	if a&0x10 != 0 {
		if typ&8 != 0 {
			switch {
			case a&0x2000 != 0:
				line += "CS64"
			case a&0x4000 != 0:
				line += "CS32"
			default:
				line += "CS16"
			}
			line += fmt.Sprintf(" [%c%c", pick(4, 'C'), pick(2, 'R'))
		} else {
			if a&0x4000 != 0 || lma {
				line += "DS  "
			} else {
				line += "DS16"
			}
			line += fmt.Sprintf(" [%c%c", pick(4, 'E'), pick(2, 'W'))
		}
		line += fmt.Sprintf("%c]", pick(1, 'A'))
		return line + "\n"
	}
	names32 := [16]string{"Reserved", "TSS16-avl", "LDT", "TSS16-busy", "CallGate16", "TaskGate", "IntGate16", "TrapGate16",
		"Reserved", "TSS32-avl", "Reserved", "TSS32-busy", "CallGate32", "Reserved", "IntGate32", "TrapGate32"}
	names64 := [16]string{"<hiword>", "Reserved", "LDT", "Reserved", "Reserved", "Reserved", "Reserved", "Reserved",
		"Reserved", "TSS64-avl", "Reserved", "TSS64-busy", "CallGate64", "Reserved", "IntGate64", "TrapGate64"}
	if lma {
		return line + names64[typ] + "\n"
	}
	return line + names32[typ] + "\n"
}
