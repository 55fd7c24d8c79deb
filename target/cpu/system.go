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
func (c *CPU) undefined(in *inst) {
	if c.Log != nil && c.firstLog(c.rip) {
		var buf [15]byte
		n, _ := c.ReadLinear(c.lin(CS, c.rip), buf[:in.len])
		xi, err := x86asm.Decode(buf[:n], c.mode)
		dis := x86asm.Op(in.op).String()
		if err == nil {
			dis = x86asm.GNUSyntax(xi, c.rip, nil)
		}
		c.Log(fmt.Sprintf("cpu: unimplemented instruction at %#x: % x (%s)", c.rip, buf[:n], dis))
	}
	c.raise(x86.VecUD)
}

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

func (c *CPU) rdmsr(n uint32) uint64 {
	switch n {
	case x86.MSRTSC:
		return c.instret + c.tscOffset
	case x86.MSRAPICBase:
		return c.apicBase
	case x86.MSREFER:
		return c.efer
	case x86.MSRFSBase:
		return c.seg[FS].Base
	case x86.MSRGSBase:
		return c.seg[GS].Base
	case x86.MSRKernelGSBase:
		return c.kernelGSBase
	case x86.MSRSTAR, x86.MSRLSTAR, x86.MSRCSTAR, x86.MSRSFMASK, x86.MSRTSCAux, x86.MSRPAT, x86.MSRMiscEnable:
		return c.msrs[n]
	}
	c.logf("cpu: rdmsr of unknown MSR %#x at %#x: #GP", n, c.rip)
	c.raiseErr(x86.VecGP, 0)
	return 0
}

func (c *CPU) wrmsr(n uint32, v uint64) {
	switch n {
	case x86.MSRTSC:
		c.tscOffset = v - c.instret
	case x86.MSRAPICBase:
		c.apicBase = v
	case x86.MSREFER:
		// Only SCE, LME and NXE are writable; LME cannot change while
		// paging is on (SDM Vol. 3A 9.8.5); LMA is read-only.
		if v&^uint64(x86.EFERSCE|x86.EFERLME|x86.EFERLMA|x86.EFERNXE) != 0 {
			c.raiseErr(x86.VecGP, 0)
		}
		if c.cr0&x86.CR0PG != 0 && (v^c.efer)&x86.EFERLME != 0 {
			c.raiseErr(x86.VecGP, 0)
		}
		old := c.efer
		c.efer = v&^x86.EFERLMA | old&x86.EFERLMA
		if (old^c.efer)&x86.EFERNXE != 0 {
			c.flushTLB(true)
		}
	case x86.MSRFSBase, x86.MSRGSBase, x86.MSRKernelGSBase:
		if !canonical(v) {
			c.raiseErr(x86.VecGP, 0)
		}
		switch n {
		case x86.MSRFSBase:
			c.seg[FS].Base = v
		case x86.MSRGSBase:
			c.seg[GS].Base = v
		default:
			c.kernelGSBase = v
		}
		c.updateMode()
	case x86.MSRSTAR, x86.MSRLSTAR, x86.MSRCSTAR, x86.MSRSFMASK, x86.MSRTSCAux, x86.MSRPAT, x86.MSRMiscEnable:
		if c.msrs == nil {
			c.msrs = make(map[uint32]uint64)
		}
		c.msrs[n] = v
	default:
		c.logf("cpu: wrmsr of unknown MSR %#x at %#x: #GP", n, c.rip)
		c.raiseErr(x86.VecGP, 0)
	}
}

func (c *CPU) logf(format string, args ...any) {
	if c.Log != nil {
		c.Log(fmt.Sprintf(format, args...))
	}
}

// cpuid reports a plain 64-bit Intel-like processor with only the
// features this emulator implements.
func (c *CPU) cpuid() {
	leaf := uint32(c.gpr[RAX])
	var a, b, cx, d uint32
	switch leaf {
	case 0:
		a = 1
		b, d, cx = 0x756e6547, 0x49656e69, 0x6c65746e // "GenuineIntel"
	case 1:
		a = 0x000206a1     // family 6, model 0x2a, stepping 1
		b = 0x00010800     // CLFLUSH line 8*8 bytes, 1 logical processor, APIC ID 0
		cx = 1<<13 | 1<<23 // CMPXCHG16B, POPCNT
		d = 1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<8 | 1<<9 | 1<<13 | 1<<15 | 1<<19
		// PSE TSC MSR PAE CX8 APIC PGE CMOV CLFSH
	case 0x80000000:
		a = 0x80000008
	case 0x80000001:
		cx = 1 << 0       // LAHF/SAHF in 64-bit mode
		d = 1<<20 | 1<<29 // NX, LM
	case 0x80000002, 0x80000003, 0x80000004:
		brand := "VmapStack emulated x86-64 CPU\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
		off := int(leaf-0x80000002) * 16
		w := func(i int) uint32 {
			s := brand[off+4*i:]
			return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
		}
		a, b, cx, d = w(0), w(1), w(2), w(3)
	case 0x80000008:
		a = paging.LinearAddrBits<<8 | paging.MaxPhysAddr
	}
	c.setReg(RAX, 4, uint64(a))
	c.setReg(RBX, 4, uint64(b))
	c.setReg(RCX, 4, uint64(cx))
	c.setReg(RDX, 4, uint64(d))
}
