package cpu

import "vmapstack/target/x86"

// State returns the architectural state, RFLAGS materialised.
func (c *CPU) State() State {
	s := State{
		GPR: c.gpr, RIP: c.rip, RFLAGS: c.rflags(),
		Seg: c.seg, LDTR: c.ldtr, TR: c.tr, GDTR: c.gdtr, IDTR: c.idtr,
		CR0: c.cr0, CR2: c.cr2, CR3: c.cr3, CR4: c.cr4, CR8: c.cr8,
		EFER: c.efer, KernelGSBase: c.kernelGSBase,
		ST: c.fpu.ST, FCTRL: c.fpu.FCTRL, FSTAT: c.fpu.FSTAT, FTAG: c.fpu.FTAG,
		FISEG: c.fpu.FISEG, FIOFF: c.fpu.FIOFF, FOSEG: c.fpu.FOSEG, FOOFF: c.fpu.FOOFF, FOP: c.fpu.FOP,
		XMM: c.fpu.XMM, MXCSR: c.fpu.MXCSR,
	}
	return s
}

// SetState replaces the architectural state. It flushes the TLB and the
// decoded-instruction cache (memory may have been replaced along with
// the registers, e.g. when a snapshot is restored) and leaves the
// shut-down state of a triple fault.
func (c *CPU) SetState(s *State) {
	if s.RIP != c.rip {
		c.skipBP = false
	}
	c.gpr = s.GPR
	c.rip = s.RIP
	c.setRflags(s.RFLAGS)
	c.seg = s.Seg
	c.ldtr, c.tr, c.gdtr, c.idtr = s.LDTR, s.TR, s.GDTR, s.IDTR
	c.cr0, c.cr2, c.cr3, c.cr4, c.cr8 = s.CR0|x86.CR0ET, s.CR2, s.CR3, s.CR4, s.CR8
	c.efer, c.kernelGSBase = s.EFER, s.KernelGSBase
	c.fpu = fpuState{
		ST: s.ST, FCTRL: s.FCTRL, FSTAT: s.FSTAT, FTAG: s.FTAG,
		FISEG: s.FISEG, FIOFF: s.FIOFF, FOSEG: s.FOSEG, FOOFF: s.FOOFF, FOP: s.FOP,
		XMM: s.XMM, MXCSR: s.MXCSR,
	}
	if c.shut {
		c.shut = false
		c.halted = false
	}
	c.shadowAt = ^uint64(0)
	c.updateMode()
	c.flushTLB(true)
	c.invalidateCode()
}

// updateMode recomputes what CS, CR0 and EFER imply: the code size, CPL,
// whether paging is on, and the segment bases that apply.
func (c *CPU) updateMode() {
	c.paging = c.cr0&x86.CR0PG != 0
	switch {
	case c.efer&x86.EFERLMA != 0 && c.seg[CS].Attr&0x2000 != 0:
		c.mode = 64
	case c.seg[CS].Attr&0x4000 != 0:
		c.mode = 32
	default:
		c.mode = 16
	}
	c.cpl = int(c.seg[CS].Sel & 3)
	if c.cr0&x86.CR0PE == 0 {
		c.cpl = 0
	}
	c.forgetFetch() // fetch rights depend on CPL
	c.ushift = 0
	if c.cpl == 3 {
		c.ushift = 3
	}
	for i := range c.seg {
		if c.mode == 64 && i < FS {
			c.segBase[i] = 0
		} else {
			c.segBase[i] = c.seg[i].Base
		}
	}
}
