package cpu

import (
	"fmt"
	"runtime/debug"

	"vmapstack/target/x86"

	"golang.org/x/arch/x86/x86asm"
)

// Run executes instructions until Instret() >= limit or something stops
// the machine (see ExitKind).
func (c *CPU) Run(limit uint64) Exit {
	for {
		ex, done := c.run(limit, false)
		if done {
			return ex
		}
	}
}

// Step executes one instruction; if an exception is due instead, it
// delivers it and stops at the handler's first instruction, and so for a
// pending interrupt unless SetStepTakesInterrupts(false) asked for steps
// with interrupts held off (QEMU's default for gdb's stepi).
func (c *CPU) Step() Exit {
	for {
		ex, done := c.run(^uint64(0), true)
		if done {
			return ex
		}
	}
}

// SetStepTakesInterrupts says whether Step delivers a pending external
// interrupt (true, the default) or leaves it for the next Run.
func (c *CPU) SetStepTakesInterrupts(take bool) { c.stepTakesIRQ = take }

// run is the interpreter loop. A fault raised by an instruction unwinds
// to the deferred recover here (faults are rare; this keeps the fast path
// free of error checks), is delivered, and run returns done=false so the
// caller loops, unless the delivery itself must stop the machine.
func (c *CPU) run(limit uint64, step bool) (ex Exit, done bool) {
	if c.shut {
		return Exit{Kind: ExitTripleFault, Event: c.tripleEvent}, true
	}
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if l, ok := r.(limitation); ok {
			ex = Exit{Kind: ExitInternal, Err: fmt.Errorf("cpu: at rip %#x: %s", c.rip, string(l))}
			done = true
			return
		}
		f, ok := r.(*fault)
		if !ok {
			// An emulator bug must not take the process down: stop the
			// machine and say where.
			ex = Exit{Kind: ExitInternal, Err: fmt.Errorf("cpu: internal error at rip %#x: %v\n%s", c.rip, r, debug.Stack())}
			done = true
			return
		}
		c.next = c.rip
		c.watchHit = false
		c.deliver(f.vector, EventException, f.hasErr, f.code, c.rip)
		ex, done = c.afterDelivery()
		if step && !done {
			ex, done = Exit{Kind: ExitStep}, true
		}
	}()
	c.oneIteration = step
	for {
		if c.instret >= limit {
			return Exit{Kind: ExitLimit}, true
		}
		if c.stop.Load() {
			c.stop.Store(false)
			return Exit{Kind: ExitStopRequest}, true
		}
		if c.irq && c.flags&x86.FlagIF != 0 && c.instret != c.shadowAt && (!step || c.stepTakesIRQ) {
			if c.interrupt() {
				ex, done = c.afterDelivery()
				if done {
					return ex, true
				}
				if step {
					return Exit{Kind: ExitStep}, true
				}
				continue
			}
		}
		if c.halted {
			return Exit{Kind: ExitHalt}, true
		}
		if c.nbps != 0 && !c.skipBP && !step && c.bps[c.rip] {
			c.skipBP = true
			return Exit{Kind: ExitBreakpoint, Addr: c.rip}, true
		}
		c.skipBP = false
		if c.flags&x86.FlagTF != 0 {
			// Guest single-stepping (RFLAGS.TF): one instruction, then
			// a #DB trap with DR6.BS if TF was set before it ran (SDM
			// Vol. 3A 17.3.1.4). INT n clears TF on entry: no trap.
			in := c.fetch()
			c.next = c.rip + uint64(in.len)
			c.curSeg = in.mseg
			c.oneIteration = true
			c.exec(in)
			c.oneIteration = step
			c.rip = c.next
			c.instret++
			if !c.softDelivered && !c.shut {
				c.dr[6] |= 1 << 14
				c.deliver(x86.VecDB, EventException, false, 0, c.rip)
				if ex, done := c.afterDelivery(); done {
					return ex, true
				}
			}
		} else if !step && c.nbps != 0 && c.instret != c.shadowAt {
			// The fast path with breakpoints: a 64K-bit filter on the low
			// bits of RIP keeps the map lookup off most instructions. The
			// first instruction runs unchecked (the outer check above
			// already looked at it, or we are resuming from it).
			c.brk = false
			first := true
			for c.instret < limit && !c.brk && !c.stop.Load() {
				if !first && c.bpFilter[c.rip>>6&(bpFilterWords-1)]&(1<<(c.rip&63)) != 0 && c.bps[c.rip] {
					break
				}
				first = false
				in := c.fetch()
				c.next = c.rip + uint64(in.len)
				c.curSeg = in.mseg
				c.exec(in)
				c.rip = c.next
				c.instret++
			}
		} else if !step && c.instret != c.shadowAt {
			// The fast path: nothing but the clock, the stop flag and
			// c.brk (set by whatever needs the checks above: a raised
			// INTR, HLT, an IF change, a watchpoint hit, an INT n
			// delivery) can end a run of instructions.
			c.runLinked(limit)
		} else {
			in := c.fetch()
			c.next = c.rip + uint64(in.len)
			c.curSeg = in.mseg
			c.exec(in)
			c.rip = c.next
			c.instret++
		}
		if c.watchHit || c.softDelivered {
			if c.softDelivered {
				c.softDelivered = false
				if ex, done := c.afterDelivery(); done {
					c.watchHit = false
					return ex, true
				}
			}
			if c.watchHit {
				c.watchHit = false
				return Exit{Kind: ExitWatchpoint, Addr: c.watchAddr, Watch: c.watchKind}, true
			}
		}
		if step {
			return Exit{Kind: ExitStep}, true
		}
	}
}

// runLinked is the fast path of run: nothing but the clock, the stop
// flag and c.brk (set by whatever needs the checks of run: a raised INTR,
// HLT, an IF change, a watchpoint hit, an INT n delivery, and by
// forgetFetch: a write to decoded code, a TLB flush) can end a run of
// instructions. The next instruction comes from the links of the one
// that ran (inst.succ, inst.tgt) when it is the one they name, so most
// instructions are not looked up in the code pages at all; a link joins
// instructions decoded for the same mode (the instruction that changes
// the mode ends the run).
func (c *CPU) runLinked(limit uint64) {
	c.brk = false
	if c.instret >= limit || c.stop.Load() {
		return
	}
	in := c.fetch()
	// pg is the code page in was fetched from. Links join instructions of
	// one physical code page only: the same linear page may have mapped
	// another physical page when the next instruction was fetched (a PTE
	// rewritten without INVLPG, its TLB entry evicted), and such a link
	// would outlive that mapping.
	pg := c.fetchPage
	// rip and n are c.rip and c.instret carried in registers from one
	// instruction to the next. The fields are still stored on every
	// instruction (faults, exec and the caller read them), but not
	// loaded back: a load of what the previous instruction stored is a
	// store-to-load forward on the chain every instruction waits on.
	// On mulAccLoop, the register code that is half of a Linux boot,
	// that chain was 12% of the time (BenchmarkRunMulAcc, AMD EPYC).
	// After a call to exec or a memory access, n is taken from
	// c.instret again, as cheap as keeping it there and safe against a
	// handler that counts instructions itself.
	rip, n := c.rip, c.instret
	for {
		var nx *inst
		var target uint64
		from := rip
		next := from + uint64(in.len)
		c.next = next
		// The specialised forms (specialised.go) run here, with no call.
		// c.curSeg is set only by those with a memory operand
		// (operandAddr) and for exec: a byte store on every instruction,
		// next to the byte of c.brk loaded below, cost 7-10% of
		// scenario=bench on AMD EPYC.
		switch in.cls {
		case clsMovRR64:
			c.gpr[in.dst()] = c.gpr[in.src()]
			goto registerOnly
		case clsMovRR32:
			c.gpr[in.dst()] = uint64(uint32(c.gpr[in.src()]))
			goto registerOnly
		case clsMovRM64:
			c.gpr[in.dst()] = c.read(c.operandAddr(in), 8)
		case clsMovMR64:
			c.write(c.operandAddr(in), 8, c.gpr[in.src()])
		case clsLea64:
			c.gpr[in.dst()] = c.ea(in)
			goto registerOnly
		case clsAddRR64:
			c.add64(in.dst(), c.gpr[in.src()])
			goto registerOnly
		case clsAddRI64:
			c.add64(in.dst(), uint64(in.imm))
			goto registerOnly
		case clsAddRI32:
			c.add32(in.dst(), uint64(uint32(in.imm)))
			goto registerOnly
		case clsAddRM64:
			c.add64(in.dst(), c.read(c.operandAddr(in), 8))
		case clsSubRR64:
			c.sub64(in.dst(), c.gpr[in.src()])
			goto registerOnly
		case clsCmpRR64:
			c.cmp64(c.gpr[in.dst()], c.gpr[in.src()])
			goto registerOnly
		case clsCmpRI64:
			c.cmp64(c.gpr[in.dst()], uint64(in.imm))
			goto registerOnly
		case clsCmpRI32:
			c.cmp32(uint32(c.gpr[in.dst()]), uint32(in.imm))
			goto registerOnly
		case clsXorRR64:
			r := c.gpr[in.dst()] ^ c.gpr[in.src()]
			c.gpr[in.dst()] = r
			c.logic64(r)
			goto registerOnly
		case clsXorRR32:
			r := uint32(c.gpr[in.dst()] ^ c.gpr[in.src()])
			c.gpr[in.dst()] = uint64(r)
			c.logic32(r)
			goto registerOnly
		case clsAndRI32:
			r := uint32(c.gpr[in.dst()]) & uint32(in.imm)
			c.gpr[in.dst()] = uint64(r)
			c.logic32(r)
			goto registerOnly
		case clsTestRR64:
			c.logic64(c.gpr[in.dst()] & c.gpr[in.src()])
			goto registerOnly
		case clsTestRR32:
			c.logic32(uint32(c.gpr[in.dst()] & c.gpr[in.src()]))
			goto registerOnly
		case clsTestRI32:
			c.logic32(uint32(c.gpr[in.dst()]) & uint32(in.imm))
			goto registerOnly
		case clsShlRI64:
			c.shlImm64(in.dst(), uint(in.imm))
			goto registerOnly
		case clsShrRI64:
			c.shrImm64(in.dst(), uint(in.imm))
			goto registerOnly
		case clsImulRR64:
			c.imul64(in.dst(), c.gpr[in.dst()], c.gpr[in.src()])
			goto registerOnly
		case clsImulRRI64:
			c.imul64(in.dst(), c.gpr[in.src()], uint64(in.imm))
			goto registerOnly
		case clsMovzxR:
			c.gpr[in.dst()] = c.gpr[in.src()] & sizeMask(in.args[1].size)
			goto registerOnly
		case clsMovzxM:
			c.gpr[in.dst()] = c.read(c.operandAddr(in), in.args[1].size)
		case clsMovsxdRR:
			c.gpr[in.dst()] = uint64(int64(int32(c.gpr[in.src()])))
			goto registerOnly
		case clsJe, clsJne, clsJcc, clsJmpRel:
			var taken bool
			switch in.cls {
			case clsJe:
				taken = c.zf()
			case clsJne:
				taken = !c.zf()
			case clsJcc:
				taken = c.cond(condOf[in.op])
			default:
				taken = true
			}
			if !taken {
				goto registerOnly
			}
			if target = next + uint64(in.imm); in.mode == 64 && canonical(target) {
				goto branched
			}
			c.jumpRel(in) // the target truncated to the operand size, or #GP
		case clsCallRel64:
			c.call64(in)
		case clsRet64:
			c.ret64()
		case clsPushR64:
			c.push(c.gpr[in.dst()], 8)
		case clsPopR64:
			c.pop64(in.dst())
		case clsMovRI:
			c.setReg(in.args[0].reg, in.args[0].size, uint64(in.imm))
			goto registerOnly
		case clsMovRM32:
			c.gpr[in.dst()] = c.read(c.operandAddr(in), 4)
		case clsMovMR32:
			c.write(c.operandAddr(in), 4, c.gpr[in.src()])
		case clsAddRR32:
			c.add32(in.dst(), uint64(uint32(c.gpr[in.src()])))
			goto registerOnly
		case clsSubRI64:
			c.sub64(in.dst(), uint64(in.imm))
			goto registerOnly
		case clsSetccR:
			c.setcc8(in.dst(), condOf[in.op])
			goto registerOnly
		case clsCmovRR64:
			if c.cond(condOf[in.op]) {
				c.gpr[in.dst()] = c.gpr[in.src()]
			}
			goto registerOnly
		// Generic forms frequent enough in a Linux boot to be worth the
		// call to exec they save (ADC r64,r64, TEST r8,r8, CMP m8,imm,
		// NOP m, CMP r32,r32 lead what reached exec after the forms
		// above): the same handlers as exec's.
		case clsArithR:
			c.aluReg(in)
			goto registerOnly
		case clsLogicR:
			c.logicReg(in)
			goto registerOnly
		case clsShiftR:
			c.shiftArith(in)
			goto registerOnly
		case clsNop:
			goto registerOnly

		case clsLea:
			c.setReg(in.args[0].reg, in.args[0].size, c.ea(in))
			goto registerOnly
		case clsArith:
			c.curSeg = in.mseg
			c.alu(in)
		case clsLogic:
			c.curSeg = in.mseg
			c.logic(in)
		case clsUnary:
			c.curSeg = in.mseg
			c.unary(in)
		case clsMovRM:
			d := &in.args[0]
			c.setReg(d.reg, d.size, c.read(c.operandAddr(in), d.size))
		case clsMovMR:
			v := uint64(in.imm)
			if in.args[1].kind == argReg {
				v = c.gpr[in.src()]
			}
			c.write(c.operandAddr(in), in.args[0].size, v)
		case clsMul:
			c.curSeg = in.mseg
			c.mul(in)
		case clsNative:
			// The head of a run (native.go): the run as host code
			// once it is translated, with the flags moved in and out;
			// else the head as its own class.
			b := &c.native.blocks[in.native]
			if b.code == 0 || n+uint64(b.count) > limit || b.ushift != c.ushift {
				if b.code == 0 {
					c.nativeTranslate(b, pg, from&0xfff)
				}
				c.curSeg = in.mseg
				c.exec(in)
				break
			}
			k, to, slot, cell := c.nativeRun(b, from, min(limit-n, nativeCallBudget))
			if k == 0 {
				// It left before its first instruction, a memory
				// access the TLB's fast path does not allow: that
				// one goes through the interpreter, or the block
				// would be entered again, and again.
				c.curSeg = in.mseg
				c.exec(in)
				break
			}
			rip = to
			c.next = rip
			c.rip = rip
			n += k
			c.instret = n
			if n >= limit || c.stop.Load() {
				return
			}
			// The next instruction: the one the last block found
			// before, or from the head's code page when it is in the
			// same linear page (blocks chain only within a page).
			if slot != nil {
				nx = *slot
			}
			if nx == nil && rip>>12 == from>>12 && pg != nil {
				if nx = pg.inst(rip & 0xfff); nx != nil && nx.mode != 64 {
					nx = nil
				}
				if slot != nil {
					*slot = nx
				}
				if nx != nil {
					// What follows a cut, or a branch first taken
					// here, heads a block of its own: link, which
					// marks heads, sees no block's exits.
					c.nativeMark(nx, pg)
				}
			}
			if nx == nil {
				nx = c.fetch()
				pg = c.fetchPage
				c.nativeMark(nx, pg)
			} else if cell != nil {
				c.nativeLink(cell, nx) // next time, the blocks go on in host code
			}
			in = nx
			continue
		default:
			c.curSeg = in.mseg
			c.exec(in)
		}
		rip = c.next
		c.rip = rip
		n = c.instret + 1
		c.instret = n
		if n >= limit || c.brk || c.stop.Load() {
			return
		}
		if c.next == next {
			nx = in.succ
		} else if c.next^from == uint64(in.tgtOff)^from&0xfff {
			// A target is followed only from the linear page it was
			// linked from: run from another alias of the same code
			// page, the same absolute target may map elsewhere, or
			// nowhere (#PF).
			nx = in.tgt
		}
		goto linked
	branched:
		// A relative branch taken in 64-bit mode, to target: like a
		// register form it cannot have set c.brk.
		c.next = target
		c.rip = target
		rip = target
		n++
		c.instret = n
		if n >= limit || c.stop.Load() {
			return
		}
		if target^from == uint64(in.tgtOff)^from&0xfff {
			nx = in.tgt
		}
		goto linked
	registerOnly:
		// A register form neither branches nor touches memory: it
		// cannot have changed c.next or set c.brk (a write to code, a
		// TLB flush, an interrupt raised by a device access). This
		// holds while c.brk is set only by the CPU's own accesses and
		// what exec runs: SetIRQ is called from device accesses, and
		// the page walk's A/D updates do not go through codeWritten.
		// c.stop is not checked here but where the links end: at the
		// next branch, memory access or fetch (below: at least once a
		// page), so straight-line register code cannot hold off a
		// RequestStop (TestStopInRegisterCode).
		c.rip = next
		rip = next
		n++
		c.instret = n
		if n >= limit {
			return
		}
		nx = in.succ
	linked:
		// A linked instruction is of the current mode: links join
		// instructions run one after the other in one linked run, and
		// a change of mode ends the run (updateMode sets c.brk).
		if nx == nil {
			if c.stop.Load() {
				return
			}
			nx = c.fetch()
			if c.fetchPage == pg && pg != nil {
				c.link(in, from, nx)
			}
			pg = c.fetchPage
		}
		in = nx
	}
}

// link records nx, fetched at RIP c.rip, as the successor of in, which
// ran at RIP from, when both are cached and on the same linear page
// (hence the same code page: a link never outlives its target, which is
// dropped with the page that holds both).
func (c *CPU) link(in *inst, from uint64, nx *inst) {
	if !in.cached || !nx.cached {
		return
	}
	if c.rip == from+uint64(in.len) {
		if lf := c.lin(CS, from); lf>>12 == (lf+uint64(in.len))>>12 {
			in.succ = nx
			if c.native.on && in.cls != clsNative && (!nativeCopyable(in) || nativeEndsBlock(in)) {
				c.nativeMark(nx, c.fetchPage) // the head of a run a block may take
			}
		}
		return
	}
	if c.mode == 64 && from>>12 == c.rip>>12 {
		in.tgt, in.tgtOff = nx, uint16(c.rip&0xfff)
		if c.native.on {
			c.nativeMark(nx, c.fetchPage)
		}
	}
}

// afterDelivery turns the outcome of a delivery into a stop when the
// machine shut down, a break-on vector was delivered, or the frame's
// pushes touched a watched range.
func (c *CPU) afterDelivery() (Exit, bool) {
	if c.shut {
		c.watchHit = false
		return Exit{Kind: ExitTripleFault, Event: c.tripleEvent}, true
	}
	if c.breakHit {
		c.breakHit = false
		c.watchHit = false // the break-on stop is the one reported
		return Exit{Kind: ExitBreakOn, Event: c.breakEvent}, true
	}
	if c.watchHit {
		c.watchHit = false
		return Exit{Kind: ExitWatchpoint, Addr: c.watchAddr, Watch: c.watchKind}, true
	}
	return Exit{}, false
}

// interrupt takes an external interrupt from the PIC; false when the PIC
// had nothing after all (a spurious INTR).
func (c *CPU) interrupt() bool {
	if c.pic == nil {
		return false
	}
	v, ok := c.pic.Ack()
	if !ok {
		return false
	}
	c.halted = false
	c.next = c.rip
	c.deliver(v, EventInterrupt, false, 0, c.rip)
	return true
}

// exec runs one decoded instruction. c.next is the address of the
// following instruction; branches change it.
func (c *CPU) exec(in *inst) {
	cls := in.cls
	if cls == clsNative {
		cls = c.nativeOrigClass(in)
	}
	if cls >= clsFirstSpecialised {
		// runLinked runs these itself; everywhere else (single steps,
		// the loop with breakpoints) they are their generic form.
		cls = genericClass[cls-clsFirstSpecialised]
	}
	switch cls {
	case clsMovRR:
		d := &in.args[0]
		c.setReg(d.reg, d.size, c.gpr[in.args[1].reg])
	case clsMovRI:
		d := &in.args[0]
		c.setReg(d.reg, d.size, uint64(in.imm))
	case clsMovRM:
		d := &in.args[0]
		c.setReg(d.reg, d.size, c.read(c.memAddr(in), d.size))
	case clsMovMR:
		v := uint64(in.imm)
		if s := &in.args[1]; s.kind == argReg {
			v = c.gpr[s.reg]
		}
		c.write(c.memAddr(in), in.args[0].size, v)
	case clsArithR:
		c.aluReg(in)
	case clsLogicR:
		c.logicReg(in)
	case clsMov:
		c.mov(in)
	case clsArith:
		c.alu(in)
	case clsLogic:
		c.logic(in)
	case clsUnary:
		c.unary(in)
	case clsNot:
		c.set(in, 0, ^c.get(in, 0))
	case clsLea:
		c.setReg(in.args[0].reg, in.args[0].size, c.ea(in))
	case clsPush:
		if in.args[0].kind == argImm {
			c.push(uint64(in.imm), in.stackSize()) // sign-extended to the stack width
		} else {
			c.push(c.get(in, 0), in.stackSize())
		}
	case clsPop:
		c.popOp(in)
	case clsCall:
		c.call(in)
	case clsRet:
		c.ret(in)
	case clsJmp:
		c.jmp(in)
	case clsJcc:
		if c.cond(condOf[in.op]) {
			c.branch(c.next+uint64(in.imm), c.branchSize(in))
		}
	case clsMovzx:
		c.set(in, 0, c.get(in, 1))
	case clsMovsx:
		c.set(in, 0, signExtend(c.get(in, 1), in.args[1].size))
	case clsCmov:
		c.cmov(in)
	case clsSetcc:
		var v uint64
		if c.cond(condOf[in.op]) {
			v = 1
		}
		c.set(in, 0, v)
	case clsShift:
		c.shift(in)
	case clsShiftR:
		c.shiftArith(in)
	case clsShiftDouble:
		c.shiftDouble(in)
	case clsImul:
		c.imul(in)
	case clsMul:
		c.mul(in)
	case clsDiv:
		c.div(in)
	case clsIdiv:
		c.idiv(in)
	case clsXchg:
		c.xchg(in)
	case clsCmpxchg:
		c.cmpxchg(in)
	case clsXadd:
		c.xadd(in)
	case clsCmpxchgDouble:
		c.cmpxchgDouble(in)
	case clsBitTest:
		c.bitTest(in)
	case clsBsf:
		c.bsf(in)
	case clsBsr:
		c.bsr(in)
	case clsBswap:
		c.bswap(in)
	case clsSignExtendAcc:
		s := in.osize
		c.setReg(RAX, s, signExtend(c.gpr[RAX], s/2))
	case clsSignExtendDX:
		s := in.osize
		var v uint64
		if c.gpr[RAX]&signBit(s) != 0 {
			v = ^uint64(0)
		}
		c.setReg(RDX, s, v)
	case clsNop:
	case clsLeave:
		c.leave(in)
	case clsEnter:
		c.enter(in)
	case clsPushf:
		c.pushf(in)
	case clsPopf:
		c.popf(in)
	case clsLoop:
		c.loop(in)
	case clsString:
		c.str(in)
	case clsClc:
		c.setFlagsEager(x86.FlagCF, 0)
	case clsStc:
		c.setFlagsEager(x86.FlagCF, x86.FlagCF)
	case clsCmc:
		c.setFlagsEager(x86.FlagCF, c.rflags()^x86.FlagCF)
	case clsCld:
		c.flags &^= x86.FlagDF
	case clsStd:
		c.flags |= x86.FlagDF
	case clsLahf:
		c.gpr[RAX] = c.gpr[RAX]&^0xff00 | (c.rflags()&0xd5|2)<<8
	case clsSahf:
		c.setFlagsEager(x86.FlagCF|x86.FlagPF|x86.FlagAF|x86.FlagZF|x86.FlagSF, c.gpr[RAX]>>8)
	case clsX87:
		c.execX87(in)
	case clsSSE:
		c.execSSE(in)
	case clsInvalid:
		c.raise(x86.VecUD)
	default:
		c.execSystem(in)
	}
}

// condOf maps a Jcc/SETcc/CMOVcc op to its condition code nibble.
var condOf = func() (t [x86asm.XTEST + 1]uint8) {
	ops := [][16]x86asm.Op{
		{x86asm.JO, x86asm.JNO, x86asm.JB, x86asm.JAE, x86asm.JE, x86asm.JNE, x86asm.JBE, x86asm.JA,
			x86asm.JS, x86asm.JNS, x86asm.JP, x86asm.JNP, x86asm.JL, x86asm.JGE, x86asm.JLE, x86asm.JG},
		{x86asm.SETO, x86asm.SETNO, x86asm.SETB, x86asm.SETAE, x86asm.SETE, x86asm.SETNE, x86asm.SETBE, x86asm.SETA,
			x86asm.SETS, x86asm.SETNS, x86asm.SETP, x86asm.SETNP, x86asm.SETL, x86asm.SETGE, x86asm.SETLE, x86asm.SETG},
		{x86asm.CMOVO, x86asm.CMOVNO, x86asm.CMOVB, x86asm.CMOVAE, x86asm.CMOVE, x86asm.CMOVNE, x86asm.CMOVBE, x86asm.CMOVA,
			x86asm.CMOVS, x86asm.CMOVNS, x86asm.CMOVP, x86asm.CMOVNP, x86asm.CMOVL, x86asm.CMOVGE, x86asm.CMOVLE, x86asm.CMOVG},
	}
	for _, row := range ops {
		for cc, op := range row {
			t[op] = uint8(cc)
		}
	}
	return t
}()

// Dispatch classes: exec switches on a dense class number computed at
// decode time, not on the sparse x86asm opcode. Measured on the kernel's
// bench scenario (user time, 3 runs each), a switch on the x86asm opcode,
// this switch and a table of funcs indexed by class all run within 2% of
// each other (Go compiles the switches to jump tables); the switch stays
// for readability and inlining, the class for decode-time specialisation.
const (
	clsSystem uint8 = iota // everything execSystem handles
	clsMov
	clsArith
	clsLogic
	clsUnary
	clsNot
	clsLea
	clsPush
	clsPop
	clsCall
	clsRet
	clsJmp
	clsJcc
	clsMovzx
	clsMovsx
	clsCmov
	clsSetcc
	clsShift
	clsShiftDouble
	clsImul
	clsMul
	clsDiv
	clsIdiv
	clsXchg
	clsCmpxchg
	clsXadd
	clsCmpxchgDouble
	clsBitTest
	clsBsf
	clsBsr
	clsBswap
	clsSignExtendAcc
	clsSignExtendDX
	clsNop
	clsLeave
	clsEnter
	clsPushf
	clsPopf
	clsLoop
	clsString
	clsClc
	clsStc
	clsCmc
	clsCld
	clsStd
	clsLahf
	clsSahf
	clsInvalid
	clsX87 // the x87 FPU (x87.go)
	clsSSE // SSE, SSE2, SSE3 and their state instructions (sse.go)
	// Register-only forms picked at decode time (specialise in specialised.go).
	clsMovRR  // MOV reg, reg
	clsMovRI  // MOV reg, imm
	clsMovRM  // MOV reg, mem
	clsMovMR  // MOV mem, reg|imm
	clsArithR // ADD ADC SUB SBB CMP reg, reg|imm
	clsLogicR // AND OR XOR TEST reg, reg|imm
	clsShiftR // SHL SHR SAR ROL ROR RCL RCR reg, CL|imm
)

var opClass = func() (t [x86asm.XTEST + 1]uint8) {
	for _, op := range []x86asm.Op{x86asm.MOV} {
		t[op] = clsMov
	}
	for _, op := range []x86asm.Op{x86asm.ADD, x86asm.ADC, x86asm.SUB, x86asm.SBB, x86asm.CMP} {
		t[op] = clsArith
	}
	for _, op := range []x86asm.Op{x86asm.AND, x86asm.OR, x86asm.XOR, x86asm.TEST} {
		t[op] = clsLogic
	}
	for _, op := range []x86asm.Op{x86asm.INC, x86asm.DEC, x86asm.NEG} {
		t[op] = clsUnary
	}
	for _, op := range []x86asm.Op{x86asm.NOT} {
		t[op] = clsNot
	}
	for _, op := range []x86asm.Op{x86asm.LEA} {
		t[op] = clsLea
	}
	for _, op := range []x86asm.Op{x86asm.PUSH} {
		t[op] = clsPush
	}
	for _, op := range []x86asm.Op{x86asm.POP} {
		t[op] = clsPop
	}
	for _, op := range []x86asm.Op{x86asm.CALL} {
		t[op] = clsCall
	}
	for _, op := range []x86asm.Op{x86asm.RET} {
		t[op] = clsRet
	}
	for _, op := range []x86asm.Op{x86asm.JMP} {
		t[op] = clsJmp
	}
	for _, op := range []x86asm.Op{x86asm.JO, x86asm.JNO, x86asm.JB, x86asm.JAE, x86asm.JE, x86asm.JNE, x86asm.JBE, x86asm.JA, x86asm.JS, x86asm.JNS, x86asm.JP, x86asm.JNP, x86asm.JL, x86asm.JGE, x86asm.JLE, x86asm.JG} {
		t[op] = clsJcc
	}
	for _, op := range []x86asm.Op{x86asm.MOVZX} {
		t[op] = clsMovzx
	}
	for _, op := range []x86asm.Op{x86asm.MOVSX, x86asm.MOVSXD} {
		t[op] = clsMovsx
	}
	for _, op := range []x86asm.Op{x86asm.CMOVO, x86asm.CMOVNO, x86asm.CMOVB, x86asm.CMOVAE, x86asm.CMOVE, x86asm.CMOVNE, x86asm.CMOVBE, x86asm.CMOVA, x86asm.CMOVS, x86asm.CMOVNS, x86asm.CMOVP, x86asm.CMOVNP, x86asm.CMOVL, x86asm.CMOVGE, x86asm.CMOVLE, x86asm.CMOVG} {
		t[op] = clsCmov
	}
	for _, op := range []x86asm.Op{x86asm.SETO, x86asm.SETNO, x86asm.SETB, x86asm.SETAE, x86asm.SETE, x86asm.SETNE, x86asm.SETBE, x86asm.SETA, x86asm.SETS, x86asm.SETNS, x86asm.SETP, x86asm.SETNP, x86asm.SETL, x86asm.SETGE, x86asm.SETLE, x86asm.SETG} {
		t[op] = clsSetcc
	}
	for _, op := range []x86asm.Op{x86asm.SHL, x86asm.SHR, x86asm.SAR, x86asm.ROL, x86asm.ROR, x86asm.RCL, x86asm.RCR} {
		t[op] = clsShift
	}
	for _, op := range []x86asm.Op{x86asm.SHLD, x86asm.SHRD} {
		t[op] = clsShiftDouble
	}
	for _, op := range []x86asm.Op{x86asm.IMUL} {
		t[op] = clsImul
	}
	for _, op := range []x86asm.Op{x86asm.MUL} {
		t[op] = clsMul
	}
	for _, op := range []x86asm.Op{x86asm.DIV} {
		t[op] = clsDiv
	}
	for _, op := range []x86asm.Op{x86asm.IDIV} {
		t[op] = clsIdiv
	}
	for _, op := range []x86asm.Op{x86asm.XCHG} {
		t[op] = clsXchg
	}
	for _, op := range []x86asm.Op{x86asm.CMPXCHG} {
		t[op] = clsCmpxchg
	}
	for _, op := range []x86asm.Op{x86asm.XADD} {
		t[op] = clsXadd
	}
	for _, op := range []x86asm.Op{x86asm.CMPXCHG8B, x86asm.CMPXCHG16B} {
		t[op] = clsCmpxchgDouble
	}
	for _, op := range []x86asm.Op{x86asm.BT, x86asm.BTS, x86asm.BTR, x86asm.BTC} {
		t[op] = clsBitTest
	}
	for _, op := range []x86asm.Op{x86asm.BSF, x86asm.TZCNT} {
		t[op] = clsBsf
	}
	for _, op := range []x86asm.Op{x86asm.BSR, x86asm.LZCNT} {
		t[op] = clsBsr
	}
	for _, op := range []x86asm.Op{x86asm.BSWAP} {
		t[op] = clsBswap
	}
	for _, op := range []x86asm.Op{x86asm.CBW, x86asm.CWDE, x86asm.CDQE} {
		t[op] = clsSignExtendAcc
	}
	for _, op := range []x86asm.Op{x86asm.CWD, x86asm.CDQ, x86asm.CQO} {
		t[op] = clsSignExtendDX
	}
	for _, op := range []x86asm.Op{x86asm.NOP, x86asm.PAUSE, x86asm.LFENCE, x86asm.MFENCE, x86asm.SFENCE, x86asm.PREFETCHNTA, x86asm.PREFETCHT0, x86asm.PREFETCHT1, x86asm.PREFETCHT2, x86asm.PREFETCHW} {
		t[op] = clsNop
	}
	for _, op := range []x86asm.Op{x86asm.LEAVE} {
		t[op] = clsLeave
	}
	for _, op := range []x86asm.Op{x86asm.ENTER} {
		t[op] = clsEnter
	}
	for _, op := range []x86asm.Op{x86asm.PUSHF, x86asm.PUSHFD, x86asm.PUSHFQ} {
		t[op] = clsPushf
	}
	for _, op := range []x86asm.Op{x86asm.POPF, x86asm.POPFD, x86asm.POPFQ} {
		t[op] = clsPopf
	}
	for _, op := range []x86asm.Op{x86asm.JRCXZ, x86asm.JECXZ, x86asm.JCXZ, x86asm.LOOP, x86asm.LOOPE, x86asm.LOOPNE} {
		t[op] = clsLoop
	}
	for _, op := range []x86asm.Op{x86asm.MOVSB, x86asm.MOVSW, x86asm.MOVSD, x86asm.MOVSQ, x86asm.STOSB, x86asm.STOSW, x86asm.STOSD, x86asm.STOSQ, x86asm.LODSB, x86asm.LODSW, x86asm.LODSD, x86asm.LODSQ, x86asm.CMPSB, x86asm.CMPSW, x86asm.CMPSD, x86asm.CMPSQ, x86asm.SCASB, x86asm.SCASW, x86asm.SCASD, x86asm.SCASQ, x86asm.INSB, x86asm.INSW, x86asm.INSD, x86asm.OUTSB, x86asm.OUTSW, x86asm.OUTSD} {
		t[op] = clsString
	}
	for _, op := range []x86asm.Op{x86asm.CLC} {
		t[op] = clsClc
	}
	for _, op := range []x86asm.Op{x86asm.STC} {
		t[op] = clsStc
	}
	for _, op := range []x86asm.Op{x86asm.CMC} {
		t[op] = clsCmc
	}
	for _, op := range []x86asm.Op{x86asm.CLD} {
		t[op] = clsCld
	}
	for _, op := range []x86asm.Op{x86asm.STD} {
		t[op] = clsStd
	}
	for _, op := range []x86asm.Op{x86asm.LAHF} {
		t[op] = clsLahf
	}
	for _, op := range []x86asm.Op{x86asm.SAHF} {
		t[op] = clsSahf
	}
	for _, op := range x87Ops {
		t[op] = clsX87
	}
	for _, op := range sseOps {
		t[op] = clsSSE
	}
	for _, op := range []x86asm.Op{opInvalid, x86asm.UD2, x86asm.UD0, x86asm.UD1} {
		t[op] = clsInvalid
	}
	return t
}()
