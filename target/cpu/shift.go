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
	s := in.args[0].size
	w := uint(8 * uint(s))
	m := sizeMask(s)
	a := c.get(in, 0)
	n := uint(c.get(in, 1))
	if s == 8 {
		n &= 63
	} else {
		n &= 31
	}
	if n == 0 {
		c.set(in, 0, a) // still a write: a 32-bit register zero-extends
		return
	}
	msb := func(v uint64) bool { return v&signBit(s) != 0 }
	var r uint64
	switch x86asm.Op(in.op) {
	case x86asm.SHL:
		r = (a << n) & m
		cf := n <= w && (a>>(w-n))&1 != 0
		c.set(in, 0, r)
		c.setFlagsEager(arithFlags, szp(r, s)|b2f(cf, x86.FlagCF)|b2f(msb(r) != cf, x86.FlagOF))
	case x86asm.SHR:
		r = a >> n
		cf := (a>>(n-1))&1 != 0
		c.set(in, 0, r)
		c.setFlagsEager(arithFlags, szp(r, s)|b2f(cf, x86.FlagCF)|b2f(msb(a), x86.FlagOF))
	case x86asm.SAR:
		sa := int64(signExtend(a, s))
		k := n
		if k > 63 {
			k = 63
		}
		r = uint64(sa>>k) & m
		cf := (sa>>(k-1))&1 != 0
		c.set(in, 0, r)
		c.setFlagsEager(arithFlags, szp(r, s)|b2f(cf, x86.FlagCF))
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
	of := (r^a)&signBit(s) != 0
	c.setFlagsEager(arithFlags, szp(r, s)|b2f(cf, x86.FlagCF)|b2f(of, x86.FlagOF))
}
