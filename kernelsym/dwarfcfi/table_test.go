package dwarfcfi

import (
	"debug/elf"
	"errors"
	"reflect"
	"strings"
	"testing"
)

const ehAddr = 0x200000 // where the test images load .eh_frame

func ehELF(cies []cieSpec, fdes []fdeSpec) []byte {
	return buildELF(textSection(0x1000, 0xff000),
		section{name: ".eh_frame", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC, addr: ehAddr, data: ehFrame(ehAddr, cies, fdes)})
}

// ehCIE is a CIE as gcc writes it in .eh_frame, with the augmentation
// and its data.
func ehCIE(aug string, augData []byte, fdeEnc byte) cieSpec {
	c := gccCIE()
	c.aug, c.augData, c.fdeEnc = aug, augData, fdeEnc
	return c
}

// TestLoadSections parses the CIE and FDE forms gcc, gas and old
// toolchains write, and checks each FDE's range, CIE fields and first
// row.
func TestLoadSections(t *testing.T) {
	prog := cat(opAdvance(1), opDefCFAOffset(16))
	pcrel := byte(dwEHPEPcrel | dwEHPESdata4)
	cases := []struct {
		name   string
		image  []byte
		pc     uint64
		start  uint64
		end    uint64
		signal bool
		sect   string
	}{
		{name: ".debug_frame, gcc's CIE", image: debugFrameELF([]cieSpec{gccCIE()},
			[]fdeSpec{{start: 0x1000, length: 0x20, prog: prog}}), pc: 0x1001, start: 0x1000, end: 0x1020, sect: ".debug_frame"},
		{name: ".debug_frame, gas's \"S\" CIE", image: debugFrameELF([]cieSpec{{aug: "S", codeAlign: 1, dataAlign: -8, ra: RIP,
			initial: cat(opDefCFA(RSP, 40), opOffset(RIP, 5), opOffset(RSP, 2))}},
			[]fdeSpec{{start: 0x2000, length: 9, prog: prog}}), pc: 0x2000, start: 0x2000, end: 0x2009, signal: true, sect: ".debug_frame"},
		{name: ".eh_frame zR pcrel|sdata4 (gcc)", image: ehELF([]cieSpec{ehCIE("zR", []byte{pcrel}, pcrel)},
			[]fdeSpec{{start: 0x3000, length: 0x40, prog: prog}}), pc: 0x3001, start: 0x3000, end: 0x3040, sect: ".eh_frame"},
		{name: ".eh_frame zRS", image: ehELF([]cieSpec{ehCIE("zRS", []byte{pcrel}, pcrel)},
			[]fdeSpec{{start: 0x3000, length: 0x40, prog: prog}}), pc: 0x3001, start: 0x3000, end: 0x3040, signal: true, sect: ".eh_frame"},
		{name: ".eh_frame zPLR (C++'s indirect personality, LSDA in the FDE)", image: ehELF([]cieSpec{ehCIE("zPLR",
			cat([]byte{0x80 | pcrel}, le32(0x1234), []byte{dwEHPEUdata4, dwEHPEUdata4}), dwEHPEUdata4)},
			[]fdeSpec{{start: 0x4000, length: 0x10, augData: le32(0x5678), prog: prog}}), pc: 0x4001, start: 0x4000, end: 0x4010, sect: ".eh_frame"},
		{name: ".eh_frame z with absptr FDEs", image: ehELF([]cieSpec{ehCIE("z", nil, dwEHPEAbsptr)},
			[]fdeSpec{{start: 0x5000, length: 0x10, prog: prog}}), pc: 0x5001, start: 0x5000, end: 0x5010, sect: ".eh_frame"},
		{name: ".eh_frame zRX: an unknown letter ends the augmentation", image: ehELF([]cieSpec{ehCIE("zRX", []byte{pcrel, 0xaa}, pcrel)},
			[]fdeSpec{{start: 0x6000, length: 0x10, prog: prog}}), pc: 0x6001, start: 0x6000, end: 0x6010, sect: ".eh_frame"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tab, err := Load(tc.image)
			if err != nil {
				t.Fatal(err)
			}
			f := tab.Find(tc.pc)
			if f == nil {
				t.Fatalf("no FDE for %#x in %v", tc.pc, tab.FDEs())
			}
			if f.Start != tc.start || f.End != tc.end || f.CIE.Signal != tc.signal || f.CIE.Section != tc.sect {
				t.Errorf("FDE %#x..%#x signal %v in %s, want %#x..%#x signal %v in %s",
					f.Start, f.End, f.CIE.Signal, f.CIE.Section, tc.start, tc.end, tc.signal, tc.sect)
			}
			if f.CIE.CodeAlign != 1 || f.CIE.DataAlign != -8 || f.CIE.RAColumn != RIP {
				t.Errorf("CIE %+v", f.CIE)
			}
			row, err := f.Row(tc.pc)
			if err != nil {
				t.Fatal(err)
			}
			if tc.pc > tc.start && !reflect.DeepEqual(row.CFA, cfaReg(RSP, 16)) {
				t.Errorf("row at %#x: CFA %+v, want rsp+16", tc.pc, row.CFA)
			}
			if tab.Find(tc.start-1) != nil || tab.Find(tc.end) != nil {
				t.Errorf("an FDE outside %#x..%#x", tc.start, tc.end)
			}
		})
	}
}

// TestLoadMerge: .eh_frame and .debug_frame together, the .eh_frame FDE
// winning where both start at one address; an FDE at 0 (a function the
// linker discarded) dropped; zero-length FDEs dropped; .debug_frame
// padding skipped.
func TestLoadMerge(t *testing.T) {
	pcrel := byte(dwEHPEPcrel | dwEHPESdata4)
	eh := ehFrame(ehAddr, []cieSpec{ehCIE("zR", []byte{pcrel}, pcrel)},
		[]fdeSpec{{start: 0x1000, length: 0x10, prog: opDefCFAOffset(32)}})
	df := debugFrame([]cieSpec{gccCIE()}, []fdeSpec{{start: 0x1000, length: 0x10}, {start: 0x2000, length: 0x10},
		{start: 0, length: 0x10}, {start: 0x3000, length: 0}})
	df = append(df, 0, 0, 0, 0) // a zero length: padding
	tab, err := Load(buildELF(textSection(0x1000, 0xff000),
		section{name: ".eh_frame", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC, addr: ehAddr, data: eh},
		section{name: ".debug_frame", typ: elf.SHT_PROGBITS, data: df}))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range tab.FDEs() {
		got = append(got, f.String())
	}
	want := []string{"FDE at pc 0x1000..0x1010 (.eh_frame+0x18)", "FDE at pc 0x2000..0x2010 (.debug_frame+0x30)"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("FDEs %q, want %q", got, want)
	}
	if tab.Find(0) != nil || tab.Find(0x3000) != nil {
		t.Error("found a dropped FDE")
	}
}

// TestLoadErrors: malformed sections fail Load with an error that says
// where.
func TestLoadErrors(t *testing.T) {
	good := debugFrame([]cieSpec{gccCIE()}, []fdeSpec{{start: 0x1000, length: 0x10}})
	df := func(b []byte) []byte {
		return buildELF(textSection(0x1000, 0xff000), section{name: ".debug_frame", typ: elf.SHT_PROGBITS, data: b})
	}
	patch := func(off int, b ...byte) []byte {
		out := append([]byte(nil), good...)
		copy(out[off:], b)
		return df(out)
	}
	cases := []struct {
		name  string
		image []byte
		want  string
	}{
		{"no frame sections", buildELF(textSection(0x1000, 0x1000)), "no .debug_frame or .eh_frame section"},
		{"not x86-64", func() []byte { b := df(good); b[18] = byte(elf.EM_AARCH64); return b }(), "only x86-64"},
		{"not ELF", []byte("hello"), "dwarfcfi: read ELF"},
		{"CIE version 2", patch(8, 2), ".debug_frame+0x0: CIE: version 2 (want 1, 3 or 4)"},
		{"augmentation L without z", df(debugFrame([]cieSpec{{aug: "L", codeAlign: 1, dataAlign: -8, ra: RIP}},
			[]fdeSpec{{start: 0x1000, length: 0x10}})), `CIE: augmentation "L": 'L' without 'z' is not understood`},
		{"entry past the end", patch(0, 0xff, 0, 0, 0), ".debug_frame+0x0: entry length 0xff runs past the section's end"},
		{"reserved length", patch(0, 0xf0, 0xff, 0xff, 0xff), ".debug_frame+0x0: reserved initial length 0xfffffff0"},
		{"CIE pointer outside", patch(len(good)-20, 0, 1), ".debug_frame+0x18: FDE's CIE pointer 0x100 is outside the section"},
		{"CIE pointer at an FDE", patch(len(good)-20, 0x18), ".debug_frame+0x18: FDE's CIE pointer 0x18 does not point at a CIE"},
		{"truncated FDE", df(good[:len(good)-4]), ".debug_frame+0x18: entry length"},
		{"FDE range wraps", patch(len(good)-8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), "FDE range 0x1000+0xffffffffffffffff wraps around"},
		{"indirect FDE pointer", ehELF([]cieSpec{ehCIE("zR", []byte{0x80 | dwEHPEUdata4}, dwEHPEUdata4)},
			[]fdeSpec{{start: 0x1000, length: 0x10}}), ".eh_frame+0x18: FDE address: indirect pointer encoding 0x83 is not supported"},
		{"datarel FDE pointer", ehELF([]cieSpec{ehCIE("zR", []byte{0x30 | dwEHPEUdata4}, dwEHPEUdata4)},
			[]fdeSpec{{start: 0x1000, length: 0x10}}), "only absolute and pc-relative pointers are supported"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tab, err := Load(tc.image)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load: %v, %v; want an error containing %q", tab, err, tc.want)
			}
		})
	}
	if _, err := Load(buildELF(textSection(0x1000, 0x1000))); !errors.Is(err, ErrNoFrameInfo) {
		t.Errorf("no frame sections: %v is not ErrNoFrameInfo", err)
	}
}

// TestEHSetLoc: DW_CFA_set_loc's operand has the FDE pointer encoding,
// pc-relative to the operand itself in .eh_frame.
func TestEHSetLoc(t *testing.T) {
	pcrel := byte(dwEHPEPcrel | dwEHPESdata4)
	// The FDE is the second entry (the CIE takes 0x18 bytes); its
	// program starts after the length, CIE pointer, address, range and
	// augmentation length: the set_loc operand is 1 byte further.
	operand := uint64(ehAddr + 0x18 + 4 + 4 + 4 + 4 + 1 + 1)
	prog := cat([]byte{cfaSetLoc}, le32(uint32(0x1040-operand)), opDefCFAOffset(16))
	tab, err := Load(ehELF([]cieSpec{ehCIE("zR", []byte{pcrel}, pcrel)}, []fdeSpec{{start: 0x1000, length: 0x100, prog: prog}}))
	if err != nil {
		t.Fatal(err)
	}
	for pc, want := range map[uint64]int64{0x103f: 8, 0x1040: 16} {
		row, err := tab.Find(pc).Row(pc)
		if err != nil || row.CFA.Offset != want {
			t.Errorf("row at %#x: CFA %+v, %v; want rsp+%d", pc, row.CFA, err, want)
		}
	}
}
