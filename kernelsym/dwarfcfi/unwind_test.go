package dwarfcfi

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// The functions of the hand-made image the unwind tests walk.
const (
	fnLeaf    = 0x1000 // [0x1000,0x1010): no frame (CFA rsp+8 throughout)
	fnMid     = 0x1100 // [0x1100,0x1140): push rbx at +0
	fnTop     = 0x1200 // [0x1200,0x1240): a task's entry: RIP undefined
	fnStub    = 0x1300 // [0x1300,0x1310): exception stub, 'S', frame with error code
	fnEntry   = 0x1400 // [0x1400,0x1440): common entry, 'S', saves rbx, calls the handler at +0x1b
	fnDier    = 0x15f0 // [0x15f0,0x1600): ends with a call of a noreturn function
	fnNext    = 0x1600 // [0x1600,0x1610): the function after it
	fnFlat    = 0x1700 // [0x1700,0x1710): CFA = rsp (corrupt: not above the callee's)
	fnBad     = 0x1800 // [0x1800,0x1810): an unsupported op at +4
	fnRBPCFA  = 0x1900 // [0x1900,0x1910): CFA = rbp+16
	fnUndefBP = 0x1a00 // [0x1a00,0x1a10): says rbp is undefined in its caller
	fnExprCFA = 0x1b00 // [0x1b00,0x1b10): CFA = *(rsp+8), RA at CFA-8 by expression
	fnZero    = 0x1c00 // [0x1c00,0x1c10): RA rule unspecified
	noFDE     = 0x9000
)

// unwindImage is the image: gcc-style CIE for ordinary functions, gas's
// "S" CIEs (as kernelimg/src/entry.S) for the stub and the entry.
func unwindImage(t *testing.T) *Table {
	t.Helper()
	stubCIE := cieSpec{aug: "S", codeAlign: 1, dataAlign: -8, ra: RIP,
		initial: cat(opDefCFA(RSP, 48), opOffset(RIP, 5), opOffset(RSP, 2))}
	entryCIE := stubCIE
	entryCIE.initial = cat(opDefCFA(RSP, 56), opOffset(RIP, 5), opOffset(RSP, 2))
	rbpUndef := []byte{cfaUndefined, RBP}
	cies := []cieSpec{gccCIE(), stubCIE, entryCIE}
	fdes := []fdeSpec{
		{start: fnLeaf, length: 0x10},
		{start: fnMid, length: 0x40, prog: cat(opAdvance(1), opDefCFAOffset(16), opOffset(RBX, 2))},
		{start: fnTop, length: 0x40, prog: opUndefined(RIP)},
		{cie: 1, start: fnStub, length: 0x10, prog: cat(opAdvance(2), opDefCFAOffset(56))},
		{cie: 2, start: fnEntry, length: 0x40, prog: cat(opAdvance(8), opDefCFAOffset(64), opOffset(RBX, 8))},
		{start: fnDier, length: 0x10},
		{start: fnNext, length: 0x10},
		{start: fnFlat, length: 0x10, prog: opDefCFA(RSP, 0)},
		{start: fnBad, length: 0x10, prog: cat(opAdvance(4), []byte{0x2d})},
		{start: fnRBPCFA, length: 0x10, prog: opDefCFA(RBP, 16)},
		{start: fnUndefBP, length: 0x10, prog: rbpUndef},
		{start: fnExprCFA, length: 0x10, prog: cat(opBlock(cfaDefCFAExpression, []byte{opBreg0 + RSP, 8, opDeref}),
			[]byte{cfaExpression, RIP, 2, opLit0 + 8, opMinus})},
		{start: fnZero, length: 0x10, prog: []byte{cfaRestoreExtended, RIP}},
	}
	// fnZero must have no RA rule at all: give it a CIE without one.
	cies = append(cies, cieSpec{codeAlign: 1, dataAlign: -8, ra: RIP, initial: opDefCFA(RSP, 8)})
	fdes[len(fdes)-1].cie = len(cies) - 1
	tab, err := Load(debugFrameELF(cies, fdes))
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func startRegs(rip, rsp uint64) Regs {
	var r Regs
	for n := 0; n < NumRegs; n++ {
		r.R[n] = 0xa0 + uint64(n) // recognisable values that must survive as "same value"
	}
	r.R[RIP], r.R[RSP] = rip, rsp
	return r
}

// frameSummary is what the table below checks of each frame.
func frameSummary(f Frame) string {
	s := fmt.Sprintf("pc %#x lookup %#x cfa %#x sp %#x", f.PC, f.LookupPC, f.CFA, f.SP)
	if f.Signal {
		s += " signal"
	}
	if f.End != NotLast {
		s += " end: " + f.End.String()
	}
	return s
}

// TestUnwind walks hand-made stacks through the image above.
func TestUnwind(t *testing.T) {
	const (
		task = 0x10000 // a task stack
		ist  = 0x20000 // an exception stack, above it as the kernel's .bss is
	)
	cases := []struct {
		name    string
		start   Regs
		mem     fakeMem
		max     int
		want    []string
		check   func(t *testing.T, frames []Frame)
		wantErr string
		reason  Reason
	}{
		{name: "calls down to a task's entry",
			start: startRegs(fnLeaf+5, task),
			// leaf's RA; mid's saved rbx and RA.
			mem: fakeMem{task: words(fnMid+5, 0xb0b0, fnTop+0x10)},
			want: []string{
				"pc 0x1005 lookup 0x1005 cfa 0x10008 sp 0x10000",
				"pc 0x1105 lookup 0x1104 cfa 0x10018 sp 0x10008",
				"pc 0x1210 lookup 0x120f cfa 0x10020 sp 0x10018 end: return address undefined (outermost frame)",
			},
			check: func(t *testing.T, frames []Frame) {
				if rbx := frames[2].Regs; !rbx.Known(RBX) || rbx.R[RBX] != 0xb0b0 {
					t.Errorf("rbx in the entry's frame: %#x (known %v), want the saved 0xb0b0", rbx.R[RBX], rbx.Known(RBX))
				}
				if r := frames[1].Regs; r.R[RBX] != 0xa0+RBX || r.R[R12] != 0xa0+R12 || !r.Known(R12) {
					t.Errorf("mid's rbx/r12 %#x/%#x: want the same values as the leaf's", r.R[RBX], r.R[R12])
				}
				if frames[1].FDE.Start != fnMid || frames[2].FDE.Start != fnTop {
					t.Errorf("FDEs %v, %v", frames[1].FDE, frames[2].FDE)
				}
			}},
		{name: "#DF: from the IST stack onto the task stack, the interrupted pc a function's first byte",
			start: startRegs(fnStub, ist),
			// The CPU's frame: error code, RIP, CS, RFLAGS, RSP, SS.
			mem: fakeMem{ist: words(0, fnMid, 0x10, 0x2, task, 0x18), task: words(fnTop + 0x20)},
			want: []string{
				"pc 0x1300 lookup 0x1300 cfa 0x20030 sp 0x20000 signal",
				"pc 0x1100 lookup 0x1100 cfa 0x10008 sp 0x10000",
				"pc 0x1220 lookup 0x121f cfa 0x10010 sp 0x10008 end: return address undefined (outermost frame)",
			}},
		{name: "#DF two instructions into the stub",
			start: startRegs(fnStub+2, ist-8),
			mem:   fakeMem{ist - 8: words(8, 0, fnMid, 0x10, 0x2, task, 0x18), task: words(fnTop + 0x20)},
			want: []string{
				"pc 0x1302 lookup 0x1302 cfa 0x20030 sp 0x1fff8 signal",
				"pc 0x1100 lookup 0x1100 cfa 0x10008 sp 0x10000",
				"pc 0x1220 lookup 0x121f cfa 0x10010 sp 0x10008 end: return address undefined (outermost frame)",
			}},
		{name: "a handler returns into the entry stub: its frame is found with the pc itself",
			start: startRegs(fnLeaf, ist),
			// leaf's RA into the entry after its call; the entry's rbx
			// and two more words, then the CPU's frame (RIP, CS, RFLAGS,
			// RSP, SS): the entry's CFA is rsp+64 there.
			mem: fakeMem{ist: words(fnEntry+0x20, 0xb0b0, 1, 2, fnMid+1, 0x10, 0x2, task+0x100, 0x18),
				task + 0x100: words(0x5a5a, fnTop+0x20)},
			want: []string{
				"pc 0x1000 lookup 0x1000 cfa 0x20008 sp 0x20000",
				"pc 0x1420 lookup 0x1420 cfa 0x20048 sp 0x20008 signal",
				"pc 0x1101 lookup 0x1101 cfa 0x10110 sp 0x10100",
				"pc 0x1220 lookup 0x121f cfa 0x10118 sp 0x10110 end: return address undefined (outermost frame)",
			},
			check: func(t *testing.T, frames []Frame) {
				if r := frames[2].Regs; r.R[RBX] != 0xb0b0 {
					t.Errorf("rbx of the interrupted frame %#x, want 0xb0b0 from the entry's save", r.R[RBX])
				}
				if r := frames[3].Regs; r.R[RBX] != 0x5a5a {
					t.Errorf("rbx restored by mid %#x, want 0x5a5a", r.R[RBX])
				}
			}},
		{name: "a call of a noreturn function as the last instruction: pc-1 finds the caller",
			start: startRegs(fnLeaf, task),
			mem:   fakeMem{task: words(fnNext, fnTop+0x10)},
			want: []string{
				"pc 0x1000 lookup 0x1000 cfa 0x10008 sp 0x10000",
				"pc 0x1600 lookup 0x15ff cfa 0x10010 sp 0x10008",
				"pc 0x1210 lookup 0x120f cfa 0x10018 sp 0x10010 end: return address undefined (outermost frame)",
			}},
		{name: "CFA and return address by expressions",
			start: startRegs(fnExprCFA, task),
			mem:   fakeMem{task: words(0, task+0x100), task + 0xf8: words(fnTop + 0x10)},
			want: []string{
				"pc 0x1b00 lookup 0x1b00 cfa 0x10100 sp 0x10000",
				"pc 0x1210 lookup 0x120f cfa 0x10108 sp 0x10100 end: return address undefined (outermost frame)",
			}},
		{name: "no FDE for the start",
			start: startRegs(noFDE, task),
			want:  []string{"pc 0x9000 lookup 0x9000 cfa 0x0 sp 0x10000 end: no FDE for the pc"}},
		{name: "a return into code without FDE",
			start: startRegs(fnLeaf, task), mem: fakeMem{task: words(noFDE)},
			want: []string{"pc 0x1000 lookup 0x1000 cfa 0x10008 sp 0x10000",
				"pc 0x9000 lookup 0x8fff cfa 0x0 sp 0x10008 end: no FDE for the pc"}},
		{name: "return address 0",
			start: startRegs(fnLeaf, task), mem: fakeMem{task: words(0)},
			want: []string{"pc 0x1000 lookup 0x1000 cfa 0x10008 sp 0x10000 end: return address 0"}},
		{name: "the caller's CFA is not above",
			start: startRegs(fnLeaf, task), mem: fakeMem{task: words(fnFlat + 1)},
			want:    []string{"pc 0x1000 lookup 0x1000 cfa 0x10008 sp 0x10000 end: CFA not increasing (corrupt stack?)"},
			wantErr: "caller at pc 0x1701 has CFA 0x10008, not above the CFA 0x10008 of the frame at pc 0x1000",
			reason:  StopCFANotIncreasing},
		{name: "the return address cannot be read",
			start:   startRegs(fnLeaf, 0x666000),
			want:    []string{"pc 0x1000 lookup 0x1000 cfa 0x666008 sp 0x666000 end: memory read failed"},
			wantErr: "frame at pc 0x1000 (FDE at pc 0x1000..0x1010 (.debug_frame+0x58)): rip: read 8 bytes at 0x666000: not mapped",
			reason:  StopRead},
		{name: "more frames than allowed",
			start: startRegs(fnMid+5, task), max: 3,
			mem: fakeMem{task: words(1, fnMid+5, 2, fnMid+5, 3, fnMid+5, 4, fnMid+5)},
			want: []string{"pc 0x1105 lookup 0x1105 cfa 0x10010 sp 0x10000",
				"pc 0x1105 lookup 0x1104 cfa 0x10020 sp 0x10010",
				"pc 0x1105 lookup 0x1104 cfa 0x10030 sp 0x10020 end: too many frames"},
			wantErr: "more than 3 frames", reason: StopMaxFrames},
		{name: "an unsupported op",
			start: startRegs(fnLeaf, task), mem: fakeMem{task: words(fnBad + 5)},
			want: []string{"pc 0x1000 lookup 0x1000 cfa 0x10008 sp 0x10000",
				"pc 0x1805 lookup 0x1804 cfa 0x0 sp 0x10008 end: unusable CFI"},
			wantErr: "unsupported CFA op 0x2d in FDE at pc 0x1800..0x1810", reason: StopBadCFI},
		{name: "a CFA on a register the callee left undefined",
			start: startRegs(fnUndefBP, task), mem: fakeMem{task: words(fnRBPCFA + 1)},
			want: []string{"pc 0x1a00 lookup 0x1a00 cfa 0x10008 sp 0x10000",
				"pc 0x1901 lookup 0x1900 cfa 0x0 sp 0x10008 end: unusable CFI"},
			wantErr: "CFA at pc 0x1900 (FDE at pc 0x1900..0x1910 (.debug_frame+0x160)): register rbp is unknown in this frame",
			reason:  StopBadCFI},
		{name: "no rule for the return address",
			start:   startRegs(fnZero, task),
			want:    []string{"pc 0x1c00 lookup 0x1c00 cfa 0x10008 sp 0x10000 end: unusable CFI"},
			wantErr: "rip: the CFI has no rule for the return address", reason: StopBadCFI},
	}
	tab := unwindImage(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			frames, err := tab.Unwind(tc.mem.read, tc.start, tc.max)
			var got []string
			for _, f := range frames {
				got = append(got, frameSummary(f))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("frames:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Errorf("error %v", err)
				}
			} else {
				var ue *StopError
				if !errors.As(err, &ue) || ue.Reason != tc.reason || ue.Frame != len(frames)-1 || ue.PC != frames[len(frames)-1].PC ||
					!strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %v (%#v), want an *StopError for %v, frame #%d, containing %q", err, ue, tc.reason, len(frames)-1, tc.wantErr)
				}
			}
			if tc.check != nil && len(frames) == len(tc.want) {
				tc.check(t, frames)
			}
		})
	}
}

// TestUnwindStartRegs: a start without RIP is refused; RegsFromISA maps
// target/cpu's register order to DWARF's.
func TestUnwindStartRegs(t *testing.T) {
	tab := unwindImage(t)
	var r Regs
	r.forget(RIP)
	if frames, err := tab.Unwind(fakeMem{}.read, r, 0); err == nil || len(frames) != 0 ||
		err.Error() != "dwarfcfi: cannot unwind: the start registers lack RIP or RSP" {
		t.Errorf("a start without RIP: %d frames, error %v", len(frames), err)
	}
	var gpr [16]uint64
	for i := range gpr {
		gpr[i] = uint64(i) // rax rcx rdx rbx rsp rbp rsi rdi r8..r15
	}
	got := RegsFromISA(gpr, 0x99)
	want := [NumRegs]uint64{0, 2, 1, 3, 6, 7, 5, 4, 8, 9, 10, 11, 12, 13, 14, 15, 0x99}
	if got.R != want || got.Unknown != 0 {
		t.Errorf("RegsFromISA: %v (unknown %#x), want %v", got.R, got.Unknown, want)
	}
}
