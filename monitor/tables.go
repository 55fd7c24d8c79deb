package monitor

import (
	"encoding/binary"
	"fmt"
	"io"

	"vmapstack/target"
	"vmapstack/target/x86"
)

// readTable reads a descriptor table (IDT, GDT) at a linear base; limit
// is the DTR's (last valid byte offset).
func (mon *Monitor) readTable(what string, base uint64, limit uint16) ([]byte, error) {
	b := make([]byte, int(limit)+1)
	n, err := mon.cpu().ReadLinear(base, b)
	if err != nil {
		return nil, fmt.Errorf("%s: read %d bytes at %s: %w", what, len(b), hex16(base), err)
	}
	return b[:n], nil
}

var gateTypes = map[uint8]string{0xe: "interrupt gate", 0xf: "trap gate", 0xc: "call gate"}

func (mon *Monitor) cmdIDT(args []string, out io.Writer) error {
	if err := tooMany("idt", args, 0); err != nil {
		return err
	}
	st := mon.state()
	if st.EFER&x86.EFERLMA == 0 {
		return fmt.Errorf("idt: the CPU is not in long mode (EFER.LMA=0); IDTR base %s limit %#x (only 64-bit gates are decoded)", hex16(st.IDTR.Base), st.IDTR.Limit)
	}
	if st.IDTR.Limit < 15 {
		return fmt.Errorf("idt: IDTR limit %#x holds no 16-byte gate (base %s)", st.IDTR.Limit, hex16(st.IDTR.Base))
	}
	b, err := mon.readTable("idt", st.IDTR.Base, st.IDTR.Limit)
	if err != nil {
		return err
	}
	n := len(b) / 16
	fmt.Fprintf(out, "IDTR base %s limit %#x (%d gates)\n", hex16(st.IDTR.Base), st.IDTR.Limit, n)
	fmt.Fprintf(out, "%-4s %-5s %-8s %-18s  %-14s %-3s %-3s %s\n", "vec", "name", "selector", "target", "type", "DPL", "IST", "symbol")
	absent := 0
	for v := 0; v < n; v++ {
		g := b[16*v : 16*v+16]
		attr := g[5]
		if attr&0x80 == 0 {
			absent++
			continue
		}
		off := uint64(binary.LittleEndian.Uint16(g[0:])) | uint64(binary.LittleEndian.Uint16(g[6:]))<<16 |
			uint64(binary.LittleEndian.Uint32(g[8:]))<<32
		sel := binary.LittleEndian.Uint16(g[2:])
		ist := g[4] & 7
		typ, ok := gateTypes[attr&0xf]
		if !ok {
			typ = fmt.Sprintf("type %#x?", attr&0xf)
		}
		istS := "-"
		if ist != 0 {
			istS = fmt.Sprint(ist)
		}
		sym := mon.k.Describe(off)
		name := "-"
		if v < 32 {
			name = target.VectorName(uint8(v))
			if name[0] == 'v' { // "vector 0x0f": reserved
				name = "-"
			}
		}
		fmt.Fprintf(out, "%-4d %-5s 0x%04x   %s  %-14s %-3d %-3s %s\n", v, name, sel, hex16(off), typ, attr>>5&3, istS, sym)
	}
	if absent > 0 {
		fmt.Fprintf(out, "%d gates not present\n", absent)
	}
	return nil
}

// describeSeg decodes the type of a code/data or system descriptor (SDM
// Vol. 3A 3.4.5.1, 3.5).
func describeSeg(lo uint64) (typ string, system bool) {
	t := lo >> 40 & 0xf
	if lo>>44&1 == 0 {
		switch t {
		case 0x2:
			return "LDT", true
		case 0x9:
			return "TSS (available)", true
		case 0xb:
			return "TSS (busy)", true
		case 0xc:
			return "call gate", true
		}
		return fmt.Sprintf("system type %#x", t), true
	}
	if t&8 != 0 {
		mode := "16-bit"
		switch {
		case lo>>53&1 != 0:
			mode = "64-bit"
		case lo>>54&1 != 0:
			mode = "32-bit"
		}
		s := "code " + mode
		if t&2 != 0 {
			s += " readable"
		}
		if t&4 != 0 {
			s += " conforming"
		}
		return s, false
	}
	s := "data"
	if t&2 != 0 {
		s += " writable"
	} else {
		s += " read-only"
	}
	if t&4 != 0 {
		s += " expand-down"
	}
	return s, false
}

func (mon *Monitor) cmdGDT(args []string, out io.Writer) error {
	if err := tooMany("gdt", args, 0); err != nil {
		return err
	}
	st := mon.state()
	if st.GDTR.Limit < 7 {
		return fmt.Errorf("gdt: GDTR limit %#x holds no descriptor (base %s)", st.GDTR.Limit, hex16(st.GDTR.Base))
	}
	b, err := mon.readTable("gdt", st.GDTR.Base, st.GDTR.Limit)
	if err != nil {
		return err
	}
	long := st.EFER&x86.EFERLMA != 0
	fmt.Fprintf(out, "GDTR base %s limit %#x (%d slots)\n", hex16(st.GDTR.Base), st.GDTR.Limit, len(b)/8)
	fmt.Fprintf(out, "%-3s %-6s %-24s %-18s %-10s %-3s %s\n", "idx", "sel", "type", "base", "limit", "DPL", "flags")
	for i := 0; i+8 <= len(b); i += 8 {
		lo := binary.LittleEndian.Uint64(b[i:])
		idx := i / 8
		if lo == 0 {
			fmt.Fprintf(out, "%-3d 0x%04x null\n", idx, i)
			continue
		}
		typ, system := describeSeg(lo)
		base := lo>>16&0xffffff | lo>>56<<24
		limit := lo&0xffff | lo>>48&0xf<<16
		if lo>>55&1 != 0 {
			limit = limit<<12 | 0xfff // G: 4K granular
		}
		wide := system && long && (typ == "LDT" || typ[:3] == "TSS" || typ == "call gate")
		if wide && i+16 <= len(b) {
			// 16-byte system descriptor in long mode (SDM Vol. 3A 8.2.3):
			// bits 95:64 hold base 63:32.
			base |= uint64(binary.LittleEndian.Uint32(b[i+8:])) << 32
		}
		var flags []string
		for _, f := range []struct {
			bit  uint
			name string
		}{{47, "P"}, {40, "A"}, {53, "L"}, {54, "D/B"}, {55, "G"}} {
			if f.bit == 40 && system {
				continue
			}
			if lo>>f.bit&1 != 0 {
				flags = append(flags, f.name)
			}
		}
		fmt.Fprintf(out, "%-3d 0x%04x %-24s %s %#-10x %-3d %s\n", idx, i, typ, hex16(base), limit, lo>>45&3, join(flags))
		if wide {
			i += 8
		}
	}
	return nil
}

func join(w []string) string {
	if len(w) == 0 {
		return "-"
	}
	s := w[0]
	for _, x := range w[1:] {
		s += " " + x
	}
	return s
}

func (mon *Monitor) cmdTSS(args []string, out io.Writer) error {
	if err := tooMany("tss", args, 0); err != nil {
		return err
	}
	st := mon.state()
	if st.TR.Sel == 0 {
		return fmt.Errorf("tss: no TSS loaded (TR selector 0: LTR has not run)")
	}
	const size = 104 // the 64-bit TSS (SDM Vol. 3A 8.7, Figure 8-11)
	if st.TR.Limit+1 < size {
		return fmt.Errorf("tss: TR limit %#x is below the 64-bit TSS size %#x", st.TR.Limit, size)
	}
	b := make([]byte, size)
	if _, err := mon.cpu().ReadLinear(st.TR.Base, b); err != nil {
		return fmt.Errorf("tss: read %d bytes at %s: %w", size, hex16(st.TR.Base), err)
	}
	fmt.Fprintf(out, "TR selector %#04x base %s limit %#x\n", st.TR.Sel, hex16(st.TR.Base), st.TR.Limit)
	stacks, _ := mon.k.Stacks(mon.memory())
	show := func(name string, v uint64) {
		if v == 0 {
			fmt.Fprintf(out, "%-5s %s\n", name, hex16(0))
			return
		}
		w := mon.where(v)
		if s, off, ok := mon.k.Symbolize(v - 1); ok && s.Size != 0 && off+1 == s.Size {
			// Stack pointers point one past their stack.
			w = "<end of " + s.Name + ">"
		}
		for _, s := range stacks {
			if v == s.End {
				// Linux's IST entries point at the top of its exception
				// stacks in cpu_entry_area (cea_exception_stacks).
				w = fmt.Sprintf("top of the %s stack (%s-%s, guard page below)", s.Name, hex16(s.Begin), hex16(s.End))
			}
		}
		if w != "" {
			w = "  " + w
		}
		fmt.Fprintf(out, "%-5s %s%s\n", name, hex16(v), w)
	}
	for i := 0; i < 3; i++ {
		show(fmt.Sprintf("RSP%d", i), binary.LittleEndian.Uint64(b[4+8*i:]))
	}
	for i := 1; i <= 7; i++ {
		show(fmt.Sprintf("IST%d", i), binary.LittleEndian.Uint64(b[0x24+8*(i-1):]))
	}
	fmt.Fprintf(out, "%-5s %#x\n", "IOPB", binary.LittleEndian.Uint16(b[0x66:]))
	return nil
}

var (
	cr0Bits = []bitName{{0, "PE"}, {1, "MP"}, {2, "EM"}, {3, "TS"}, {4, "ET"}, {5, "NE"}, {16, "WP"}, {18, "AM"},
		{29, "NW"}, {30, "CD"}, {31, "PG"}}
	cr4Bits = []bitName{{0, "VME"}, {1, "PVI"}, {2, "TSD"}, {3, "DE"}, {4, "PSE"}, {5, "PAE"}, {6, "MCE"}, {7, "PGE"},
		{8, "PCE"}, {9, "OSFXSR"}, {10, "OSXMMEXCPT"}, {11, "UMIP"}, {12, "LA57"}, {13, "VMXE"}, {14, "SMXE"},
		{16, "FSGSBASE"}, {17, "PCIDE"}, {18, "OSXSAVE"}, {20, "SMEP"}, {21, "SMAP"}, {22, "PKE"}}
	eferBits = []bitName{{0, "SCE"}, {8, "LME"}, {10, "LMA"}, {11, "NXE"}, {12, "SVME"}, {13, "LMSLE"}, {14, "FFXSR"}, {15, "TCE"}}
	cr3Bits  = []bitName{{3, "PWT"}, {4, "PCD"}}
)

func (mon *Monitor) cmdCregs(args []string, out io.Writer) error {
	if err := tooMany("cregs", args, 0); err != nil {
		return err
	}
	st := mon.state()
	keyValue(out, "CR0", hex16(st.CR0)+"  "+flagWords(st.CR0, cr0Bits))
	keyValue(out, "CR2", hex16(st.CR2)+"  page-fault linear address")
	cr3 := fmt.Sprintf("PML4 at %#x", st.CR3&0x000ffffffffff000)
	if f := flagWords(st.CR3, cr3Bits); f != "-" {
		cr3 += ", " + f
	}
	keyValue(out, "CR3", hex16(st.CR3)+"  "+cr3)
	keyValue(out, "CR4", hex16(st.CR4)+"  "+flagWords(st.CR4, cr4Bits))
	keyValue(out, "CR8", fmt.Sprintf("%s  TPR %d", hex16(st.CR8), st.CR8&0xf))
	keyValue(out, "EFER", hex16(st.EFER)+"  "+flagWords(st.EFER, eferBits))
	return nil
}
