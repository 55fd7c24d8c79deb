package cpu

import (
	"golang.org/x/arch/x86/x86asm"

	"vmapstack/target/x86"
)

// szp returns SF ZF PF for a result of size bytes.
func szp(r uint64, size uint8) uint64 {
	var f uint64
	if r&sizeMask(size) == 0 {
		f |= x86.FlagZF
	}
	if r&signBit(size) != 0 {
		f |= x86.FlagSF
	}
	if parity(r) {
		f |= x86.FlagPF
	}
	return f
}

func b2f(b bool, flag uint64) uint64 {
	if b {
		return flag
	}
	return 0
}

// shift executes SHL SHR SAR ROL ROR RCL RCR (SDM Vol. 2 SAL/SAR/SHL/SHR,
// RCL/RCR/ROL/ROR): the count is masked to 5 bits (6 with REX.W); a
// masked count of 0 changes no flags; OF is defined for a count of 1 and
// left as computed for the same formula otherwise (as QEMU does).
func (c *CPU) shift(in *inst) {
	switch x86asm.Op(in.op) {
	case x86asm.SHL, x86asm.SHR, x86asm.SAR:
		c.shiftArith(in)
		return
	}
	s := in.args[0].size
	w := uint(8 * uint(s))
	m := sizeMask(s)
	a := c.get(in, 0)
	n := uint(c.get(in, 1))
	n &= countMask(s)
	if n == 0 {
		c.set(in, 0, a) // still a write: a 32-bit register zero-extends
		return
	}
	msb := func(v uint64) bool { return v&signBit(s) != 0 }
	var r uint64
	switch x86asm.Op(in.op) {
	case x86asm.ROL:
		k := n % w
		r = (a<<k | a>>(w-k)) & m
		cf := r&1 != 0
		c.set(in, 0, r)
		c.setFlagsEager(x86.FlagCF|x86.FlagOF, b2f(cf, x86.FlagCF)|b2f(msb(r) != cf, x86.FlagOF))
	case x86asm.ROR:
		k := n % w
		r = (a>>k | a<<(w-k)) & m
		c.set(in, 0, r)
		c.setFlagsEager(x86.FlagCF|x86.FlagOF, b2f(msb(r), x86.FlagCF)|b2f(msb(r) != (r&(signBit(s)>>1) != 0), x86.FlagOF))
	case x86asm.RCL:
		k := n % (w + 1)
		cf := c.cf()
		r = a
		for i := uint(0); i < k; i++ {
			out := msb(r)
			r = (r<<1)&m | uint64(b2f(cf, 1))
			cf = out
		}
		c.set(in, 0, r)
		c.setFlagsEager(x86.FlagCF|x86.FlagOF, b2f(cf, x86.FlagCF)|b2f(msb(r) != cf, x86.FlagOF))
	case x86asm.RCR:
		k := n % (w + 1)
		cf := c.cf()
		of := msb(a) != cf
		r = a
		for i := uint(0); i < k; i++ {
			out := r&1 != 0
			r = r>>1 | b2f(cf, signBit(s))
			cf = out
		}
		c.set(in, 0, r)
		c.setFlagsEager(x86.FlagCF|x86.FlagOF, b2f(cf, x86.FlagCF)|b2f(of, x86.FlagOF))
	}
}

// shl, shr and sar compute SHL, SHR and SAR of a (size s bytes) by a
// masked count n: the result, CF and OF (OF as for a count of 1,
// whatever the count; SAR's is 0), r = a for n = 0. Small enough to be
// inlined.
func shl(a uint64, n uint, s uint8) (r uint64, cf, of bool) {
	w := uint(8 * uint(s))
	r = (a << n) & sizeMask(s)
	cf = n <= w && (a>>(w-n))&1 != 0
	return r, cf, (r&signBit(s) != 0) != cf
}

func shr(a uint64, n uint, s uint8) (r uint64, cf, of bool) {
	return a >> n, (a>>(n-1))&1 != 0, a&signBit(s) != 0
}

func sar(a uint64, n uint, s uint8) (r uint64, cf bool) {
	sa := int64(signExtend(a, s))
	k := min(n, 63)
	return uint64(sa>>k) & sizeMask(s), (sa>>(k-1))&1 != 0
}

// shiftArith executes SHL, SHR and SAR with lazy flags, and is what
// exec runs for every shift or rotate of a register (clsShiftR): the
// rotates go on to shift. A register destination and its count (CL or an
// immediate) are read without the generic operand accessors.
func (c *CPU) shiftArith(in *inst) {
	d := &in.args[0]
	s := d.size
	reg := d.kind == argReg
	var a uint64
	var n uint
	if !reg {
		a = c.get(in, 0)
		n = uint(c.get(in, 1))
	} else if a = c.gpr[d.reg] & sizeMask(s); in.args[1].kind == argReg {
		n = uint(c.gpr[in.args[1].reg])
	} else {
		n = uint(in.imm)
	}
	n &= countMask(s)
	var r uint64
	var cf, of bool
	switch x86asm.Op(in.op) {
	case x86asm.SHL:
		r, cf, of = shl(a, n, s)
	case x86asm.SHR:
		r, cf, of = shr(a, n, s)
	case x86asm.SAR:
		r, cf = sar(a, n, s)
	default:
		c.shift(in) // a rotate of a register
		return
	}
	if reg {
		c.setReg(d.reg, s, r)
	} else {
		c.set(in, 0, r)
	}
	if n != 0 { // a count of 0 changes no flags (but still writes: a 32-bit register zero-extends)
		c.setShiftFlags(s, r, cf, of)
	}
}

// countMask is the mask of a shift count: 5 bits, 6 with a 64-bit operand.
func countMask(s uint8) uint {
	if s == 8 {
		return 63
	}
	return 31
}

// shiftDouble executes SHLD and SHRD (SDM Vol. 2 SHLD/SHRD).
func (c *CPU) shiftDouble(in *inst) {
	s := in.args[0].size
	w := uint(8 * uint(s))
	m := sizeMask(s)
	a := c.get(in, 0)
	b := c.get(in, 1)
	n := uint(c.get(in, 2))
	if s == 8 {
		n &= 63
	} else {
		n &= 31
	}
	if n == 0 {
		c.set(in, 0, a)
		return
	}
	var r uint64
	var cf bool
	if in.op == uint16(x86asm.SHLD) {
		if s == 8 {
			r = a<<n | b>>(64-n)
		} else {
			// Shift the concatenation a:b (b below) as a 2w-bit value.
			v := a<<w | b
			r = (v << n >> w) & m
			if n > w { // undefined for 16-bit operands with counts > 16
				r = (b << (n - w)) & m
			}
		}
		cf = n <= w && (a>>(w-n))&1 != 0
	} else {
		if s == 8 {
			r = a>>n | b<<(64-n)
		} else {
			v := b<<w | a
			r = (v >> n) & m
		}
		cf = (a>>(n-1))&1 != 0
	}
	c.set(in, 0, r)
	c.setShiftFlags(s, r, cf, (r^a)&signBit(s) != 0)
}
