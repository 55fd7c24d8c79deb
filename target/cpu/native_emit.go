package cpu

import "encoding/binary"

// hostCode assembles the x86-64 host code of a native block (native.go):
// the few instruction forms the prologue, the memory accesses and the
// exits need, with labels for forward jumps.
type hostCode struct {
	b      []byte
	fixups []hostFixup
}

// hostFixup is a rel32 at b[at:at+4] that must reach label.
type hostFixup struct {
	at    int
	label int
}

// rex appends a REX prefix when any bit is set or force (a byte
// register operand that must be SPL..DIL).
func (h *hostCode) rex(w bool, reg, index, base uint8, force bool) {
	r := byte(0x40) | reg>>3&1<<2 | index>>3&1<<1 | base>>3&1
	if w {
		r |= 8
	}
	if r != 0x40 || force {
		h.b = append(h.b, r)
	}
}

// mem appends ModRM (and SIB, displacement) for [base+disp], with reg in
// the ModRM reg field; base may be RSP or R12 (a SIB is needed) and RBP
// or R13 (a displacement is needed).
func (h *hostCode) mem(reg, base uint8, disp int32) {
	var mod byte
	switch {
	case disp == 0 && base&7 != RBP:
		mod = 0
	case disp >= -128 && disp < 128:
		mod = 1
	default:
		mod = 2
	}
	h.b = append(h.b, mod<<6|(reg&7)<<3|base&7)
	if base&7 == RSP {
		h.b = append(h.b, 0x24)
	}
	switch mod {
	case 1:
		h.b = append(h.b, byte(int8(disp)))
	case 2:
		h.b = binary.LittleEndian.AppendUint32(h.b, uint32(disp))
	}
}

// memIndex appends ModRM and SIB for [base+index<<scale+disp32].
func (h *hostCode) memIndex(reg, base, index, scale uint8, disp int32) {
	h.b = append(h.b, 2<<6|(reg&7)<<3|4, scale<<6|(index&7)<<3|base&7)
	h.b = binary.LittleEndian.AppendUint32(h.b, uint32(disp))
}

// load appends MOV r64, [base+disp]; store MOV [base+disp], r64.
func (h *hostCode) load(r, base uint8, disp int32) {
	h.rex(true, r, 0, base, false)
	h.b = append(h.b, 0x8b)
	h.mem(r, base, disp)
}

func (h *hostCode) store(base uint8, disp int32, r uint8) {
	h.rex(true, r, 0, base, false)
	h.b = append(h.b, 0x89)
	h.mem(r, base, disp)
}

// op64 appends a two-register instruction op r/m=dst, reg=src (MOV 89,
// OR 09, ...), 64-bit.
func (h *hostCode) op64(op byte, dst, src uint8) {
	h.rex(true, src, 0, dst, false)
	h.b = append(h.b, op, 0xc0|(src&7)<<3|dst&7)
}

// opMem64 appends op reg, [base+disp] (ADD 03, CMP 3B), 64-bit.
func (h *hostCode) opMem64(op byte, reg, base uint8, disp int32) {
	h.rex(true, reg, 0, base, false)
	h.b = append(h.b, op)
	h.mem(reg, base, disp)
}

// imm64 appends the group-1 op /ext r64, imm32 (AND /4, CMP /7), or the
// 32-bit form when w is false.
func (h *hostCode) imm(w bool, ext, r uint8, v int32) {
	h.rex(w, 0, 0, r, false)
	h.b = append(h.b, 0x81, 0xc0|ext<<3|r&7)
	h.b = binary.LittleEndian.AppendUint32(h.b, uint32(v))
}

// shift appends SHL (/4) or SHR (/5) r64, n.
func (h *hostCode) shift(ext, r, n uint8) {
	h.rex(true, 0, 0, r, false)
	h.b = append(h.b, 0xc1, 0xc0|ext<<3|r&7, n)
}

// lea appends LEA r64, [base+index<<scale+disp32] (index noReg: none).
func (h *hostCode) lea(r, base, index, scale uint8, disp int32) {
	if index == noReg {
		h.rex(true, r, 0, base, false)
		h.b = append(h.b, 0x8d)
		h.mem(r, base, disp)
		return
	}
	h.rex(true, r, index, base, false)
	h.b = append(h.b, 0x8d)
	h.memIndex(r, base, index, scale, disp)
}

func (h *hostCode) push(r uint8) {
	h.rex(false, 0, 0, r, false)
	h.b = append(h.b, 0x50|r&7)
}

func (h *hostCode) pop(r uint8) {
	h.rex(false, 0, 0, r, false)
	h.b = append(h.b, 0x58|r&7)
}

// jcc appends Jcc rel32 (cc: the condition's number, 0-15) to label.
func (h *hostCode) jcc(cc uint8, label int) {
	h.b = append(h.b, 0x0f, 0x80|cc)
	h.fixups = append(h.fixups, hostFixup{at: len(h.b), label: label})
	h.b = append(h.b, 0, 0, 0, 0)
}

// jmp appends JMP rel32 to label.
func (h *hostCode) jmp(label int) {
	h.b = append(h.b, 0xe9)
	h.fixups = append(h.fixups, hostFixup{at: len(h.b), label: label})
	h.b = append(h.b, 0, 0, 0, 0)
}

// resolve patches the fixups with the labels' offsets.
func (h *hostCode) resolve(labels []int) {
	for _, f := range h.fixups {
		rel := labels[f.label] - (f.at + 4)
		binary.LittleEndian.PutUint32(h.b[f.at:], uint32(int32(rel)))
	}
}

// Condition numbers for jcc.
const (
	ccB  = 2
	ccNE = 5
	ccE  = 4
	ccA  = 7
)
