package cpu

import "vmapstack/target/x86"

// What the x87 and SSE families share: the checks of CR0 and CR4 that come
// before any of their instructions executes, and the 16-byte memory
// accesses of XMM operands and the FXSAVE area.

// checkX87 raises #NM for an x87 instruction (other than WAIT/FWAIT) when
// CR0.EM or CR0.TS is set (SDM Vol. 3A 2.5 and Table 12-1: the OS uses TS
// to save the FPU state lazily, EM to emulate it).
func (c *CPU) checkX87() {
	if c.cr0&(x86.CR0EM|x86.CR0TS) != 0 {
		c.raise(x86.VecNM)
	}
}

// checkWait raises #NM for WAIT/FWAIT when CR0.MP and CR0.TS are both set
// (SDM Vol. 3A 2.5, Table 2-2).
func (c *CPU) checkWait() {
	if c.cr0&(x86.CR0MP|x86.CR0TS) == x86.CR0MP|x86.CR0TS {
		c.raise(x86.VecNM)
	}
}

// checkSSE is the order of checks before an SSE/SSE2/SSE3 instruction
// (SDM Vol. 3A 13.1, Table 13-x "SSE and SSE2 exception conditions"):
// #UD when CR0.EM is set or the OS has not enabled FXSAVE/FXRSTOR
// (CR4.OSFXSR clear), then #NM when CR0.TS is set.
func (c *CPU) checkSSE() {
	if c.cr0&x86.CR0EM != 0 || c.cr4&x86.CR4OSFXSR == 0 {
		c.raise(x86.VecUD)
	}
	if c.cr0&x86.CR0TS != 0 {
		c.raise(x86.VecNM)
	}
}

// read128 reads 16 bytes at a linear address as a data access of the
// current privilege level; both pages are translated before anything is
// returned, so a fault in the second leaves no partial state behind.
func (c *CPU) read128(lin uint64) (lo, hi uint64) {
	if c.watching {
		c.checkWatch(lin, 16, WatchRead)
	}
	if lin&0xfff <= pageSize-16 {
		p := c.xlate(lin, accRead)
		return c.physRead(p, 8), c.physRead(p+8, 8)
	}
	return c.readSplit(lin, 8, false), c.readSplit(lin+8, 8, false)
}

// write128 writes 16 bytes at a linear address; a write that crosses a
// page translates both pages before storing any byte.
func (c *CPU) write128(lin uint64, lo, hi uint64) {
	if c.watching {
		c.checkWatch(lin, 16, WatchWrite)
	}
	if lin&0xfff <= pageSize-16 {
		p := c.xlate(lin, accWrite)
		c.physWrite(p, 8, lo)
		c.physWrite(p+8, 8, hi)
		return
	}
	c.checkWrite(lin, 16)
	c.write(lin, 8, lo)
	c.write(lin+8, 8, hi)
}

// checkAligned16 raises #GP(0) for a 16-byte operand of an aligned form
// (MOVAPS, MOVDQA, the legacy-SSE arithmetic forms with m128, FXSAVE...)
// that is not on a 16-byte boundary (SDM Vol. 1 10.4.1.1, 11.4.5).
func (c *CPU) checkAligned16(lin uint64) {
	if lin&15 != 0 {
		c.raiseErr(x86.VecGP, 0)
	}
}
