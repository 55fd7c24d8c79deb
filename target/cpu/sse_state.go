package cpu

import (
	"encoding/binary"

	"vmapstack/target/x86"

	"golang.org/x/arch/x86/x86asm"
)

// EMMS, LDMXCSR, STMXCSR, FXSAVE and FXRSTOR (SDM Vol. 1 9.5.1, 10.2.3,
// 10.5; Vol. 2 FXSAVE, Tables 3-53 to 3-56 "Layout of the 64-bit-mode
// FXSAVE map").

const fxsaveSize = 512

func (c *CPU) execSSEState(in *inst) {
	op := x86asm.Op(in.op)
	switch op {
	case x86asm.EMMS:
		c.checkMMX()
		c.fpu.FTAG = 0xffff // every register empty
	case x86asm.LDMXCSR, x86asm.STMXCSR:
		c.checkSSE()
		if in.args[0].kind != argMem {
			c.raise(x86.VecUD)
		}
		a := c.memAddr(in)
		if op == x86asm.STMXCSR {
			c.write(a, 4, uint64(c.fpu.MXCSR))
			return
		}
		v := uint32(c.read(a, 4))
		if v&^x86.MXCSRMask != 0 {
			c.raiseErr(x86.VecGP, 0)
		}
		c.fpu.MXCSR = v
	case x86asm.FXSAVE, x86asm.FXSAVE64:
		c.fxsave(in, op == x86asm.FXSAVE64)
	case x86asm.FXRSTOR, x86asm.FXRSTOR64:
		c.fxrstor(in, op == x86asm.FXRSTOR64)
	}
}

// fxArea checks an FXSAVE/FXRSTOR operand: CR0.EM or CR0.TS give #NM
// (SDM Vol. 2 FXSAVE, Protected Mode Exceptions), a misaligned area
// #GP(0). It returns the linear address and the number of bytes the
// instruction transfers: the x87 part always, MXCSR and the XMM
// registers (16 of them in 64-bit mode, 8 otherwise) only when
// CR4.OSFXSR is set, as QEMU does (the SDM leaves it to the
// implementation); bytes 416-511 are reserved and left alone.
func (c *CPU) fxArea(in *inst) (a uint64, n int, sse bool) {
	c.checkX87()
	if in.args[0].kind != argMem {
		c.raise(x86.VecUD)
	}
	a = c.memAddr(in)
	c.checkAligned16(a)
	nx := 8
	if c.mode == 64 {
		nx = 16
	}
	sse = c.cr4&x86.CR4OSFXSR != 0
	n = 160
	if sse {
		n += 16 * nx
	}
	return a, n, sse
}

// fxTop is TOP, the physical register that is ST(0).
func (c *CPU) fxTop() int { return int(c.fpu.FSTAT&x86.FSWTop) >> x86.FSWTopShift }

func (c *CPU) fxsave(in *inst, w64 bool) {
	a, n, sse := c.fxArea(in)
	var img [fxsaveSize]byte
	f := &c.fpu
	le := binary.LittleEndian
	le.PutUint16(img[0:], uint16(f.FCTRL))
	le.PutUint16(img[2:], uint16(f.FSTAT))
	var ftw byte
	for i := 0; i < 8; i++ {
		if f.FTAG>>(2*i)&3 != x86.FTagEmpty {
			ftw |= 1 << i
		}
	}
	img[4] = ftw
	le.PutUint16(img[6:], uint16(f.FOP&0x7ff))
	if w64 {
		le.PutUint64(img[8:], uint64(f.FIOFF))
		le.PutUint64(img[16:], uint64(f.FOOFF))
	} else {
		le.PutUint32(img[8:], f.FIOFF)
		le.PutUint16(img[12:], uint16(f.FISEG))
		le.PutUint32(img[16:], f.FOOFF)
		le.PutUint16(img[20:], uint16(f.FOSEG))
	}
	if sse {
		le.PutUint32(img[24:], f.MXCSR)
		le.PutUint32(img[28:], x86.MXCSRMask)
	}
	top := c.fxTop()
	for i := 0; i < 8; i++ {
		copy(img[32+16*i:], f.ST[(top+i)&7][:])
	}
	for i := 0; 160+16*i < n; i++ {
		copy(img[160+16*i:], f.XMM[i][:])
	}
	// Both pages are translated for writing before anything is stored.
	c.checkWrite(a, 1)
	c.checkWrite(a+uint64(n)-1, 1)
	for off := 0; off < n; off += 16 {
		if !sse && off == 16 {
			// bytes 16-23 (FDP, FDS) are x87 state, 24-31 MXCSR
			c.write(a+16, 8, le.Uint64(img[16:]))
			continue
		}
		c.write128(a+uint64(off), le.Uint64(img[off:]), le.Uint64(img[off+8:]))
	}
}

func (c *CPU) fxrstor(in *inst, w64 bool) {
	a, n, sse := c.fxArea(in)
	var img [fxsaveSize]byte
	le := binary.LittleEndian
	for off := 0; off < n; off += 16 {
		lo, hi := c.read128(a + uint64(off))
		le.PutUint64(img[off:], lo)
		le.PutUint64(img[off+8:], hi)
	}
	mxcsr := le.Uint32(img[24:])
	if sse && mxcsr&^x86.MXCSRMask != 0 {
		c.raiseErr(x86.VecGP, 0)
	}
	f := &c.fpu
	f.FCTRL = uint32(le.Uint16(img[0:]))
	f.FSTAT = uint32(le.Uint16(img[2:]))
	f.FOP = uint32(le.Uint16(img[6:]) & 0x7ff)
	if w64 {
		f.FIOFF = le.Uint32(img[8:])
		f.FOOFF = le.Uint32(img[16:])
	} else {
		f.FIOFF = le.Uint32(img[8:])
		f.FISEG = uint32(le.Uint16(img[12:]))
		f.FOOFF = le.Uint32(img[16:])
		f.FOSEG = uint32(le.Uint16(img[20:]))
	}
	top := c.fxTop()
	for i := 0; i < 8; i++ {
		copy(f.ST[(top+i)&7][:], img[32+16*i:32+16*i+10])
	}
	// The full tag word from the abridged one: empty where the bit is
	// clear, otherwise what the register holds (SDM Vol. 1 Table 10-2
	// note: valid, zero or special).
	ftw := img[4]
	var tag uint32
	for i := 0; i < 8; i++ {
		t := uint32(x86.FTagEmpty)
		if ftw&(1<<i) != 0 {
			t = fxTag(&f.ST[i])
		}
		tag |= t << (2 * i)
	}
	f.FTAG = tag
	if sse {
		f.MXCSR = mxcsr
		for i := 0; 160+16*i < n; i++ {
			copy(f.XMM[i][:], img[160+16*i:160+16*i+16])
		}
	}
}

// fxTag classifies an 80-bit register for the tag word (SDM Vol. 1
// 8.1.7): valid, zero, or special (NaN, infinity, denormal, unnormal).
func fxTag(r *[10]byte) uint32 {
	m := binary.LittleEndian.Uint64(r[:8])
	e := binary.LittleEndian.Uint16(r[8:]) & 0x7fff
	switch {
	case e == 0x7fff:
		return x86.FTagSpecial
	case e == 0 && m == 0:
		return x86.FTagZero
	case e == 0 || m>>63 == 0:
		return x86.FTagSpecial
	}
	return x86.FTagValid
}
