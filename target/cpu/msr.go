package cpu

import (
	"fmt"

	"vmapstack/target/x86"
)

// Model-specific registers: the ones with an effect on this CPU, the ones
// kept as storage for the OS (no effect here), the read-only ones whose
// values are qemu64's under QEMU 7.2, and the AMD MSRs Linux touches on
// qemu64 that QEMU's TCG answers with 0 and ignores writes to (it returns 0 for every MSR it does not
// know; we raise #GP for those instead, as hardware does for an MSR it
// does not have, and Linux probes with rdmsr_safe; docs/linux-boot.md, "The
// CPU model", lists the difference).

const (
	// mtrrCap: 8 variable ranges, fixed ranges, write-combining (QEMU's
	// MSR_MTRRcap_VCNT | FIXRANGE_SUPPORT | WC_SUPPORTED).
	mtrrCap = 8 | 1<<8 | 1<<10
	// mcgCap: 10 banks, MCG_CTL present, software error recovery
	// (QEMU's MCE_BANKS_DEF | MCE_CAP_DEF for a family >= 6 model with
	// MCE and MCA).
	mcgCap   = 10 | 1<<8 | 1<<24
	mceBanks = 10
	// ucodeRev is the microcode patch level QEMU reports for an AMD
	// model.
	ucodeRev = 0x01000065
)

// storedMSR reports whether n is kept as plain storage: written and read
// back, with no effect on this CPU.
func storedMSR(n uint32) bool {
	switch {
	case n == x86.MSRSTAR, n == x86.MSRLSTAR, n == x86.MSRCSTAR, n == x86.MSRSFMASK, n == x86.MSRTSCAux,
		n == x86.MSRPAT, n == x86.MSRMiscEnable,
		n == x86.MSRSysenterCS, n == x86.MSRSysenterESP, n == x86.MSRSysenterEIP,
		n == x86.MSRMCGStatus, n == x86.MSRMCGCtl,
		n >= x86.MSRMTRRPhysBase0 && n < x86.MSRMTRRPhysBase0+2*8,
		n == x86.MSRMTRRFix64K, n == x86.MSRMTRRFix16K80000, n == x86.MSRMTRRFix16KA0000,
		n >= x86.MSRMTRRFix4KC0000 && n < x86.MSRMTRRFix4KC0000+8,
		n == x86.MSRMTRRDefType,
		n >= x86.MSRMC0Ctl && n < x86.MSRMC0Ctl+4*mceBanks:
		return true
	}
	return false
}

// resetMSRs gives the stored MSRs their values after reset: PAT's power-up
// value (SDM Vol. 3A 11.12.4), all machine-check reporting enabled (QEMU's
// mce_init sets MCG_CTL and every MCi_CTL to all ones).
func (c *CPU) resetMSRs() {
	c.msrs = map[uint32]uint64{
		x86.MSRPAT:    0x0007040600070406,
		x86.MSRMCGCtl: ^uint64(0),
	}
	for i := uint32(0); i < mceBanks; i++ {
		c.msrs[x86.MSRMC0Ctl+4*i] = ^uint64(0)
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
	case x86.MSRMTRRCap:
		return mtrrCap
	case x86.MSRMCGCap:
		return mcgCap
	case x86.MSRUcodeRev:
		return ucodeRev // AMD keeps the patch level in the low half (Intel in the high)
	case x86.MSRK7PerfCtl0, x86.MSRK8SysCfg, x86.MSRK8HWCR, x86.MSRK8IntPendingMsg, x86.MSRAMDDECfg:
		return 0 // as QEMU's TCG: see the top of this file
	}
	if storedMSR(n) {
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
	case x86.MSRMTRRCap, x86.MSRMCGCap, x86.MSRUcodeRev:
		// Read-only (SDM Vol. 4): a write is #GP. (Linux writes 0 to
		// the microcode revision before a CPUID to refresh it on
		// Intel; QEMU ignores that write, and so do we.)
		if n != x86.MSRUcodeRev {
			c.raiseErr(x86.VecGP, 0)
		}
	case x86.MSRK7PerfCtl0, x86.MSRK8SysCfg, x86.MSRK8HWCR, x86.MSRK8IntPendingMsg, x86.MSRAMDDECfg:
		// Ignored, as QEMU's TCG.
	default:
		if !storedMSR(n) {
			c.logf("cpu: wrmsr of unknown MSR %#x at %#x: #GP", n, c.rip)
			c.raiseErr(x86.VecGP, 0)
		}
		c.msrs[n] = v
	}
}

// WriteMSR writes an MSR as WRMSR at CPL 0 would, for the firmware state a
// loader leaves behind; an MSR the CPU refuses is an error, not a fault.
func (c *CPU) WriteMSR(n uint32, v uint64) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(*fault); !ok {
				panic(r)
			}
			err = fmt.Errorf("wrmsr %#x <- %#x: #GP", n, v)
		}
	}()
	c.wrmsr(n, v)
	return nil
}

// ReadMSR reads an MSR as RDMSR at CPL 0 would (for tests and the monitor).
func (c *CPU) ReadMSR(n uint32) (v uint64, err error) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(*fault); !ok {
				panic(r)
			}
			err = fmt.Errorf("rdmsr %#x: #GP", n)
		}
	}()
	return c.rdmsr(n), nil
}
