package cpu

import (
	"fmt"

	"golang.org/x/arch/x86/x86asm"

	"vmapstack/target/paging"
	"vmapstack/target/x86"
)

// privileged raises #GP(0) unless CPL is 0.
func (c *CPU) privileged() {
	if c.cpl != 0 {
		c.raiseErr(x86.VecGP, 0)
	}
}

func (c *CPU) in(port uint16, size uint8) uint64 {
	if c.bus == nil {
		return sizeMask(size)
	}
	return uint64(c.bus.In(port, int(size))) & sizeMask(size)
}

func (c *CPU) out(port uint16, size uint8, v uint64) {
	if c.bus != nil {
		c.bus.Out(port, int(size), uint32(v&sizeMask(size)))
	}
}

func (c *CPU) ioAllowed() {
	if c.cpl > int(c.flags&x86.FlagIOPL>>12) {
		c.raiseErr(x86.VecGP, 0)
	}
}

// execSystem runs the less frequent instructions: system, I/O, far
// transfers and interrupts. Anything not handled is #UD, logged.
func (c *CPU) execSystem(in *inst) {
	switch x86asm.Op(in.op) {
	case x86asm.IN:
		c.ioAllowed()
		c.setReg(RAX, in.args[0].size, c.in(uint16(c.get(in, 1)), in.args[0].size))
	case x86asm.OUT:
		c.ioAllowed()
		c.out(uint16(c.get(in, 0)), in.args[1].size, c.gpr[RAX])
	case x86asm.CLI:
		c.ioAllowed()
		c.flags &^= x86.FlagIF
	case x86asm.STI:
		c.ioAllowed()
		if c.flags&x86.FlagIF == 0 {
			// Interrupts stay blocked until the next instruction has
			// run (SDM Vol. 2 STI).
			c.shadowAt = c.instret + 1
		}
		c.flags |= x86.FlagIF
		c.brk = true
	case x86asm.HLT:
		c.privileged()
		c.halted = true
		c.brk = true
	case x86asm.CPUID:
		c.cpuid()
	case x86asm.RDTSC:
		t := c.instret + c.tscOffset
		c.setReg(RAX, 4, t)
		c.setReg(RDX, 4, t>>32)
	case x86asm.RDMSR:
		c.privileged()
		v := c.rdmsr(uint32(c.gpr[RCX]))
		c.setReg(RAX, 4, v)
		c.setReg(RDX, 4, v>>32)
	case x86asm.WRMSR:
		c.privileged()
		c.wrmsr(uint32(c.gpr[RCX]), uint64(uint32(c.gpr[RDX]))<<32|uint64(uint32(c.gpr[RAX])))
	case x86asm.LGDT, x86asm.LIDT:
		c.privileged()
		a := c.memAddr(in)
		limit := uint16(c.read(a, 2))
		var base uint64
		if c.mode == 64 {
			base = c.read(c.lin(in.mseg, c.ea(in)+2), 8)
		} else {
			base = c.read(c.lin(in.mseg, c.ea(in)+2), 4)
			if in.osize == 2 {
				base &= 0xffffff
			}
		}
		if in.op == uint16(x86asm.LGDT) {
			c.gdtr = DTR{Base: base, Limit: limit}
		} else {
			c.idtr = DTR{Base: base, Limit: limit}
		}
	case x86asm.SGDT, x86asm.SIDT:
		t := c.gdtr
		if in.op == uint16(x86asm.SIDT) {
			t = c.idtr
		}
		bs := uint8(4)
		if c.mode == 64 {
			bs = 8
		}
		c.checkWrite(c.memAddr(in), 2+bs)
		c.write(c.memAddr(in), 2, uint64(t.Limit))
		c.write(c.lin(in.mseg, c.ea(in)+2), bs, t.Base)
	case x86asm.LTR:
		c.privileged()
		c.ltr(uint16(c.get(in, 0)))
	case x86asm.LLDT:
		c.privileged()
		c.lldt(uint16(c.get(in, 0)))
	case x86asm.STR:
		c.storeSel(in, c.tr.Sel)
	case x86asm.SLDT:
		c.storeSel(in, c.ldtr.Sel)
	case x86asm.SMSW:
		c.storeSel(in, uint16(c.cr0))
	case x86asm.LMSW:
		c.privileged()
		v := c.get(in, 0)
		// LMSW sets PE but cannot clear it (SDM Vol. 2 LMSW).
		c.movToCR(0, c.cr0&^0xe|v&0xf|c.cr0&x86.CR0PE)
	case x86asm.SYSCALL, x86asm.SYSRET:
		c.execSyscall(in)
	case x86asm.PUSHA, x86asm.PUSHAD, x86asm.POPA, x86asm.POPAD, x86asm.DAA, x86asm.DAS, x86asm.AAA, x86asm.AAS,
		x86asm.AAM, x86asm.AAD, x86asm.BOUND, x86asm.ARPL, x86asm.LDS, x86asm.LES:
		c.execLegacy(in)
	case x86asm.LAR, x86asm.LSL, x86asm.VERR, x86asm.VERW:
		c.execSegCheck(in)
	case x86asm.LFS, x86asm.LGS, x86asm.LSS:
		c.loadFarPointer(in)
	case x86asm.SYSENTER, x86asm.SYSEXIT:
		// qemu64 is an AMD model: these are #UD in long mode (AMD APM
		// Vol. 3 SYSENTER; QEMU raises #UD in 64-bit code for a non-Intel
		// vendor). Outside long mode they are not implemented.
		if c.efer&x86.EFERLMA != 0 {
			c.raise(x86.VecUD)
		}
		c.undefined(in)
	case x86asm.SWAPGS:
		if c.mode != 64 {
			c.raise(x86.VecUD)
		}
		c.privileged()
		c.seg[GS].Base, c.kernelGSBase = c.kernelGSBase, c.seg[GS].Base
		c.segBase[GS] = c.seg[GS].Base
	case x86asm.INVLPG:
		c.privileged()
		c.invlpg(c.memAddr(in))
	case x86asm.WBINVD, x86asm.INVD:
		c.privileged()
	case x86asm.CLFLUSH:
	case x86asm.CLTS:
		c.privileged()
		c.cr0 &^= x86.CR0TS
	case x86asm.LJMP:
		c.farJump(in, false)
	case x86asm.LCALL:
		c.farJump(in, true)
	case x86asm.LRET:
		c.farReturn(in)
	case x86asm.IRET, x86asm.IRETD, x86asm.IRETQ:
		c.iret(in)
	case x86asm.INT:
		v := uint8(in.imm)
		c.deliverSoftware(v)
	case x86asm.ICEBP:
		// INT1: a #DB trap, delivered like a hardware exception (no gate
		// DPL check), the frame holding the next instruction.
		c.deliver(x86.VecDB, EventException, false, 0, c.next)
		c.next = c.rip
		c.softDelivered = true
		c.brk = true
	case x86asm.INTO:
		if c.mode == 64 {
			c.raise(x86.VecUD)
		}
		if c.of() {
			c.deliverSoftware(x86.VecOF)
		}
	case x86asm.XLATB:
		a := c.gpr[RBX] + c.gpr[RAX]&0xff
		seg := uint8(DS)
		if in.segovr != noReg {
			seg = in.segovr
		}
		c.setReg(RAX, 1, c.read(c.lin(seg, a&sizeMask(in.asize)), 1))
	default:
		c.undefined(in)
	}
}

// undefined raises #UD for an instruction x86asm knows but we do not
// implement, logging it (once per address).
// undefined handles an instruction x86asm decodes but no family executes.
// If qemu64 does not have it either (an SSSE3, SSE4, AES or AVX
// instruction, XSAVE, RDRAND...: CPUID does not announce them), the
// processor raises #UD, as QEMU does, and we log it once per address. If
// the model has it, the guest has a right to it and we cannot give it: the
// machine stops with one line naming the address, the bytes and the
// mnemonic (Run returns ExitInternal), rather than hand the guest a #UD it
// would never see on the real thing.
func (c *CPU) undefined(in *inst) {
	op := x86asm.Op(in.op)
	var buf [15]byte
	n, _ := c.ReadLinear(c.lin(CS, c.rip), buf[:in.len])
	dis := op.String()
	if xi, err := x86asm.Decode(buf[:n], c.mode); err == nil {
		dis = x86asm.GNUSyntax(xi, c.rip, nil)
	}
	if int(op) < len(notInModel) && notInModel[op] || c.mode == 64 && int(op) < len(invalidIn64) && invalidIn64[op] {
		if c.Log != nil && c.firstLog(c.rip) {
			c.Log(fmt.Sprintf("cpu: %s at %#x (% x) is not in the qemu64 model: #UD", dis, c.rip, buf[:n]))
		}
		c.raise(x86.VecUD)
	}
	panic(limitation(fmt.Sprintf("unimplemented instruction % x (%s)", buf[:n], dis)))
}

// invalidIn64 lists the instructions that do not exist in 64-bit mode
// (SDM Vol. 2, their "64-bit Mode Exceptions: #UD"; Vol. 2 Table A-2's i64
// marks), which x86asm decodes in any mode.
var invalidIn64 = func() (t [x86asm.XTEST + 1]bool) {
	for _, op := range []x86asm.Op{
		x86asm.PUSHA, x86asm.PUSHAD, x86asm.POPA, x86asm.POPAD, x86asm.AAA, x86asm.AAS, x86asm.DAA, x86asm.DAS,
		x86asm.AAM, x86asm.AAD, x86asm.BOUND, x86asm.INTO, x86asm.LDS, x86asm.LES, x86asm.ARPL,
	} {
		t[op] = true
	}
	return t
}()

// notInModel lists the instructions x86asm decodes (outside VEX/EVEX,
// which convert already refuses) whose CPUID feature qemu64 lacks, so they
// raise #UD (SDM Vol. 2, each instruction's "#UD If CPUID.xx.yy = 0").
var notInModel = func() (t [x86asm.XTEST + 1]bool) {
	for _, op := range []x86asm.Op{
		// SSSE3
		x86asm.PABSB, x86asm.PABSW, x86asm.PABSD, x86asm.PALIGNR, x86asm.PHADDW, x86asm.PHADDD, x86asm.PHADDSW,
		x86asm.PHSUBW, x86asm.PHSUBD, x86asm.PHSUBSW, x86asm.PMADDUBSW, x86asm.PMULHRSW, x86asm.PSHUFB,
		x86asm.PSIGNB, x86asm.PSIGNW, x86asm.PSIGND,
		// SSE4.1
		x86asm.BLENDPD, x86asm.BLENDPS, x86asm.BLENDVPD, x86asm.BLENDVPS, x86asm.DPPD, x86asm.DPPS,
		x86asm.EXTRACTPS, x86asm.INSERTPS, x86asm.MOVNTDQA, x86asm.MPSADBW, x86asm.PACKUSDW, x86asm.PBLENDVB,
		x86asm.PBLENDW, x86asm.PCMPEQQ, x86asm.PEXTRB, x86asm.PEXTRD, x86asm.PEXTRQ, x86asm.PHMINPOSUW,
		x86asm.PINSRB, x86asm.PINSRD, x86asm.PINSRQ, x86asm.PMAXSB, x86asm.PMAXSD, x86asm.PMAXUD, x86asm.PMAXUW,
		x86asm.PMINSB, x86asm.PMINSD, x86asm.PMINUD, x86asm.PMINUW, x86asm.PMOVSXBD, x86asm.PMOVSXBQ,
		x86asm.PMOVSXBW, x86asm.PMOVSXDQ, x86asm.PMOVSXWD, x86asm.PMOVSXWQ, x86asm.PMOVZXBD, x86asm.PMOVZXBQ,
		x86asm.PMOVZXBW, x86asm.PMOVZXDQ, x86asm.PMOVZXWD, x86asm.PMOVZXWQ, x86asm.PMULDQ, x86asm.PMULLD,
		x86asm.PTEST, x86asm.ROUNDPD, x86asm.ROUNDPS, x86asm.ROUNDSD, x86asm.ROUNDSS,
		// SSE4.2, AES, PCLMULQDQ, RDRAND, MOVBE
		x86asm.CRC32, x86asm.PCMPESTRI, x86asm.PCMPESTRM, x86asm.PCMPISTRI, x86asm.PCMPISTRM, x86asm.PCMPGTQ,
		x86asm.AESDEC, x86asm.AESDECLAST, x86asm.AESENC, x86asm.AESENCLAST, x86asm.AESIMC, x86asm.AESKEYGENASSIST,
		x86asm.PCLMULQDQ, x86asm.RDRAND, x86asm.MOVBE,
		// POPCNT: qemu64 does not announce it (CPUID.01H:ECX.POPCNT)
		x86asm.POPCNT,
		// XSAVE, MONITOR/MWAIT, RDTSCP, FSGSBASE, INVPCID, TSX
		x86asm.XSAVE, x86asm.XSAVEOPT, x86asm.XRSTOR, x86asm.XGETBV, x86asm.XSETBV, x86asm.XSAVE64,
		x86asm.XRSTOR64, x86asm.XSAVEOPT64, x86asm.MONITOR, x86asm.MWAIT, x86asm.RDTSCP,
		x86asm.RDFSBASE, x86asm.RDGSBASE, x86asm.WRFSBASE, x86asm.WRGSBASE, x86asm.INVPCID,
		x86asm.XTEST, x86asm.XBEGIN, x86asm.XEND, x86asm.XABORT,
		// RSM outside system-management mode is #UD (SDM Vol. 2B RSM);
		// QEMU's TCG raises #UD for RDPMC whatever CR4.PCE says.
		x86asm.RSM, x86asm.RDPMC,
	} {
		t[op] = true
	}
	return t
}()

func (c *CPU) storeSel(in *inst, v uint16) {
	if in.args[0].kind == argMem {
		c.write(c.memAddr(in), 2, uint64(v))
		return
	}
	c.setReg(in.args[0].reg, in.args[0].size, uint64(v))
}

func (c *CPU) readCR(n uint8) uint64 {
	c.privileged()
	switch n {
	case 0:
		return c.cr0
	case 2:
		return c.cr2
	case 3:
		return c.cr3
	case 4:
		return c.cr4
	case 8:
		return c.cr8
	}
	c.raise(x86.VecUD)
	return 0
}

// Debug registers (SDM Vol. 3B 18.2, Figure 18-1). DR6 and DR7 have
// bits that always read as 1 or as 0, whatever was written; the values
// after reset and INIT are DR6 FFFF0FF0H and DR7 00000400H (Vol. 3A
// Table 9-1). Linux prints DR0-DR7 in an oops unless they hold exactly
// those defaults (__show_regs), so DR6 and DR7 reading 0 show there.
const (
	dr6Fixed1 = 0xffff0ff0 // bits 4-11 and 16-31 (no RTM, no bus-lock detection)
	dr6Fixed0 = 1 << 12
	dr7Fixed1 = 1 << 10
	dr7Fixed0 = 1<<11 | 1<<12 | 1<<14 | 1<<15 // bit 11 is RTM, which qemu64 lacks
)

// debugReg returns the index in c.dr that MOV's DRn names: DR4 and DR5
// are aliases of DR6 and DR7 unless CR4.DE is set, when they are #UD
// (Vol. 2 MOV—Move to/from Debug Registers; Vol. 3B 18.2.2).
func (c *CPU) debugReg(n uint8) uint8 {
	c.privileged()
	n &= 7
	if n == 4 || n == 5 {
		if c.cr4&x86.CR4DE != 0 {
			c.raise(x86.VecUD)
		}
		n += 2
	}
	return n
}

// readDR is MOV from DRn. Debug registers are stored for the debugger's
// view and the guest's own reads: no hardware breakpoints are armed from
// them.
func (c *CPU) readDR(n uint8) uint64 {
	return c.dr[c.debugReg(n)]
}

// movToDR is MOV to DRn: a 1 in bits 63:32 of DR6 or DR7 is #GP(0); the
// fixed bits keep their values.
func (c *CPU) movToDR(n uint8, v uint64) {
	n = c.debugReg(n)
	switch n {
	case 6:
		if v>>32 != 0 {
			c.raiseErr(x86.VecGP, 0)
		}
		v = v&^dr6Fixed0 | dr6Fixed1
	case 7:
		if v>>32 != 0 {
			c.raiseErr(x86.VecGP, 0)
		}
		v = v&^dr7Fixed0 | dr7Fixed1
	}
	c.dr[n] = v
}

// movToCR writes a control register with the checks of SDM Vol. 3A 2.5
// and the long-mode activation rule of 9.8.5: setting CR0.PG with
// EFER.LME=1 (and CR4.PAE=1) sets EFER.LMA.
func (c *CPU) movToCR(n uint8, v uint64) {
	c.privileged()
	switch n {
	case 0:
		if v>>32 != 0 || v&x86.CR0PG != 0 && v&x86.CR0PE == 0 {
			c.raiseErr(x86.VecGP, 0)
		}
		old := c.cr0
		if v&x86.CR0PG != 0 && old&x86.CR0PG == 0 && c.efer&x86.EFERLME != 0 {
			if c.cr4&x86.CR4PAE == 0 {
				c.raiseErr(x86.VecGP, 0)
			}
			c.efer |= x86.EFERLMA
		}
		if v&x86.CR0PG == 0 && old&x86.CR0PG != 0 {
			if c.mode == 64 {
				c.raiseErr(x86.VecGP, 0)
			}
			c.efer &^= x86.EFERLMA
		}
		if v&x86.CR0PG != 0 && c.efer&x86.EFERLMA == 0 {
			// Only 4-level (IA-32e) paging is modelled: paging.Translate
			// has no 2-level or 32-bit PAE walker.
			panic(limitation("CR0.PG set without EFER.LME: 32-bit paging is not emulated"))
		}
		c.cr0 = v | x86.CR0ET
		if (old^c.cr0)&(x86.CR0PG|x86.CR0WP|x86.CR0PE) != 0 {
			c.flushTLB(true)
		}
		c.updateMode()
	case 2:
		c.cr2 = v
	case 3:
		if c.mode == 64 && v>>paging.MaxPhysAddr != 0 {
			c.raiseErr(x86.VecGP, 0)
		}
		c.cr3 = v
		c.flushTLB(false)
	case 4:
		if c.efer&x86.EFERLMA != 0 && v&x86.CR4PAE == 0 {
			c.raiseErr(x86.VecGP, 0)
		}
		old := c.cr4
		c.cr4 = v
		if (old^v)&(x86.CR4PGE|x86.CR4PAE|x86.CR4PSE) != 0 {
			c.flushTLB(true)
		}
	case 8:
		if v>>4 != 0 {
			c.raiseErr(x86.VecGP, 0)
		}
		c.cr8 = v
	default:
		c.raise(x86.VecUD)
	}
}

func (c *CPU) logf(format string, args ...any) {
	if c.Log != nil {
		c.Log(fmt.Sprintf(format, args...))
	}
}
