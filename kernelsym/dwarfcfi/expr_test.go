package dwarfcfi

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// fakeMem is target memory for the tests: a few regions; reads outside
// them fail as an unmapped page would.
type fakeMem map[uint64][]byte

func (m fakeMem) read(addr uint64, buf []byte) (int, error) {
	for base, b := range m {
		if addr >= base && addr-base <= uint64(len(b)) && uint64(len(buf)) <= uint64(len(b))-(addr-base) {
			return copy(buf, b[addr-base:]), nil
		}
	}
	return 0, errors.New("not mapped")
}

// words is a region of 8-byte words.
func words(ws ...uint64) []byte {
	b := make([]byte, 8*len(ws))
	for i, w := range ws {
		binary.LittleEndian.PutUint64(b[8*i:], w)
	}
	return b
}

// TestExpr evaluates CFI expressions: the stack operations of DWARF 4
// §2.5.1 and the errors of a corrupt one.
func TestExpr(t *testing.T) {
	mem := fakeMem{0x8000: words(0x1111222233334444, 0xfedcba9876543210)}
	var regs Regs
	regs.Set(RBP, 0x8010)
	regs.Set(RSP, 0x8000)
	regs.forget(RBX)
	cases := []struct {
		name    string
		expr    []byte
		initial []uint64
		want    uint64
		wantErr string
	}{
		{"gcc DRAP CFA: *(rbp-8)", []byte{opBreg0 + RBP, 0x78, opDeref}, nil, 0xfedcba9876543210, ""},
		{"bregx, plus_uconst", cat([]byte{opBregx}, uleb(RSP), sleb(-16), []byte{opPlusUconst}, uleb(0x20)), nil, 0x8010, ""},
		{"the CFA pushed first", []byte{opLit0 + 8, opMinus}, []uint64{0x100}, 0xf8, ""},
		{"deref_size 2", []byte{opBreg0 + RSP, 0, opDerefSize, 2}, nil, 0x4444, ""},
		{"constants", cat([]byte{opConst1s, 0xff, opConst2u}, le16(3), []byte{opPlus, opConst4s}, le32(0xfffffffe), []byte{opMul}), nil, 0xfffffffffffffffc, ""},
		{"const8u, constu, consts, addr", cat([]byte{opConst8u}, le64(5), []byte{opConstu}, uleb(300), []byte{opPlus, opConsts}, sleb(-5),
			[]byte{opPlus, opAddr}, le64(1), []byte{opPlus}), nil, 301, ""},
		{"dup, over, swap, rot, drop, pick", []byte{opLit0 + 1, opLit0 + 2, opLit0 + 3, opRot, opSwap, opOver, opDup, opDrop, opPick, 3,
			opMinus}, nil, ^uint64(0), ""},
		{"abs, neg, not, and, or, xor", []byte{opLit0 + 5, opNeg, opAbs, opLit0 + 12, opAnd, opLit0 + 1, opOr, opLit0 + 2, opXor, opNot}, nil, ^uint64(7), ""},
		{"div is signed, mod unsigned", []byte{opLit0 + 7, opNeg, opLit0 + 2, opDiv, opLit0 + 7, opLit0 + 4, opMod, opPlus}, nil, 0, ""},
		{"shifts", []byte{opLit0 + 1, opLit0 + 4, opShl, opLit0 + 2, opShr, opLit0 + 1, opNeg, opLit0 + 4, opShra, opPlus}, nil, 3, ""},
		{"relations are signed", []byte{opLit0 + 1, opNeg, opLit0 + 1, opLt, opLit0 + 2, opLit0 + 2, opGe, opPlus, opLit0, opLit0, opNe, opPlus,
			opLit0 + 3, opLit0 + 3, opEq, opPlus, opLit0 + 1, opLit0, opGt, opPlus, opLit0 + 1, opLit0, opLe, opPlus}, nil, 4, ""},
		{"bra taken", cat([]byte{opLit0 + 1, opBra}, le16(4), []byte{opLit0 + 9, opSkip}, le16(1), []byte{opLit0 + 7, opNop}), nil, 7, ""},
		{"skip", cat([]byte{opLit0 + 1, opSkip}, le16(1), []byte{opLit0 + 9, opLit0 + 2}), nil, 2, ""},
		{"bra not taken", cat([]byte{opLit0, opBra}, le16(1), []byte{opLit0 + 9}), nil, 9, ""},

		{"unknown register", []byte{opBreg0 + RBX, 0}, nil, 0, "register rbx is unknown in this frame"},
		{"untracked register", cat([]byte{opBregx}, uleb(17), sleb(0)), nil, 0, "register r17 is not tracked"},
		{"read fails", []byte{opLit0, opDeref}, nil, 0, "read 8 bytes at 0x0: not mapped"},
		{"empty stack", []byte{opPlus}, nil, 0, "op 0x22 needs 2 values, the stack has 0"},
		{"nothing left", []byte{opLit0, opDrop}, nil, 0, "leaves an empty stack"},
		{"division by zero", []byte{opLit0 + 1, opLit0, opDiv}, nil, 0, "division by zero"},
		{"branch out", cat([]byte{opSkip}, le16(100)), nil, 0, "branch by 100 from 3 leaves the expression"},
		{"endless loop", cat([]byte{opSkip}, le16(0xfffd)), nil, 0, "more than 10000 steps"},
		{"growing stack", cat([]byte{opLit0, opSkip}, le16(0xfffc)), nil, 0, "stack deeper than 1024"},
		{"location description", []byte{0x50}, nil, 0, "unsupported DWARF op 0x50 in a CFI expression"},
		{"call_frame_cfa", []byte{0x9c}, nil, 0, "unsupported DWARF op 0x9c"},
		{"deref_size 9", []byte{opLit0, opDerefSize, 9}, nil, 0, "DW_OP_deref_size 9"},
		{"pick too deep", []byte{opLit0, opPick, 1}, nil, 0, "DW_OP_pick 1 with 1 values"},
		{"truncated operand", []byte{opConst4u, 1}, nil, 0, "truncated"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := exprEnv{regs: &regs, read: mem.read, order: binary.LittleEndian}
			got, err := env.eval(tc.expr, tc.initial...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("eval % x = %#x, %v; want an error containing %q", tc.expr, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("eval % x = %#x, %v; want %#x", tc.expr, got, err, tc.want)
			}
		})
	}
}
