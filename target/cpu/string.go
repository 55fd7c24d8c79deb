package cpu

import (
	"golang.org/x/arch/x86/x86asm"

	"vmapstack/target/x86"
)

// repChunk bounds the iterations one REP instruction runs before it is
// counted as retired and restarted, so a huge RCX cannot stall the loop
// (the architecture allows interrupting REP between iterations, SDM Vol.
// 2 REP).
const repChunk = 1 << 16

type strKind uint8

const (
	strMovs strKind = iota
	strStos
	strLods
	strCmps
	strScas
	strIns
	strOuts
)

var strOps = func() (t [x86asm.XTEST + 1]struct {
	kind strKind
	size uint8
}) {
	set := func(k strKind, ops ...x86asm.Op) {
		for i, op := range ops {
			t[op].kind = k
			t[op].size = 1 << i
		}
	}
	set(strMovs, x86asm.MOVSB, x86asm.MOVSW, x86asm.MOVSD, x86asm.MOVSQ)
	set(strStos, x86asm.STOSB, x86asm.STOSW, x86asm.STOSD, x86asm.STOSQ)
	set(strLods, x86asm.LODSB, x86asm.LODSW, x86asm.LODSD, x86asm.LODSQ)
	set(strCmps, x86asm.CMPSB, x86asm.CMPSW, x86asm.CMPSD, x86asm.CMPSQ)
	set(strScas, x86asm.SCASB, x86asm.SCASW, x86asm.SCASD, x86asm.SCASQ)
	set(strIns, x86asm.INSB, x86asm.INSW, x86asm.INSD)
	set(strOuts, x86asm.OUTSB, x86asm.OUTSW, x86asm.OUTSD)
	return t
}()

// str executes the string instructions with their REP prefixes. Each
// iteration updates RSI/RDI/RCX, so a fault in the middle leaves a state
// from which the instruction restarts correctly.
func (c *CPU) str(in *inst) {
	d := strOps[in.op]
	size := d.size
	am := sizeMask(in.asize)
	step := uint64(size)
	if c.flags&x86.FlagDF != 0 {
		step = -step
	}
	src := uint8(DS)
	if in.segovr != noReg {
		src = in.segovr
	}
	if (d.kind == strIns || d.kind == strOuts) && c.cpl > int(c.flags&x86.FlagIOPL>>12) {
		c.raiseErr(x86.VecGP, 0)
	}
	rep := in.rep != 0
	bulk := rep && (d.kind == strMovs || d.kind == strStos) && !c.watching && !c.oneIteration
	for n := 0; ; n++ {
		if rep {
			if c.gpr[RCX]&am == 0 {
				return
			}
			if n >= repChunk {
				c.next = c.rip // not finished: run again
				return
			}
		}
		if bulk {
			if k := c.strBulk(in, d.kind, size, src, repChunk-n); k > 0 {
				n += k - 1
				continue
			}
		}
		si, di := c.gpr[RSI]&am, c.gpr[RDI]&am
		var zf bool
		switch d.kind {
		case strMovs:
			v := c.read(c.lin(src, si), size)
			c.write(c.lin(ES, di), size, v)
			c.setReg(RSI, in.asize, si+step)
			c.setReg(RDI, in.asize, di+step)
		case strStos:
			c.write(c.lin(ES, di), size, c.gpr[RAX])
			c.setReg(RDI, in.asize, di+step)
		case strLods:
			v := c.read(c.lin(src, si), size)
			c.setReg(RAX, size, v)
			c.setReg(RSI, in.asize, si+step)
		case strCmps:
			a := c.read(c.lin(src, si), size)
			b := c.read(c.lin(ES, di), size)
			c.setReg(RSI, in.asize, si+step)
			c.setReg(RDI, in.asize, di+step)
			c.setLazy(lzSub, size, (a-b)&sizeMask(size), a, b)
			zf = a == b
		case strScas:
			a := c.gpr[RAX] & sizeMask(size)
			b := c.read(c.lin(ES, di), size)
			c.setReg(RDI, in.asize, di+step)
			c.setLazy(lzSub, size, (a-b)&sizeMask(size), a, b)
			zf = a == b
		case strIns:
			c.checkWrite(c.lin(ES, di), size)
			v := c.in(uint16(c.gpr[RDX]), size)
			c.write(c.lin(ES, di), size, v)
			c.setReg(RDI, in.asize, di+step)
		case strOuts:
			v := c.read(c.lin(src, si), size)
			c.out(uint16(c.gpr[RDX]), size, v)
			c.setReg(RSI, in.asize, si+step)
		}
		if !rep {
			return
		}
		c.setReg(RCX, in.asize, (c.gpr[RCX]-1)&am)
		if d.kind == strCmps || d.kind == strScas {
			if in.rep == 0xf3 && !zf || in.rep == 0xf2 && zf {
				return
			}
		}
		if c.watchHit || c.oneIteration {
			// Stop after this iteration: a watchpoint fired, or the
			// instruction is being single-stepped, which traps after
			// each iteration of a REP string instruction (SDM Vol. 3A
			// 17.3.1.4; QEMU does the same for gdb's stepi). The
			// instruction resumes where it stopped.
			if c.gpr[RCX]&am != 0 {
				c.next = c.rip
			}
			return
		}
	}
}

// strBulk runs up to max iterations of REP MOVS or REP STOS at once: as
// many as stay inside the current page of the destination (and of the
// source), with offsets that do not wrap at the address size, when both
// pages are RAM and the destination page holds no decoded code. It
// returns how many it ran, 0 when the ordinary path must run the next
// iteration (fewer than two to do, or a page it cannot take).
//
// The result is the one of as many single iterations: the first
// iteration's translations are made in its order (source read, then
// destination write), with their faults, A and D bits; the others touch
// the same two pages with the same rights, so none of them could fault.
// A REP instruction is only interrupted between iterations and resumes
// from the registers (SDM Vol. 2B "REP/REPE/REPZ/REPNE/REPNZ", and Vol.
// 3A 6.6); the iterations of one call are never split by anything: the
// caller leaves single-steps (oneIteration) and watchpoints to the
// ordinary path, and run checks interrupts between instructions only.
// Overlapping MOVS operands are copied element by element in the
// direction DF gives, as the architecture does.
func (c *CPU) strBulk(in *inst, kind strKind, size, src uint8, max int) int {
	am := sizeMask(in.asize)
	sz := uint64(size)
	back := c.flags&x86.FlagDF != 0
	k := c.gpr[RCX] & am
	if k > uint64(max) {
		k = uint64(max)
	}
	di := c.gpr[RDI] & am
	ldi := c.lin(ES, di)
	k = min(k, strRoom(ldi, di, sz, am, back))
	var si, lsi uint64
	if kind == strMovs {
		si = c.gpr[RSI] & am
		lsi = c.lin(src, si)
		k = min(k, strRoom(lsi, si, sz, am, back))
	}
	if k < 2 {
		return 0
	}
	var ps uint64
	if kind == strMovs {
		ps = c.xlate(lsi, accRead)
		if ps|(pageSize-1) >= uint64(len(c.ram)) {
			return 0
		}
	}
	pd := c.xlate(ldi, accWrite)
	if pd|(pageSize-1) >= uint64(len(c.ram)) || c.code[pd>>12] != nil {
		return 0
	}
	n := k * sz
	dlo, slo := pd, ps
	if back {
		dlo, slo = pd-n+sz, ps-n+sz
	}
	dst := c.ram[dlo : dlo+n]
	if kind == strStos {
		c.ramStore(dlo, size, c.gpr[RAX])
		for done := sz; done < n; done *= 2 {
			copy(dst[done:], dst[:done]) // the pattern doubles each time
		}
	} else if slo+n <= dlo || dlo+n <= slo {
		copy(dst, c.ram[slo:slo+n])
	} else {
		step := sz
		if back {
			step = -sz
		}
		for i := uint64(0); i < k; i++ {
			c.ramStore(pd+i*step, size, c.ramLoad(ps+i*step, size))
		}
	}
	step := k * sz
	if back {
		step = -step
	}
	c.setReg(RDI, in.asize, di+step)
	if kind == strMovs {
		c.setReg(RSI, in.asize, si+step)
	}
	c.setReg(RCX, in.asize, (c.gpr[RCX]-k)&am)
	return int(k)
}

// strRoom is how many elements of sz bytes, the first at linear lin and
// offset off, lie wholly in lin's page with offsets inside the address
// size mask am, going down when back.
func strRoom(lin, off, sz, am uint64, back bool) uint64 {
	po := lin & (pageSize - 1)
	if po+sz > pageSize || am-off < sz-1 {
		return 0
	}
	if back {
		return min(po/sz, off/sz) + 1
	}
	return min((pageSize-po)/sz, (am-off-(sz-1))/sz+1)
}
