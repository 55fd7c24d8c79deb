package cpu

import (
	"math/bits"

	"vmapstack/target/x86"
)

// The RFLAGS groups the lazy-flag code works with (bits: package x86).
const (
	arithFlags = x86.FlagCF | x86.FlagPF | x86.FlagAF | x86.FlagZF | x86.FlagSF | x86.FlagOF
	// flags POPF/IRET may change in our machine (no VM86, no VIF/VIP).
	writableFlags = arithFlags | x86.FlagTF | x86.FlagIF | x86.FlagDF | x86.FlagIOPL | x86.FlagNT | x86.FlagRF | x86.FlagAC | x86.FlagID
)

// Lazy flag operation kinds: the arithmetic flags are computed from the
// last result and operands only when something reads them.
const (
	lzNone  uint8 = iota // c.flags holds the arithmetic flags
	lzAdd                // res = a + b
	lzAdc                // res = a + b + cin
	lzSub                // res = a - b (also CMP)
	lzSbb                // res = a - b - cin
	lzLogic              // AND OR XOR TEST: CF=OF=AF=0
	lzInc                // res = a + 1, CF kept in cin
	lzDec                // res = a - 1, CF kept in cin
	lzNeg                // res = 0 - a (a in a)
	lzShift              // SHL SHR SAR SHLD SHRD, MUL IMUL: CF in cin, OF in a (0 or 1), AF=0
)

type lazy struct {
	op   uint8
	size uint8 // operand size in bytes
	cin  bool  // carry in (ADC/SBB) or the preserved CF (INC/DEC)
	res  uint64
	a, b uint64
}

// masks and signs are indexed by operand size in bytes (a table load is
// cheaper than a variable shift, which Go must guard for counts >= 64).
var masks = [16]uint64{1: 0xff, 2: 0xffff, 4: 0xffffffff, 8: ^uint64(0)}
var signs = [16]uint64{1: 0x80, 2: 0x8000, 4: 0x80000000, 8: 1 << 63}

func sizeMask(size uint8) uint64 { return masks[size&15] }

func signBit(size uint8) uint64 { return signs[size&15] }

func parity(v uint64) bool { return bits.OnesCount8(uint8(v))&1 == 0 }

func (c *CPU) setLazy(op uint8, size uint8, res, a, b uint64) {
	c.lz.op, c.lz.size, c.lz.res, c.lz.a, c.lz.b = op, size, res, a, b
}

// setShiftFlags records the flags of a shift by a nonzero count, or of a
// multiply: SF ZF PF from res, the given CF and OF, AF cleared (undefined
// in the SDM; 0 as the eager code always left it).
func (c *CPU) setShiftFlags(size uint8, res uint64, cf, of bool) {
	var o uint64
	if of {
		o = 1
	}
	c.lz.op, c.lz.size, c.lz.res, c.lz.cin, c.lz.a = lzShift, size, res, cf, o
}

// setFlagsEager stores computed arithmetic flags (for shifts, multiplies,
// bit operations): f holds the new values of the bits in mask; the other
// arithmetic flags are materialised first so they survive.
func (c *CPU) setFlagsEager(mask, f uint64) {
	if mask == arithFlags {
		c.lz.op = lzNone
		c.flags = c.flags&^arithFlags | f&arithFlags
		return
	}
	c.materialize()
	c.flags = c.flags&^mask | f&mask
}

// materialize folds the lazy state into c.flags.
func (c *CPU) materialize() {
	if c.lz.op == lzNone {
		return
	}
	c.flags = c.flags&^arithFlags | c.arith()
	c.lz.op = lzNone
}

// rflags returns the full RFLAGS value without changing the lazy state.
func (c *CPU) rflags() uint64 {
	if c.lz.op == lzNone {
		return c.flags | 2
	}
	return c.flags&^arithFlags | c.arith() | 2
}

// setRflags replaces RFLAGS (POPF, IRET, SetState).
func (c *CPU) setRflags(v uint64) {
	c.brk = true // IF may have been set: look at INTR again
	c.lz.op = lzNone
	c.flags = v&writableFlags | 2
}

// arith computes the six arithmetic flags from the lazy state.
func (c *CPU) arith() uint64 {
	var f uint64
	if c.cf() {
		f |= x86.FlagCF
	}
	if parity(c.lz.res) {
		f |= x86.FlagPF
	}
	if c.af() {
		f |= x86.FlagAF
	}
	if c.lz.res&sizeMask(c.lz.size) == 0 {
		f |= x86.FlagZF
	}
	if c.lz.res&signBit(c.lz.size) != 0 {
		f |= x86.FlagSF
	}
	if c.of() {
		f |= x86.FlagOF
	}
	return f
}

func (c *CPU) cf() bool {
	l := &c.lz
	switch l.op {
	case lzNone:
		return c.flags&x86.FlagCF != 0
	case lzAdd:
		return l.res < l.a
	case lzAdc:
		return l.res < l.a || (l.cin && l.res == l.a)
	case lzSub:
		return l.a < l.b
	case lzSbb:
		return l.a < l.b || (l.cin && l.a == l.b)
	case lzLogic:
		return false
	case lzInc, lzDec, lzShift:
		return l.cin
	case lzNeg:
		return l.a != 0
	}
	return false
}

func (c *CPU) zf() bool {
	if c.lz.op == lzNone {
		return c.flags&x86.FlagZF != 0
	}
	return c.lz.res&sizeMask(c.lz.size) == 0
}

func (c *CPU) sf() bool {
	if c.lz.op == lzNone {
		return c.flags&x86.FlagSF != 0
	}
	return c.lz.res&signBit(c.lz.size) != 0
}

func (c *CPU) pf() bool {
	if c.lz.op == lzNone {
		return c.flags&x86.FlagPF != 0
	}
	return parity(c.lz.res)
}

func (c *CPU) af() bool {
	l := &c.lz
	switch l.op {
	case lzNone:
		return c.flags&x86.FlagAF != 0
	case lzLogic, lzShift:
		return false
	case lzInc:
		return (l.a^1^l.res)&0x10 != 0
	case lzDec:
		return (l.a^1^l.res)&0x10 != 0
	case lzNeg:
		return (l.a^l.res)&0x10 != 0
	}
	return (l.a^l.b^l.res)&0x10 != 0
}

func (c *CPU) of() bool {
	l := &c.lz
	sb := signBit(l.size)
	switch l.op {
	case lzNone:
		return c.flags&x86.FlagOF != 0
	case lzAdd, lzAdc:
		return (l.a^l.res)&(l.b^l.res)&sb != 0
	case lzSub, lzSbb:
		return (l.a^l.b)&(l.a^l.res)&sb != 0
	case lzLogic:
		return false
	case lzInc:
		return l.res&sizeMask(l.size) == sb
	case lzDec:
		return l.res&sizeMask(l.size) == sb-1
	case lzNeg:
		return l.res&sizeMask(l.size) == sb
	case lzShift:
		return l.a != 0
	}
	return false
}

// cond evaluates condition code cc (the low nibble of Jcc/SETcc/CMOVcc).
func (c *CPU) cond(cc uint8) bool {
	var r bool
	switch cc >> 1 {
	case 0: // O
		r = c.of()
	case 1: // B
		r = c.cf()
	case 2: // E
		r = c.zf()
	case 3: // BE
		r = c.cf() || c.zf()
	case 4: // S
		r = c.sf()
	case 5: // P
		r = c.pf()
	case 6: // L
		r = c.sf() != c.of()
	case 7: // LE
		r = c.zf() || c.sf() != c.of()
	}
	return r != (cc&1 != 0)
}
