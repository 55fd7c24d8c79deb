package dwarfcfi

import (
	"reflect"
	"strings"
	"testing"
)

const fnStart, fnLen = 0x1000, 0x100

// oneFDE loads an image with one FDE, [fnStart, fnStart+fnLen), under
// the CIE c.
func oneFDE(t *testing.T, c cieSpec, prog []byte) *FDE {
	t.Helper()
	tab, err := Load(debugFrameELF([]cieSpec{c}, []fdeSpec{{start: fnStart, length: fnLen, prog: prog}}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	f := tab.Find(fnStart)
	if f == nil {
		t.Fatal("no FDE at the function's start")
	}
	return f
}

// regOff is a RuleOffset of n slots below the CFA (data alignment -8).
func regOff(n int64) Rule { return Rule{Kind: RuleOffset, Offset: -8 * n} }

func cfaReg(reg uint64, off int64) CFARule { return CFARule{Defined: true, Reg: reg, Offset: off} }

// TestRow runs hand-made CFA programs and checks the row at an address:
// the CFA rule and the rules of the registers listed (the others must be
// unspecified).
func TestRow(t *testing.T) {
	dwarfExpr := []byte{opBreg0 + RBP, 0x78, opDeref} // *(rbp-8): gcc's DRAP CFA
	cases := []struct {
		name    string
		cie     *cieSpec // gccCIE when nil
		prog    []byte
		pc      uint64 // offset from fnStart
		cfa     CFARule
		regs    map[int]Rule
		wantErr string
	}{
		{name: "CIE rules at the entry", pc: 0,
			cfa: cfaReg(RSP, 8), regs: map[int]Rule{RIP: regOff(1)}},
		{name: "push rbp; mov rbp,rsp: before the push", prog: cat(opAdvance(1), opDefCFAOffset(16), opOffset(RBP, 2),
			opAdvance(3), opDefCFARegister(RBP)), pc: 0,
			cfa: cfaReg(RSP, 8), regs: map[int]Rule{RIP: regOff(1)}},
		{name: "push rbp; mov rbp,rsp: after the push", prog: cat(opAdvance(1), opDefCFAOffset(16), opOffset(RBP, 2),
			opAdvance(3), opDefCFARegister(RBP)), pc: 3,
			cfa: cfaReg(RSP, 16), regs: map[int]Rule{RIP: regOff(1), RBP: regOff(2)}},
		{name: "push rbp; mov rbp,rsp: after the mov", prog: cat(opAdvance(1), opDefCFAOffset(16), opOffset(RBP, 2),
			opAdvance(3), opDefCFARegister(RBP)), pc: 0xff,
			cfa: cfaReg(RBP, 16), regs: map[int]Rule{RIP: regOff(1), RBP: regOff(2)}},
		{name: "advance_loc1, advance_loc2 and advance_loc4", prog: cat(opAdvance(0x80), opDefCFAOffset(16),
			opAdvance(0x7f), opDefCFAOffset(24), []byte{cfaAdvanceLoc4}, le32(0x10000), opDefCFAOffset(32)), pc: 0xfe,
			cfa: cfaReg(RSP, 16), regs: map[int]Rule{RIP: regOff(1)}},
		{name: "advance_loc2 past the pc", prog: cat([]byte{cfaAdvanceLoc2}, le16(0x20), opDefCFAOffset(16)), pc: 0x20,
			cfa: cfaReg(RSP, 16), regs: map[int]Rule{RIP: regOff(1)}},
		{name: "code alignment factor scales advances", cie: &cieSpec{codeAlign: 4, dataAlign: -8, ra: RIP,
			initial: cat(opDefCFA(RSP, 8), opOffset(RIP, 1))}, prog: cat(opAdvance(2), opDefCFAOffset(16)), pc: 7,
			cfa: cfaReg(RSP, 8), regs: map[int]Rule{RIP: regOff(1)}},
		{name: "gcc epilogue: remember_state, def_cfa_offset 8, restore_state", prog: cat(
			opAdvance(1), opDefCFAOffset(16), opOffset(RBX, 2),
			opAdvance(10), []byte{cfaRememberState}, opDefCFAOffset(8), opRestore(RBX),
			opAdvance(2), []byte{cfaRestoreState}), pc: 13,
			cfa: cfaReg(RSP, 16), regs: map[int]Rule{RIP: regOff(1), RBX: regOff(2)}},
		{name: "gcc epilogue: between remember and restore", prog: cat(
			opAdvance(1), opDefCFAOffset(16), opOffset(RBX, 2),
			opAdvance(10), []byte{cfaRememberState}, opDefCFAOffset(8), opRestore(RBX),
			opAdvance(2), []byte{cfaRestoreState}), pc: 12,
			cfa: cfaReg(RSP, 8), regs: map[int]Rule{RIP: regOff(1)}},
		{name: "restore_extended of a CIE rule", prog: cat(opOffset(RIP, 3), []byte{cfaRestoreExtended}, uleb(RIP)),
			cfa: cfaReg(RSP, 8), regs: map[int]Rule{RIP: regOff(1)}},
		{name: "undefined, same_value, register", prog: cat(opUndefined(RIP), []byte{cfaSameValue}, uleb(RBX),
			[]byte{cfaRegister}, uleb(RBP), uleb(R12)),
			cfa: cfaReg(RSP, 8), regs: map[int]Rule{RIP: {Kind: RuleUndefined}, RBX: {Kind: RuleSameValue},
				RBP: {Kind: RuleRegister, Reg: R12}}},
		{name: "offset_extended_sf, val_offset, val_offset_sf, GNU_negative_offset_extended", prog: cat(
			[]byte{cfaOffsetExtendedSF}, uleb(RBX), sleb(3),
			[]byte{cfaValOffset}, uleb(R12), uleb(2),
			[]byte{cfaValOffsetSF}, uleb(R13), sleb(-1),
			[]byte{cfaGNUNegativeOffsetExtended}, uleb(R14), uleb(4)),
			cfa: cfaReg(RSP, 8), regs: map[int]Rule{RIP: regOff(1), RBX: regOff(3),
				R12: {Kind: RuleValOffset, Offset: -16}, R13: {Kind: RuleValOffset, Offset: 8}, R14: {Kind: RuleOffset, Offset: 32}}},
		{name: "def_cfa_sf and def_cfa_offset_sf are factored", prog: cat([]byte{cfaDefCFASF}, uleb(RBP), sleb(-2),
			opAdvance(1), []byte{cfaDefCFAOffsetSF}, sleb(-3)), pc: 1,
			cfa: cfaReg(RBP, 24), regs: map[int]Rule{RIP: regOff(1)}},
		{name: "def_cfa_expression, expression, val_expression", prog: cat(opBlock(cfaDefCFAExpression, dwarfExpr),
			[]byte{cfaExpression}, uleb(RBP), uleb(2), []byte{opBreg0 + RBP, 0},
			[]byte{cfaValExpression}, uleb(RBX), uleb(2), []byte{opLit0 + 5, opPlus}),
			cfa: CFARule{Defined: true, IsExpr: true, Expr: dwarfExpr}, regs: map[int]Rule{RIP: regOff(1),
				RBP: {Kind: RuleExpression, Expr: []byte{opBreg0 + RBP, 0}}, RBX: {Kind: RuleValExpression, Expr: []byte{opLit0 + 5, opPlus}}}},
		{name: "nop, GNU_args_size and rules of untracked columns", prog: cat([]byte{cfaNop}, []byte{cfaGNUArgsSize}, uleb(16),
			opOffset(17, 4), opUndefined(49), []byte{cfaRestoreExtended}, uleb(1000)),
			cfa: cfaReg(RSP, 8), regs: map[int]Rule{RIP: regOff(1)}},
		{name: "set_loc", prog: cat([]byte{cfaSetLoc}, le64(fnStart+0x40), opDefCFAOffset(16)), pc: 0x40,
			cfa: cfaReg(RSP, 16), regs: map[int]Rule{RIP: regOff(1)}},
		{name: "DWARF 3 CIE", cie: &cieSpec{version: 3, codeAlign: 1, dataAlign: -8, ra: RIP,
			initial: cat(opDefCFA(RSP, 8), opOffset(RIP, 1))},
			cfa: cfaReg(RSP, 8), regs: map[int]Rule{RIP: regOff(1)}},
		{name: "DWARF 4 CIE, 64-bit format", cie: &cieSpec{version: 4, dwarf64: true, codeAlign: 1, dataAlign: -8, ra: RIP,
			initial: cat(opDefCFA(RSP, 8), opOffset(RIP, 1))}, prog: cat(opAdvance(1), opDefCFAOffset(16)), pc: 1,
			cfa: cfaReg(RSP, 16), regs: map[int]Rule{RIP: regOff(1)}},

		{name: "unsupported op", prog: cat(opAdvance(5), []byte{0x2d}), pc: 5,
			wantErr: "unsupported CFA op 0x2d in FDE at pc 0x1000..0x1100 (.debug_frame+0x"},
		{name: "unknown op", prog: []byte{0x17}, wantErr: "unsupported CFA op 0x17 in FDE at pc 0x1000..0x1100"},
		{name: "an unsupported op after the pc is not reached", prog: cat(opAdvance(5), []byte{0x2d}), pc: 4,
			cfa: cfaReg(RSP, 8), regs: map[int]Rule{RIP: regOff(1)}},
		{name: "restore_state with nothing remembered", prog: []byte{cfaRestoreState},
			wantErr: "DW_CFA_restore_state with no remembered state in FDE at pc 0x1000..0x1100"},
		{name: "remember_state too deep", prog: bytesOf(cfaRememberState, maxRememberDepth+1),
			wantErr: "DW_CFA_remember_state nested more than 64 deep"},
		{name: "truncated operand", prog: []byte{cfaNop, cfaNop, cfaNop, cfaNop, cfaNop, cfaAdvanceLoc4, 1, 2}, pc: 0xff,
			wantErr: "CFA op 0x04: truncated"},
		{name: "truncated expression block", prog: []byte{cfaDefCFAExpression, 10, 1},
			wantErr: "CFA op 0x0f: truncated"},
		{name: "def_cfa_offset after def_cfa_expression", prog: cat(opBlock(cfaDefCFAExpression, dwarfExpr), opDefCFAOffset(8)),
			wantErr: "CFA op 0x0e with no register+offset CFA rule in effect"},
		{name: "set_loc back", prog: cat(opAdvance(8), []byte{cfaSetLoc}, le64(fnStart+4)), pc: 0x10,
			wantErr: "DW_CFA_set_loc 0x1004 moves the location back from 0x1008"},
		{name: "advance in a CIE", cie: &cieSpec{codeAlign: 1, dataAlign: -8, ra: RIP, initial: cat(opDefCFA(RSP, 8), opAdvance(1))},
			wantErr: "CFA op 0x41 moves the location, not allowed in CIE .debug_frame+0x0 (initial instructions of the FDE at pc 0x1000..0x1100)"},
		{name: "restore in a CIE", cie: &cieSpec{codeAlign: 1, dataAlign: -8, ra: RIP, initial: cat(opDefCFA(RSP, 8), opRestore(RBX))},
			wantErr: "DW_CFA_restore (there are no initial rules yet) in CIE"},
		{name: "advance wraps", cie: &cieSpec{codeAlign: 1 << 62, dataAlign: -8, ra: RIP, initial: opDefCFA(RSP, 8)},
			prog: opAdvance(8), pc: 0x10, wantErr: "wraps the location"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := gccCIE()
			if tc.cie != nil {
				c = *tc.cie
			}
			f := oneFDE(t, c, tc.prog)
			row, err := f.Row(fnStart + tc.pc)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(row.CFA, tc.cfa) {
				t.Errorf("CFA rule %+v, want %+v", row.CFA, tc.cfa)
			}
			for n := 0; n < NumRegs; n++ {
				if got, want := row.Regs[n], tc.regs[n]; !reflect.DeepEqual(got, want) {
					t.Errorf("%s: rule %+v, want %+v", RegName(uint64(n)), got, want)
				}
			}
		})
	}
}

func bytesOf(b byte, n int) []byte { return []byte(strings.Repeat(string([]byte{b}), n)) }

// TestRows checks the whole table of one program: one row per location,
// the last one reaching the FDE's end.
func TestRows(t *testing.T) {
	f := oneFDE(t, gccCIE(), cat(opAdvance(1), opDefCFAOffset(16), opAdvance(4), opDefCFAOffset(24),
		opAdvance(0x200), opDefCFAOffset(32)))
	rows, err := f.Rows()
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for _, r := range rows {
		got = append(got, r.Loc, uint64(r.CFA.Offset))
	}
	if want := []uint64{fnStart, 8, fnStart + 1, 16, fnStart + 5, 24}; !reflect.DeepEqual(got, want) {
		t.Errorf("rows (loc, CFA offset) %#x, want %#x", got, want)
	}
	if _, err := f.Row(fnStart + fnLen); err == nil {
		t.Error("Row past the FDE's end: no error")
	}
}
