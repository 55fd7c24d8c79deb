package cpu_test

import (
	"encoding/binary"
	"testing"

	"vmapstack/target/cpu"
)

// TestLegacyInstructions32: the instructions 64-bit mode removed, in
// 32-bit protected mode, with the SDM's own examples where it gives them
// (DAA, DAS: Vol. 2A, "Example").
func TestLegacyInstructions32(t *testing.T) {
	m := newAsm(t, 32, `
	movb $0x79, %al
	addb $0x35, %al
	daa
	setc %bl
	movl %eax, %esi
	movb $0x35, %al
	subb $0x47, %al
	das
	setc %bh
	movl %eax, %edi
	movw $0x0009, %ax
	addb $0x08, %al
	aaa
	movl %eax, %ecx
	movw $0x004b, %ax
	aam
	movl %eax, %edx
	aad
	movl %eax, %ebp
	pushal
	movl $0, %eax
	movl $0, %ecx
	popal`, func(ram []byte, s *cpu.State) { s.GPR[cpu.RSP] = stackTop - 4 })
	st := m.complete()
	if got := st.GPR[cpu.RSI] & 0xff; got != 0x14 || st.GPR[cpu.RBX]&0xff != 1 {
		t.Errorf("79h + 35h, DAA: AL %#x CF %d, want 14h CF 1", got, st.GPR[cpu.RBX]&0xff)
	}
	if got := st.GPR[cpu.RDI] & 0xff; got != 0x88 || st.GPR[cpu.RBX]>>8&0xff != 1 {
		t.Errorf("35h - 47h, DAS: AL %#x CF %d, want 88h CF 1", got, st.GPR[cpu.RBX]>>8&0xff)
	}
	if got := st.GPR[cpu.RCX] & 0xffff; got != 0x0107 {
		t.Errorf("9 + 8, AAA: AX %#x, want 0107h (unpacked BCD 17)", got)
	}
	if got := st.GPR[cpu.RDX] & 0xffff; got != 0x0705 {
		t.Errorf("AAM of 75: AX %#x, want 0705h", got)
	}
	if got := st.GPR[cpu.RBP] & 0xffff; got != 0x004b {
		t.Errorf("AAD of 0705h: AX %#x, want 004bh", got)
	}
	if st.GPR[cpu.RAX]&0xffff != 0x004b || st.GPR[cpu.RCX]&0xffff != 0x0107 || st.GPR[cpu.RSP] != stackTop-4 {
		t.Errorf("PUSHAD/POPAD: eax %#x ecx %#x esp %#x", st.GPR[cpu.RAX], st.GPR[cpu.RCX], st.GPR[cpu.RSP])
	}
}

// TestBoundAndFarPointers32: BOUND raises #BR (vector 5) only outside the
// bounds; LES loads ES and the offset; ARPL raises a selector's RPL.
func TestBoundAndFarPointers32(t *testing.T) {
	setup := func(ram []byte, s *cpu.State) {
		binary.LittleEndian.PutUint32(ram[dataAddr:], 10)   // lower bound
		binary.LittleEndian.PutUint32(ram[dataAddr+4:], 20) // upper bound
		binary.LittleEndian.PutUint32(ram[dataAddr+8:], 0x1234)
		binary.LittleEndian.PutUint16(ram[dataAddr+12:], selData32)
		s.GPR[cpu.RSP] = stackTop - 4
	}
	m := newAsm(t, 32, `
	movl $15, %eax
	boundl %eax, 0x200000
	lesl 0x200008, %ebx
	movw $0x2b, %cx
	movw $0x13, %dx
	arpl %dx, %cx
	setz %dl`, setup)
	st := m.complete()
	if st.GPR[cpu.RBX] != 0x1234 || st.Seg[cpu.ES].Sel != selData32 {
		t.Errorf("LES: ebx %#x es %#x", st.GPR[cpu.RBX], st.Seg[cpu.ES].Sel)
	}
	if st.GPR[cpu.RCX]&0xffff != 0x2b || st.GPR[cpu.RDX]&0xff != 0 {
		t.Errorf("ARPL with RPL 3 >= 3: cx %#x, ZF %d; want unchanged, ZF 0", st.GPR[cpu.RCX]&0xffff, st.GPR[cpu.RDX]&0xff)
	}
	m = newAsm(t, 32, "movl $21, %eax\nboundl %eax, 0x200000", setup)
	if v := m.runToHandler(); v != 5 {
		t.Errorf("BOUND out of range: vector %d, want #BR (5)", v)
	}
}

// TestLegacyInstructionsAre64BitUD: in 64-bit mode the same opcodes are
// #UD (SDM: "64-Bit Mode Exceptions: #UD").
func TestLegacyInstructionsAre64BitUD(t *testing.T) {
	for _, code := range [][]byte{{0x60}, {0x61}, {0x27}, {0x2f}, {0x37}, {0x3f}, {0xd4, 0x0a}, {0xd5, 0x0a}} {
		m := newMachine(t, 64, code, nil)
		if v := m.runToHandler(); v != vUD {
			t.Errorf("% x in 64-bit mode: vector %d, want #UD", code, v)
		}
	}
}
