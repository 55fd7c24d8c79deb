package cpu

import "vmapstack/target/x86"

// Exception and interrupt delivery (SDM Vol. 3A 6.12-6.15), segment
// descriptor loads and the far transfers that change CS.

// Exception classes for the double-fault rules (SDM Vol. 3A Tables 6-4
// and 6-5).
const (
	classBenign = iota
	classContributory
	classPageFault
	classDoubleFault
)

func classOf(vector uint8, kind EventKind) int {
	if kind != EventException {
		return classBenign
	}
	switch vector {
	case 0, 10, 11, 12, 13:
		return classContributory
	case 14:
		return classPageFault
	case 8:
		return classDoubleFault
	}
	return classBenign
}

// deliverSoftware delivers INT n / INT3 / INTO: a trap, so the frame holds
// the next instruction.
func (c *CPU) deliverSoftware(v uint8) {
	ret := c.next
	c.deliver(v, EventSoftware, false, 0, ret)
	c.next = c.rip // deliver moved RIP to the handler
	c.softDelivered = true
	c.brk = true
}

// deliver delivers an event and, when the delivery itself faults, applies
// the double-fault rules: benign with anything is delivered serially,
// contributory+contributory or #PF+(contributory|#PF) become #DF, and a
// fault while delivering #DF shuts the processor down (triple fault).
// ret is the RIP the frame records.
func (c *CPU) deliver(vec uint8, kind EventKind, hasErr bool, code uint64, ret uint64) {
	var nested uint64
	for {
		c.nevents++
		ev := &c.events[c.nevents%eventRing]
		*ev = Event{
			Seq: c.nevents, Instret: c.instret, Kind: kind, Vector: vec,
			HasError: hasErr, ErrorCode: code, CR2: c.cr2,
			CS: c.seg[CS].Sel, RIP: c.rip, SS: c.seg[SS].Sel, RSP: c.gpr[RSP],
			CPL: c.cpl, RAX: c.gpr[RAX], Nested: nested,
		}
		f := c.tryDeliver(vec, kind, hasErr, code, ret, ev)
		if f == nil {
			ev.Delivered = true
			if c.breakOn[vec] {
				e := *ev
				c.breakHit = true
				c.breakEvent = &e
			}
			return
		}
		first, second := classOf(vec, kind), classOf(f.vector, EventException)
		if first == classDoubleFault {
			// Record what killed the #DF delivery, then shut down.
			dfe := *ev
			c.nevents++
			c.events[c.nevents%eventRing] = Event{
				Seq: c.nevents, Instret: c.instret, Kind: EventException, Vector: f.vector,
				HasError: f.hasErr, ErrorCode: f.code, CR2: c.cr2,
				CS: c.seg[CS].Sel, RIP: c.rip, SS: c.seg[SS].Sel, RSP: c.gpr[RSP],
				CPL: c.cpl, RAX: c.gpr[RAX], Nested: ev.Seq,
			}
			c.shut = true
			c.halted = false
			c.tripleEvent = &dfe
			return
		}
		if first == classContributory && second == classContributory ||
			first == classPageFault && second != classBenign {
			vec, hasErr, code = x86.VecDF, true, 0
		} else {
			vec, hasErr, code = f.vector, f.hasErr, f.code
		}
		kind = EventException
		nested = ev.Seq
		ret = c.rip
	}
}

// tryDeliver performs one delivery attempt; the registers change only if
// it succeeds (the frame is written to memory first).
func (c *CPU) tryDeliver(vec uint8, kind EventKind, hasErr bool, code uint64, ret uint64, ev *Event) (f *fault) {
	defer func() {
		if r := recover(); r != nil {
			ff, ok := r.(*fault)
			if !ok {
				panic(r)
			}
			f = ff
		}
	}()
	if c.efer&x86.EFERLMA != 0 {
		c.deliver64(vec, kind, hasErr, code, ret, ev)
	} else if c.cr0&x86.CR0PE != 0 {
		c.deliver32(vec, kind, hasErr, code, ret, ev)
	} else {
		c.deliverReal(vec, ret)
	}
	return nil
}

// deliver64 is IA-32e mode delivery through a 16-byte interrupt or trap
// gate (SDM Vol. 3A 6.14): stack switch to RSP0 on a privilege change or
// to IST n when the gate names one, RSP aligned down to 16, frame SS RSP
// RFLAGS CS RIP and the error code.
func (c *CPU) deliver64(vec uint8, kind EventKind, hasErr bool, code uint64, ret uint64, ev *Event) {
	ext := uint64(0)
	if kind != EventSoftware {
		ext = 1
	}
	gateErr := uint64(vec)<<3 | 2 | ext
	off := uint64(vec) * 16
	if off+15 > uint64(c.idtr.Limit) {
		c.raiseErr(x86.VecGP, gateErr)
	}
	lo := c.readSup(c.idtr.Base+off, 8)
	hi := c.readSup(c.idtr.Base+off+8, 8)
	typ := lo >> 40 & 0xf
	dpl := int(lo >> 45 & 3)
	if typ != 0xe && typ != 0xf {
		c.raiseErr(x86.VecGP, gateErr)
	}
	if kind == EventSoftware && dpl < c.cpl {
		c.raiseErr(x86.VecGP, uint64(vec)<<3|2)
	}
	if lo>>47&1 == 0 {
		c.raiseErr(x86.VecNP, gateErr)
	}
	sel := uint16(lo >> 16)
	target := lo&0xffff | (lo>>48&0xffff)<<16 | (hi&0xffffffff)<<32
	ist := int(lo >> 32 & 7)
	if sel&^3 == 0 {
		c.raiseErr(x86.VecGP, ext)
	}
	cs := c.loadDesc(sel, x86.VecGP)
	if cs.Attr&0x18 != 0x18 || cs.Attr&0x2000 == 0 {
		c.raiseErr(x86.VecGP, uint64(sel&^3)|ext)
	}
	if cs.Attr&0x80 == 0 {
		c.raiseErr(x86.VecNP, uint64(sel&^3)|ext)
	}
	newCPL := int(cs.Attr >> 5 & 3)
	if cs.Attr&0x4 != 0 { // conforming: keeps CPL
		newCPL = c.cpl
	}
	rsp := c.gpr[RSP]
	if ist != 0 {
		rsp = c.readTSS(0x24+8*uint64(ist-1), ext)
	} else if newCPL < c.cpl {
		rsp = c.readTSS(4+8*uint64(newCPL), ext)
	}
	rsp &^= 15
	n := uint64(40)
	if hasErr {
		n = 48
	}
	if !canonical(rsp-n) || !canonical(rsp-1) {
		c.raiseErr(x86.VecSS, ext)
	}
	top := rsp - 8
	c.writeSup(top, 8, uint64(c.seg[SS].Sel))
	c.writeSup(top-8, 8, c.gpr[RSP])
	c.writeSup(top-16, 8, c.rflags())
	c.writeSup(top-24, 8, uint64(c.seg[CS].Sel))
	c.writeSup(top-32, 8, ret)
	if hasErr {
		c.writeSup(top-40, 8, code)
	}
	// Committed: nothing below can fault.
	c.gpr[RSP] = rsp - n
	if newCPL != c.cpl {
		c.seg[SS] = Seg{Sel: uint16(newCPL)} // NULL SS with RPL = new CPL
	}
	cs.Sel = sel&^3 | uint16(newCPL)
	c.seg[CS] = cs
	c.enterHandler(target, typ == 0xe)
	ev.IST = ist
	ev.NewRSP = c.gpr[RSP]
}

func (c *CPU) enterHandler(target uint64, intGate bool) {
	c.materialize()
	c.flags &^= x86.FlagTF | x86.FlagNT | x86.FlagRF | x86.FlagVM
	if intGate {
		c.flags &^= x86.FlagIF
	}
	c.rip = target
	c.next = target
	c.halted = false
	c.skipBP = false // a breakpoint at the handler must fire
	c.updateMode()
}

// readTSS reads a 64-bit field of the current TSS, #TS if outside it.
func (c *CPU) readTSS(off uint64, ext uint64) uint64 {
	if off+7 > uint64(c.tr.Limit) {
		c.raiseErr(x86.VecTS, uint64(c.tr.Sel&^3)|ext)
	}
	return c.readSup(c.tr.Base+off, 8)
}

// deliver32 is protected-mode delivery through an 8-byte 32-bit
// interrupt or trap gate on the current stack (the PVH entry runs at
// CPL 0; a privilege change reads SS0:ESP0 from the 32-bit TSS).
func (c *CPU) deliver32(vec uint8, kind EventKind, hasErr bool, code uint64, ret uint64, ev *Event) {
	ext := uint64(0)
	if kind != EventSoftware {
		ext = 1
	}
	gateErr := uint64(vec)<<3 | 2 | ext
	off := uint64(vec) * 8
	if off+7 > uint64(c.idtr.Limit) {
		c.raiseErr(x86.VecGP, gateErr)
	}
	lo := c.readSup(c.idtr.Base+off, 8)
	typ := lo >> 40 & 0xf
	dpl := int(lo >> 45 & 3)
	if typ != 0xe && typ != 0xf {
		c.raiseErr(x86.VecGP, gateErr)
	}
	if kind == EventSoftware && dpl < c.cpl {
		c.raiseErr(x86.VecGP, uint64(vec)<<3|2)
	}
	if lo>>47&1 == 0 {
		c.raiseErr(x86.VecNP, gateErr)
	}
	sel := uint16(lo >> 16)
	target := lo&0xffff | (lo>>48&0xffff)<<16
	if sel&^3 == 0 {
		c.raiseErr(x86.VecGP, ext)
	}
	cs := c.loadDesc(sel, x86.VecGP)
	newCPL := int(cs.Attr >> 5 & 3)
	esp := uint32(c.gpr[RSP])
	ss := c.seg[SS]
	if newCPL < c.cpl {
		esp = uint32(c.readSup(c.tr.Base+4+8*uint64(newCPL), 4))
		ss = c.loadDesc(uint16(c.readSup(c.tr.Base+8+8*uint64(newCPL), 2)), x86.VecTS)
	}
	var frame []uint64
	if newCPL != c.cpl {
		frame = append(frame, uint64(c.seg[SS].Sel), uint64(uint32(c.gpr[RSP])))
	}
	frame = append(frame, c.rflags(), uint64(c.seg[CS].Sel), ret)
	if hasErr {
		frame = append(frame, code)
	}
	sp := esp
	for _, v := range frame {
		sp -= 4
		c.writeSup(uint64(uint32(ss.Base+uint64(sp))), 4, v)
	}
	c.gpr[RSP] = uint64(sp)
	c.seg[SS] = ss
	cs.Sel = sel&^3 | uint16(newCPL)
	c.seg[CS] = cs
	c.enterHandler(target, typ == 0xe)
	ev.NewRSP = c.gpr[RSP]
}

// deliverReal uses the real-mode interrupt vector table.
func (c *CPU) deliverReal(vec uint8, ret uint64) {
	ent := c.readSup(c.idtr.Base+uint64(vec)*4, 4)
	sp := uint16(c.gpr[RSP])
	for _, v := range []uint64{c.rflags(), uint64(c.seg[CS].Sel), ret} {
		sp -= 2
		c.writeSup(c.seg[SS].Base+uint64(sp), 2, v)
	}
	c.setReg(RSP, 2, uint64(sp))
	sel := uint16(ent >> 16)
	c.seg[CS].Sel, c.seg[CS].Base = sel, uint64(sel)<<4
	c.flags &^= x86.FlagIF | x86.FlagTF | x86.FlagAC
	c.enterHandler(ent&0xffff, true)
}

// loadDesc reads the descriptor of sel from the GDT (or the LDT when the
// selector's TI bit is set) into a Seg; errVec is the exception for an
// out-of-limit selector (#GP, or #TS while switching stacks).
func (c *CPU) loadDesc(sel uint16, errVec uint8) Seg {
	if sel&4 != 0 {
		if c.ldtr.Sel == 0 || uint64(sel|7) > uint64(c.ldtr.Limit) {
			c.raiseErr(errVec, uint64(sel&^3))
		}
		return parseDesc(sel, c.readSup(c.ldtr.Base+uint64(sel&^7), 8))
	}
	if uint64(sel|7) > uint64(c.gdtr.Limit) {
		c.raiseErr(errVec, uint64(sel&^3))
	}
	return parseDesc(sel, c.readSup(c.gdtr.Base+uint64(sel&^7), 8))
}

func parseDesc(sel uint16, d uint64) Seg {
	limit := uint32(d&0xffff) | uint32(d>>48&0xf)<<16
	attr := uint16(d>>40&0xff) | uint16(d>>52&0xf)<<12
	if attr&0x8000 != 0 {
		limit = limit<<12 | 0xfff
	}
	base := d>>16&0xffffff | (d>>56&0xff)<<24
	return Seg{Sel: sel, Base: base, Limit: limit, Attr: attr}
}

// movToSeg loads a data or stack segment register (MOV Sreg, POP Sreg).
func (c *CPU) movToSeg(r uint8, sel uint16) {
	switch r {
	case CS:
		c.raise(x86.VecUD)
	case SS:
		if sel&^3 == 0 {
			if c.mode != 64 || sel&3 != uint16(c.cpl) {
				c.raiseErr(x86.VecGP, 0)
			}
			c.seg[SS] = Seg{Sel: sel, Attr: uint16(c.cpl) << 5}
		} else {
			s := c.loadDesc(sel, x86.VecGP)
			if s.Attr&0x1a != 0x12 || int(s.Attr>>5&3) != c.cpl {
				c.raiseErr(x86.VecGP, uint64(sel&^3))
			}
			if s.Attr&0x80 == 0 {
				c.raiseErr(x86.VecSS, uint64(sel&^3))
			}
			c.setAccessed(&s)
			c.seg[SS] = s
		}
		c.shadowAt = c.instret + 1 // MOV SS blocks interrupts for one instruction
		c.brk = true
	default:
		if sel&^3 == 0 {
			// A null selector: the register becomes unusable; in 64-bit
			// mode FS/GS keep their base (it comes from the MSRs).
			base := uint64(0)
			if c.mode == 64 {
				base = c.seg[r].Base
			}
			c.seg[r] = Seg{Sel: sel, Base: base}
		} else {
			s := c.loadDesc(sel, x86.VecGP)
			if s.Attr&0x10 == 0 || s.Attr&0xa == 0x8 { // system, or execute-only code
				c.raiseErr(x86.VecGP, uint64(sel&^3))
			}
			if s.Attr&0x80 == 0 {
				c.raiseErr(x86.VecNP, uint64(sel&^3))
			}
			c.setAccessed(&s)
			c.seg[r] = s
		}
	}
	c.updateMode()
}

// setAccessed sets the accessed bit of a data or stack segment's
// descriptor in the GDT when it is loaded (SDM Vol. 3A 3.4.5.1), as QEMU
// does for data segment loads.
func (c *CPU) setAccessed(s *Seg) {
	if s.Attr&1 != 0 || s.Sel&4 != 0 {
		return
	}
	a := c.gdtr.Base + uint64(s.Sel&^7) + 5
	c.writeSup(a, 1, c.readSup(a, 1)|1)
	s.Attr |= 1
}

// loadCS loads CS for a far transfer at the current privilege level.
func (c *CPU) loadCS(sel uint16) Seg {
	if sel&^3 == 0 {
		c.raiseErr(x86.VecGP, 0)
	}
	s := c.loadDesc(sel, x86.VecGP)
	if s.Attr&0x18 != 0x18 {
		c.raiseErr(x86.VecGP, uint64(sel&^3))
	}
	if s.Attr&0x80 == 0 {
		c.raiseErr(x86.VecNP, uint64(sel&^3))
	}
	return s
}

// farJump executes LJMP/LCALL, with a ptr16:16/32 immediate or an m16:xx
// memory operand (the offset first, then the selector).
func (c *CPU) farJump(in *inst, call bool) {
	var sel uint16
	var off uint64
	if in.args[0].kind == argImm {
		if c.mode == 64 {
			c.raise(x86.VecUD)
		}
		sel, off = uint16(in.imm), in.imm2()
	} else {
		a := c.ea(in)
		s := in.osize
		off = c.read(c.lin(in.mseg, a), s)
		sel = uint16(c.read(c.lin(in.mseg, a+uint64(s)), 2))
	}
	cs := c.loadCS(sel)
	cs.Sel = sel&^3 | uint16(c.cpl)
	if call {
		s := in.stackSize()
		if c.mode == 64 {
			s = in.osize
		}
		c.push(uint64(c.seg[CS].Sel), s)
		c.push(c.next, s)
	}
	c.seg[CS] = cs
	c.updateMode()
	c.next = off
	if c.mode != 64 {
		c.next = uint64(uint32(off))
	}
}

// farReturn is LRET (same privilege only; the kernel uses it to reload CS).
func (c *CPU) farReturn(in *inst) {
	s := in.osize
	off := c.peek(0, s)
	sel := uint16(c.peek(uint64(s), s))
	cs := c.loadCS(sel)
	if int(sel&3) != c.cpl {
		c.raiseErr(x86.VecGP, uint64(sel&^3))
	}
	c.gpr[RSP] = c.spAdd(2 * uint64(s))
	if in.nargs > 0 {
		c.gpr[RSP] = c.spAdd(uint64(uint16(in.imm)))
	}
	c.seg[CS] = cs
	c.updateMode()
	c.next = off
}

// iret returns from an interrupt or exception handler (SDM Vol. 2 IRET):
// in 64-bit mode it always pops RIP CS RFLAGS RSP SS; in protected mode
// RSP and SS only on a return to an outer privilege level.
func (c *CPU) iret(in *inst) {
	s := in.osize
	if c.cr0&x86.CR0PE == 0 {
		ip := c.peek(0, s)
		sel := uint16(c.peek(uint64(s), s))
		fl := c.peek(2*uint64(s), s)
		c.gpr[RSP] = c.spAdd(3 * uint64(s))
		c.seg[CS].Sel, c.seg[CS].Base = sel, uint64(sel)<<4
		c.setRflags(c.rflags()&^sizeMask(s) | fl&sizeMask(s))
		c.next = ip
		c.updateMode()
		return
	}
	rip := c.peek(0, s)
	sel := uint16(c.peek(uint64(s), s))
	fl := c.peek(2*uint64(s), s)
	cs := c.loadCS(sel)
	rpl := int(sel & 3)
	if rpl < c.cpl {
		c.raiseErr(x86.VecGP, uint64(sel&^3))
	}
	var rsp uint64
	var ss Seg
	outer := rpl > c.cpl
	if c.mode == 64 || outer {
		rsp = c.peek(3*uint64(s), s)
		ssel := uint16(c.peek(4*uint64(s), s))
		if ssel&^3 == 0 {
			if c.mode != 64 || cs.Attr&0x2000 == 0 || rpl == 3 {
				c.raiseErr(x86.VecGP, 0)
			}
			ss = Seg{Sel: ssel, Attr: uint16(rpl) << 5}
		} else {
			ss = c.loadDesc(ssel, x86.VecGP)
		}
	}
	old := c.rflags()
	mask := uint64(writableFlags)
	if c.cpl > 0 {
		mask &^= x86.FlagIOPL
		if uint64(c.cpl) > (old&x86.FlagIOPL)>>12 {
			mask &^= x86.FlagIF
		}
	}
	if s == 4 {
		mask &= 0xffffffff
	} else if s == 2 {
		mask &= 0xffff
	}
	if c.mode == 64 || outer {
		c.gpr[RSP] = rsp
		c.seg[SS] = ss
	} else {
		c.gpr[RSP] = c.spAdd(3 * uint64(s))
	}
	c.setRflags(old&^mask | fl&mask)
	c.seg[CS] = cs
	c.updateMode()
	if c.mode != 64 {
		rip = uint64(uint32(rip))
	}
	c.next = rip
}

// ltr loads the task register from a 64-bit (16-byte in IA-32e mode) TSS
// descriptor and marks it busy in the GDT, as the processor does.
func (c *CPU) ltr(sel uint16) {
	if sel&^3 == 0 || sel&4 != 0 {
		c.raiseErr(x86.VecGP, uint64(sel&^3))
	}
	s := c.loadDesc(sel, x86.VecGP)
	if s.Attr&0x1f != 0x09 && s.Attr&0x1f != 0x01 {
		c.raiseErr(x86.VecGP, uint64(sel&^3))
	}
	if s.Attr&0x80 == 0 {
		c.raiseErr(x86.VecNP, uint64(sel&^3))
	}
	addr := c.gdtr.Base + uint64(sel&^7)
	if c.efer&x86.EFERLMA != 0 {
		if uint64(sel&^7)+15 > uint64(c.gdtr.Limit) {
			c.raiseErr(x86.VecGP, uint64(sel&^3))
		}
		s.Base |= c.readSup(addr+8, 8) << 32
	}
	c.writeSup(addr+5, 1, c.readSup(addr+5, 1)|2) // busy
	s.Attr |= 2
	c.tr = s
}

func (c *CPU) lldt(sel uint16) {
	if sel&^3 == 0 {
		c.ldtr = Seg{Sel: sel}
		return
	}
	s := c.loadDesc(sel, x86.VecGP)
	if s.Attr&0x1f != 0x02 {
		c.raiseErr(x86.VecGP, uint64(sel&^3))
	}
	if c.efer&x86.EFERLMA != 0 {
		s.Base |= c.readSup(c.gdtr.Base+uint64(sel&^7)+8, 8) << 32
	}
	c.ldtr = s
}
