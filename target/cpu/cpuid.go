package cpu

import "vmapstack/target/paging"

// CPUID is QEMU 7.2's default CPU model, qemu64, leaf for leaf, so that
// Linux takes the same paths in our machine as under `qemu-system-x86_64`
// and their logs compare. The values were read from QEMU 7.2 TCG running
// CPUID in a guest (integration.TestCPUIDMatchesQEMU compares every leaf
// with QEMU on each run); the bits below differ, because they announce
// what we do not implement (docs/linux-boot.md, "The CPU model"):
//   - CPUID.80000001h:ECX.SVM (bit 2) and the SVM leaf 8000000Ah: no
//     AMD-V.
//
// qemu64 is an AMD model (vendor AuthenticAMD, family 15, model 107,
// stepping 1), so leaves past the maximum return zeros, as AMD's do.

// CPUID feature bits we refer to by name (SDM Vol. 2A CPUID, Tables 3-10
// and 3-11; AMD APM Vol. 3 E.4).
const (
	cpuid1EDX = 1<<0 | // FPU
		1<<2 | 1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<7 | 1<<8 | 1<<9 | // DE PSE TSC MSR PAE MCE CX8 APIC
		1<<11 | 1<<12 | 1<<13 | 1<<14 | 1<<15 | 1<<16 | 1<<17 | // SEP MTRR PGE MCA CMOV PAT PSE-36
		1<<19 | // CLFSH
		1<<23 | 1<<24 | 1<<25 | 1<<26 // MMX FXSR SSE SSE2
	cpuid1ECX = 1<<0 | // SSE3
		1<<13 | // CMPXCHG16B
		1<<31 // hypervisor present (QEMU sets it under TCG too)
	// 80000001h:EDX repeats the leaf-1 EDX bits that AMD defines in both
	// leaves (QEMU's CPUID_EXT2_AMD_ALIASES), plus SYSCALL, NX and LM.
	cpuidAMDAliases = 0x0183f3ff
	cpuidExt1EDX    = cpuid1EDX&cpuidAMDAliases |
		1<<11 | // SYSCALL/SYSRET
		1<<20 | // NX
		1<<29 // LM
	cpuidExt1ECX = 1 << 0 // LAHF/SAHF in 64-bit mode (qemu64 also has SVM, bit 2: omitted)

	cpuidSignature = 0x00060fb1 // family 0xf, extended model 6, model 0xb, stepping 1: model 107
	cpuidMaxBasic  = 0xd
	cpuidMaxExt    = 0x8000000a
)

// cpuidVendor is "AuthenticAMD" as EBX, EDX, ECX.
var cpuidVendor = [3]uint32{0x68747541, 0x69746e65, 0x444d4163}

// cpuidBrand is QEMU's model-id, "QEMU Virtual CPU version 2.5+",
// NUL-padded to the 48 bytes of leaves 80000002h-80000004h.
const cpuidBrand = "QEMU Virtual CPU version 2.5+"

// cpuidLeaf returns EAX, EBX, ECX, EDX for leaf (EAX) and subleaf (ECX).
func cpuidLeaf(leaf, sub uint32) (a, b, c, d uint32) {
	switch leaf {
	case 0, 0x80000000:
		a = cpuidMaxBasic
		if leaf != 0 {
			a = cpuidMaxExt
		}
		b, d, c = cpuidVendor[0], cpuidVendor[1], cpuidVendor[2]
	case 1:
		// EBX: CLFLUSH line 8 * 8 bytes; one logical processor and APIC
		// ID 0 leave the other fields 0.
		return cpuidSignature, 0x00000800, cpuid1ECX, cpuid1EDX
	case 5:
		// MONITOR/MWAIT leaf: ECX EMX | IBE, as QEMU reports it even
		// without MONITOR.
		c = 3
	case 0xb:
		// Extended topology: one thread per core (level 0, SMT), one
		// core per package (level 1); x2APIC ID 0.
		switch sub {
		case 0:
			b, c = 1, 0x100
		case 1:
			b, c = 1, 0x201
		default:
			c = sub & 0xff
		}
	case 0x80000001:
		return cpuidSignature, 0, cpuidExt1ECX, cpuidExt1EDX
	case 0x80000002, 0x80000003, 0x80000004:
		var brand [48]byte
		copy(brand[:], cpuidBrand)
		off := int(leaf-0x80000002) * 16
		w := func(i int) uint32 {
			s := brand[off+4*i:]
			return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
		}
		return w(0), w(1), w(2), w(3)
	case 0x80000005:
		// AMD L1 caches and TLBs: QEMU's fixed legacy descriptors.
		return 0x01ff01ff, 0x01ff01ff, 0x40020140, 0x40020140
	case 0x80000006:
		// AMD L2/L3 caches and TLBs.
		return 0, 0x42004200, 0x02008140, 0x00808140
	case 0x80000008:
		return paging.LinearAddrBits<<8 | paging.MaxPhysAddr, 0, 0, 0
	case 0x40000000:
		// QEMU TCG's hypervisor leaf: "TCGTCGTCGTCG", maximum 40000001h.
		return 0x40000001, 0x54474354, 0x43544743, 0x47435447
	}
	return a, b, c, d
}

func (c *CPU) cpuid() {
	a, b, cx, d := cpuidLeaf(uint32(c.gpr[RAX]), uint32(c.gpr[RCX]))
	c.setReg(RAX, 4, uint64(a))
	c.setReg(RBX, 4, uint64(b))
	c.setReg(RCX, 4, uint64(cx))
	c.setReg(RDX, 4, uint64(d))
}
