package cpu

import (
	"bytes"
	"fmt"
	"math/rand"
	"testing"

	"vmapstack/target/x86"
)

// linkedForms are the instructions the differential strings together:
// every specialised form, the generic forms runLinked runs inline, and
// forms that must stay generic (AH..BH, 0x66, 0x67, RIP-relative, RET
// imm16), each a complete encoding.
var linkedForms = [][]byte{
	{0x48, 0x89, 0xd8}, {0x89, 0xd8}, {0x48, 0x8b, 0x07}, {0x48, 0x89, 0x07}, {0x48, 0x8d, 0x44, 0x8f, 0x10},
	{0x48, 0x01, 0xd8}, {0x48, 0x83, 0xc0, 0xf0}, {0x83, 0xc0, 0x7f}, {0x05, 0xff, 0xff, 0xff, 0xff},
	{0x48, 0x29, 0xd8}, {0x48, 0x39, 0xd8}, {0x48, 0x83, 0xf8, 0x05}, {0x83, 0xf8, 0xfe}, {0x31, 0xd8},
	{0x48, 0x31, 0xd8}, {0x25, 0xff, 0x07, 0, 0}, {0x83, 0xe3, 0xf0}, {0x48, 0x85, 0xd8}, {0x85, 0xd8},
	{0x41, 0xf7, 0xc5, 0xff, 0x07, 0, 0}, {0x48, 0xc1, 0xe0, 0x0d}, {0x48, 0xc1, 0xe0, 0x40}, {0x48, 0xc1, 0xe8, 0x07},
	{0x48, 0xd1, 0xe8}, {0x48, 0xc1, 0xe0, 0x3f}, {0x48, 0xc1, 0xe8, 0x3f}, {0x48, 0xd1, 0xe0},
	{0x48, 0x0f, 0xaf, 0xc3}, {0x48, 0x69, 0xc3, 0x43, 0x42, 0x0f, 0x00}, {0x48, 0x6b, 0xc3, 0xfd},
	{0x48, 0x03, 0x07}, {0x0f, 0xb6, 0xc3}, {0x48, 0x0f, 0xb7, 0xc3}, {0x40, 0x0f, 0xb6, 0xc6}, {0x0f, 0xb6, 0xc4},
	{0x0f, 0xb6, 0x07}, {0x48, 0x0f, 0xb7, 0x07}, {0x48, 0x63, 0xc3}, {0x53}, {0x54}, {0x41, 0x54}, {0x5b}, {0x5c},
	{0x66, 0x53}, {0x66, 0x5b}, {0x8b, 0x07}, {0x89, 0x07}, {0xb8, 0xfb, 0xff, 0xff, 0xff}, {0xb0, 0x05},
	{0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 0x88}, {0x01, 0xd8}, {0x48, 0x83, 0xec, 0x18}, {0x0f, 0x92, 0xc3},
	{0x40, 0x0f, 0x95, 0xc6}, {0x0f, 0x9e, 0xc4}, {0x48, 0x0f, 0x43, 0xc3}, {0x0f, 0x4c, 0xc3}, {0x66, 0x89, 0xd8},
	{0x00, 0xd8}, {0x48, 0x11, 0xd8}, {0x84, 0xc0}, {0x80, 0x3f, 0x05}, {0x0f, 0x1f, 0x40, 0x00}, {0x39, 0xd8},
	{0x48, 0xd3, 0xe0}, {0x48, 0xd3, 0xc8}, {0xd1, 0xd0}, {0x48, 0xf7, 0xe3}, {0x48, 0xf7, 0xeb}, {0xf7, 0xe3},
	{0xff, 0xc0}, {0x48, 0xff, 0x07}, {0x48, 0x8b, 0x45, 0x08}, {0x48, 0x89, 0x44, 0x24, 0x08}, {0x67, 0x48, 0x8b, 0x07},
	{0x67, 0x48, 0x8d, 0x04, 0x8f}, {0x48, 0x8d, 0x05, 0x10, 0, 0, 0}, {0x48, 0x8b, 0x05, 0x00, 0x01, 0, 0},
	{0x66, 0x0f, 0xb6, 0xc3}, {0x66, 0x05, 0x34, 0x12}, {0x66, 0x83, 0xc0, 0xff}, {0x89, 0x45, 0x00},
	{0x48, 0x8b, 0x04, 0x24}, {0x58}, {0x50}, {0x0f, 0x44, 0x07}, {0x48, 0x0f, 0x45, 0x07},
	{0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff}, {0x66, 0x0f, 0xaf, 0xc3}, {0x6b, 0xc3, 0x7f}, {0x48, 0x63, 0x07},
	{0x48, 0x8b, 0x3f}, {0x48, 0x8b, 0x24, 0x24},
}

// linkedBranch is a random relative branch, CALL or RET.
func linkedBranch(r *rand.Rand) []byte {
	rel := byte(int8(r.Intn(41) - 20))
	switch r.Intn(9) {
	case 0:
		return []byte{0x74, rel}
	case 1:
		return []byte{0x75, rel}
	case 2:
		return []byte{0x70 + byte(r.Intn(16)), rel}
	case 3:
		return []byte{0xeb, rel}
	case 4:
		return []byte{0xe9, rel, 0xff * (rel >> 7), 0xff * (rel >> 7), 0xff * (rel >> 7)}
	case 5:
		return []byte{0xe8, byte(r.Intn(30)), 0, 0, 0}
	case 6:
		return []byte{0xc3}
	case 7:
		return []byte{0xc2, 0x08, 0x00}
	default:
		return []byte{0x66, 0x74, rel}
	}
}

// linkedResult is what a run leaves: registers, RIP, flags, instruction
// count, shutdown, the events and the memory the programs can touch.
type linkedResult struct {
	gpr  [16]uint64
	rip  uint64
	fl   uint64
	n    uint64
	shut bool
	ev   string
	ram  []byte
}

// runProgram runs code from a fresh machine in mode (64, 32: compatibility
// mode, 16: real-address-like 16-bit protected mode without paging) for up
// to 200 instructions, with runLinked (Run) or one instruction at a time
// through exec (Step).
func runProgram(t *testing.T, mode int, code []byte, regs [16]uint64, fl uint64, stack []byte, linked bool) linkedResult {
	c, ram := newWB(t, nil)
	withIDT(c, ram)
	copy(ram[wbCode:], code)
	copy(ram[wbData:], stack)
	copy(ram[wbStackTop-0x800:], stack)
	s := c.State()
	switch mode {
	case 32:
		le64(ram, wbGDT+24, 0x00cf9b000000ffff)
		s.GDTR.Limit = 0x1f
		s.Seg[CS] = Seg{Sel: 0x18, Limit: 0xffffffff, Attr: 0xc09b}
	case 16:
		le64(ram, wbGDT+24, 0x00009b000000ffff)
		s.GDTR.Limit = 0x1f
		s.CR0 &^= x86.CR0PG
		s.EFER = 0
		s.Seg[CS] = Seg{Sel: 0x18, Base: wbCode, Limit: 0xffff, Attr: 0x009b}
		for _, r := range []int{DS, ES, SS} {
			s.Seg[r] = Seg{Sel: 0x10, Base: wbData, Limit: 0xffff, Attr: 0x0093}
		}
	}
	s.GPR = regs
	s.RIP = wbCode
	if mode == 16 {
		s.RIP = 0
	}
	s.RFLAGS = fl
	c.SetState(&s)
	const limit = 200
	if linked {
		for i := 0; i < 400 && c.instret < limit && !c.halted && !c.shut; i++ {
			ex := c.Run(limit)
			if ex.Kind == ExitInternal {
				break
			}
		}
	} else {
		for i := 0; i < 4*limit && c.instret < limit && !c.halted && !c.shut; i++ {
			ex := c.Step()
			if ex.Kind == ExitInternal {
				break
			}
		}
	}
	var evs bytes.Buffer
	for _, e := range c.Events() {
		fmt.Fprintf(&evs, "v%d rip %#x err %#x n %d; ", e.Vector, e.RIP, e.ErrorCode, e.Instret)
	}
	m := append([]byte(nil), ram[wbData:wbData+0x2000]...)
	m = append(m, ram[wbStackTop-0x1000:wbStackTop+0x1000]...)
	m = append(m, ram[wbCode:wbCode+0x1000]...)
	m = append(m, ram[0:0x10000]...)
	return linkedResult{c.gpr, c.rip, c.rflags(), c.instret, c.shut, evs.String(), m}
}

// TestRunLinkedMatchesStep runs random programs of the forms runLinked
// handles itself, with branches, calls and returns among them, in 64-,
// 32- and 16-bit code, from random registers with addresses that are
// mapped, unmapped, page-crossing or non-canonical: runLinked (Run) must
// leave exactly what single steps through exec (Step) leave, registers,
// RIP, flags, instruction count, events (faults included) and memory.
func TestRunLinkedMatchesStep(t *testing.T) {
	r := rand.New(rand.NewSource(42))
	fails := 0
	for trial := 0; trial < 3000 && fails < 8; trial++ {
		mode := []int{64, 64, 32, 16}[trial%4]
		var code []byte
		for len(code) < 200 {
			if r.Intn(5) == 0 {
				code = append(code, linkedBranch(r)...)
			} else {
				code = append(code, linkedForms[r.Intn(len(linkedForms))]...)
			}
		}
		code = append(code, 0xf4)
		var regs [16]uint64
		for i := range regs {
			switch r.Intn(4) {
			case 0:
				regs[i] = uint64(r.Intn(5)) - 2
			case 1:
				regs[i] = 1<<63 + uint64(r.Intn(5)) - 2
			default:
				regs[i] = r.Uint64()
			}
		}
		addr := func() uint64 {
			switch r.Intn(10) {
			case 0:
				return 0x0000800000000000 - uint64(r.Intn(16))
			case 1:
				return 0x500000 + uint64(r.Intn(0x1000)) // unmapped
			case 2:
				return wbData + 0xff8 + uint64(r.Intn(8)) // page crossing
			}
			return wbData + uint64(r.Intn(0x1f00))
		}
		regs[RDI] = addr()
		regs[RBP] = addr()
		regs[RSP] = wbStackTop - uint64(r.Intn(0x100))&^7
		if r.Intn(8) == 0 {
			regs[RSP] = 0x0000800000000000 + uint64(r.Intn(32))
		}
		if mode == 16 {
			regs[RSP] = uint64(r.Intn(0x10000))
			regs[RDI] &= 0xffff
			regs[RBP] &= 0xffff
		}
		fl := r.Uint64()&arithFlags | 2
		stack := make([]byte, 0x800)
		for i := 0; i+8 <= len(stack); i += 8 {
			v := wbCode + uint64(r.Intn(200))
			if r.Intn(6) == 0 {
				v = r.Uint64()
			}
			le64(stack, uint64(i), v)
		}
		a := runProgram(t, mode, code, regs, fl, stack, true)
		b := runProgram(t, mode, code, regs, fl, stack, false)
		if a.gpr != b.gpr || a.rip != b.rip || a.fl != b.fl || a.n != b.n || a.shut != b.shut || a.ev != b.ev || !bytes.Equal(a.ram, b.ram) {
			fails++
			t.Errorf("mode %d trial %d code % x\nregs %#x\nlinked: rip %#x fl %#x n %d ev %s\n  regs %#x\nstep:   rip %#x fl %#x n %d ev %s\n  regs %#x\nram equal %v",
				mode, trial, code, regs, a.rip, a.fl, a.n, a.ev, a.gpr, b.rip, b.fl, b.n, b.ev, b.gpr, bytes.Equal(a.ram, b.ram))
		}
	}
}
