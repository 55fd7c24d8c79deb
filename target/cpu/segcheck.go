package cpu

import (
	"golang.org/x/arch/x86/x86asm"

	"vmapstack/target/x86"
)

// LAR, LSL, VERR and VERW: questions about a selector that answer in ZF
// instead of faulting (SDM Vol. 2A LAR, Vol. 2B LSL, VERR/VERW). Linux's
// vDSO reads the CPU number with LSL on a processor without RDPID, which
// is qemu64; LFS, LGS and LSS load a far pointer.

// descForCheck reads the descriptor of sel for LAR/LSL/VERR/VERW: ok is
// false for a null selector or one beyond its table's limit, which these
// instructions report with ZF = 0 rather than a fault.
func (c *CPU) descForCheck(sel uint16) (d uint64, ok bool) {
	if sel&^3 == 0 {
		return 0, false
	}
	base, limit := c.gdtr.Base, uint64(c.gdtr.Limit)
	if sel&4 != 0 {
		if c.ldtr.Sel == 0 {
			return 0, false
		}
		base, limit = c.ldtr.Base, uint64(c.ldtr.Limit)
	}
	if uint64(sel|7) > limit {
		return 0, false
	}
	return c.readSup(base+uint64(sel&^7), 8), true
}

// privOK is the privilege test of these instructions: a conforming code
// segment always passes, anything else needs DPL >= CPL and DPL >= RPL.
func (c *CPU) privOK(sel uint16, d uint64) bool {
	typ := d >> 40 & 0x1f
	if typ&0x1c == 0x1c { // S=1, code, conforming
		return true
	}
	dpl := int(d >> 45 & 3)
	return dpl >= c.cpl && dpl >= int(sel&3)
}

// systemTypeOK says which system descriptors LAR (lar=true) and LSL
// accept: in 64-bit mode LDT and the 64-bit TSS (available or busy), and
// for LAR also the 64-bit call gate (SDM Vol. 2A Table 3-58, Vol. 2B
// Table 4-8 for LSL); elsewhere the 16/32-bit TSSs, the LDT, and for LAR
// the call, task and trap... gates of the legacy tables.
func (c *CPU) systemTypeOK(typ uint64, lar bool) bool {
	if c.efer&x86.EFERLMA != 0 {
		return typ == 2 || typ == 9 || typ == 0xb || lar && typ == 0xc
	}
	switch typ {
	case 1, 2, 3, 9, 0xb:
		return true
	case 4, 5, 0xc:
		return lar
	}
	return false
}

func (c *CPU) execSegCheck(in *inst) {
	sel := uint16(c.get(in, int(in.nargs)-1))
	d, ok := c.descForCheck(sel)
	s := d>>44&1 != 0 // code or data
	typ := d >> 40 & 0xf
	if ok && !s {
		typ = d >> 40 & 0x1f
	}
	zf := false
	switch x86asm.Op(in.op) {
	case x86asm.LAR, x86asm.LSL:
		lar := x86asm.Op(in.op) == x86asm.LAR
		if ok && (s || c.systemTypeOK(typ&0xf, lar)) && c.privOK(sel, d) {
			zf = true
			var v uint64
			if lar {
				v = d >> 32 & 0x00f0ff00 // type, S, DPL, P, AVL, L, D/B, G
				if in.osize == 2 {
					v &= 0xff00
				}
			} else {
				v = uint64(parseDesc(sel, d).Limit)
			}
			c.set(in, 0, v)
		}
	case x86asm.VERR:
		// Readable: data, or code with R set; not a system descriptor.
		zf = ok && s && (typ&8 == 0 || typ&2 != 0) && c.privOK(sel, d)
	case x86asm.VERW:
		zf = ok && s && typ&0xa == 2 && c.privOK(sel, d) // writable data
	}
	var f uint64
	if zf {
		f = x86.FlagZF
	}
	c.setFlagsEager(x86.FlagZF, f)
}

// loadFarPointer is LDS/LES/LFS/LGS/LSS r, m16:16|32|64 (SDM Vol. 2A LDS/LES/
// LFS/LGS/LSS): the offset, then the selector after it, loaded into the
// segment register as MOV Sreg would; the register is written last, so a
// fault on the selector leaves it unchanged.
func (c *CPU) loadFarPointer(in *inst) {
	if in.args[1].kind != argMem {
		c.raise(x86.VecUD)
	}
	a := c.memAddr(in)
	size := in.args[0].size
	off := c.read(a, size)
	sel := uint16(c.read(a+uint64(size), 2))
	var r uint8
	switch x86asm.Op(in.op) {
	case x86asm.LFS:
		r = FS
	case x86asm.LGS:
		r = GS
	case x86asm.LDS:
		r = DS
	case x86asm.LES:
		r = ES
	default:
		r = SS
	}
	c.movToSeg(r, sel)
	c.setReg(in.args[0].reg, size, off)
}
