// Package x86 names the architectural constants of the x86-64 processor
// once, for every package that needs them: the CPU that implements them,
// the machine and loaders that set up state, and the monitor that decodes
// it for a user. Each group cites the SDM section that defines it.
package x86

// RFLAGS bits (SDM Vol. 1 3.4.3, Vol. 3A 2.3).
const (
	FlagCF   = 1 << 0
	FlagPF   = 1 << 2
	FlagAF   = 1 << 4
	FlagZF   = 1 << 6
	FlagSF   = 1 << 7
	FlagTF   = 1 << 8
	FlagIF   = 1 << 9
	FlagDF   = 1 << 10
	FlagOF   = 1 << 11
	FlagIOPL = 3 << 12
	FlagNT   = 1 << 14
	FlagRF   = 1 << 16
	FlagVM   = 1 << 17
	FlagAC   = 1 << 18
	FlagID   = 1 << 21
)

// CR0 bits (SDM Vol. 3A 2.5).
const (
	CR0PE = 1 << 0
	CR0MP = 1 << 1
	CR0EM = 1 << 2
	CR0TS = 1 << 3
	CR0ET = 1 << 4
	CR0NE = 1 << 5
	CR0WP = 1 << 16
	CR0AM = 1 << 18
	CR0NW = 1 << 29
	CR0CD = 1 << 30
	CR0PG = 1 << 31
)

// CR4 bits (SDM Vol. 3A 2.5).
const (
	CR4VME        = 1 << 0
	CR4PVI        = 1 << 1
	CR4TSD        = 1 << 2
	CR4DE         = 1 << 3
	CR4PSE        = 1 << 4
	CR4PAE        = 1 << 5
	CR4MCE        = 1 << 6
	CR4PGE        = 1 << 7
	CR4PCE        = 1 << 8
	CR4OSFXSR     = 1 << 9
	CR4OSXMMEXCPT = 1 << 10
	CR4UMIP       = 1 << 11
)

// IA32_EFER bits (SDM Vol. 3A 2.2.1).
const (
	EFERSCE = 1 << 0
	EFERLME = 1 << 8
	EFERLMA = 1 << 10
	EFERNXE = 1 << 11
)

// Exception vectors (SDM Vol. 3A Table 6-1).
const (
	VecDE  = 0
	VecDB  = 1
	VecNMI = 2
	VecBP  = 3
	VecOF  = 4
	VecBR  = 5
	VecUD  = 6
	VecNM  = 7
	VecDF  = 8
	VecTS  = 10
	VecNP  = 11
	VecSS  = 12
	VecGP  = 13
	VecPF  = 14
	VecMF  = 16
	VecAC  = 17
	VecMC  = 18
	VecXM  = 19
)

// MSR numbers (SDM Vol. 4).
const (
	MSRTSC          = 0x10
	MSRAPICBase     = 0x1b
	MSRMiscEnable   = 0x1a0
	MSRPAT          = 0x277
	MSREFER         = 0xc0000080
	MSRSTAR         = 0xc0000081
	MSRLSTAR        = 0xc0000082
	MSRCSTAR        = 0xc0000083
	MSRSFMASK       = 0xc0000084
	MSRFSBase       = 0xc0000100
	MSRGSBase       = 0xc0000101
	MSRKernelGSBase = 0xc0000102
	MSRTSCAux       = 0xc0000103
)

// MXCSR, the SSE control and status register (SDM Vol. 1 10.2.3, Figure
// 10-3): six sticky exception flags, DAZ, six exception masks, the
// rounding control and flush-to-zero.
const (
	MXCSRIE  = 1 << 0 // invalid operation
	MXCSRDE  = 1 << 1 // denormal operand
	MXCSRZE  = 1 << 2 // divide by zero
	MXCSROE  = 1 << 3 // overflow
	MXCSRUE  = 1 << 4 // underflow
	MXCSRPE  = 1 << 5 // precision (inexact result)
	MXCSRDAZ = 1 << 6 // denormals are zeros
	MXCSRIM  = 1 << 7 // the masks: flag bit << 7
	MXCSRDM  = 1 << 8
	MXCSRZM  = 1 << 9
	MXCSROM  = 1 << 10
	MXCSRUM  = 1 << 11
	MXCSRPM  = 1 << 12
	MXCSRRC  = 3 << 13 // rounding control: 0 nearest, 1 down, 2 up, 3 toward zero
	MXCSRFZ  = 1 << 15 // flush to zero

	MXCSRFlags   = 0x3f      // the six exception flags
	MXCSRMasks   = 0x3f << 7 // the six exception masks
	MXCSRDefault = 0x1f80    // after reset and FNINIT-like initialisation: all masked, nearest
	// MXCSRMask is the MXCSR_MASK FXSAVE stores: the bits LDMXCSR and
	// FXRSTOR accept (SDM Vol. 1 11.6.6). QEMU stores 0x0000ffff (DAZ
	// supported, bits 16-31 reserved), and so do we.
	MXCSRMask = 0xffff
)

// x87 FPU status word bits (SDM Vol. 1 8.1.3, Figure 8-4).
const (
	FSWIE       = 1 << 0 // invalid operation
	FSWDE       = 1 << 1 // denormal operand
	FSWZE       = 1 << 2 // zero divide
	FSWOE       = 1 << 3 // overflow
	FSWUE       = 1 << 4 // underflow
	FSWPE       = 1 << 5 // precision (inexact result)
	FSWSF       = 1 << 6 // stack fault (with IE; C1 tells overflow from underflow)
	FSWES       = 1 << 7 // exception summary: an unmasked exception is pending
	FSWC0       = 1 << 8
	FSWC1       = 1 << 9
	FSWC2       = 1 << 10
	FSWTop      = 7 << 11 // TOP: the physical register that is ST(0)
	FSWTopShift = 11
	FSWC3       = 1 << 14
	FSWB        = 1 << 15 // busy (mirrors ES)

	FSWExceptions = 0x3f // IE..PE
	FSWCond       = FSWC0 | FSWC1 | FSWC2 | FSWC3
)

// x87 FPU control word (SDM Vol. 1 8.1.5, Figure 8-6).
const (
	FCWIM      = 1 << 0 // exception masks: the FSW flag bit, same position
	FCWDM      = 1 << 1
	FCWZM      = 1 << 2
	FCWOM      = 1 << 3
	FCWUM      = 1 << 4
	FCWPM      = 1 << 5
	FCWPC      = 3 << 8 // precision control: 0 single (24 bits), 2 double (53), 3 extended (64)
	FCWPCShift = 8
	FCWRC      = 3 << 10 // rounding control: 0 nearest, 1 down, 2 up, 3 toward zero
	FCWRCShift = 10
	FCWX       = 1 << 12 // infinity control (no effect since the 287)

	FCWDefault = 0x37f // after FNINIT: all masked, 64-bit precision, nearest
)

// x87 tag word values, two bits per physical register (SDM Vol. 1 8.1.7).
const (
	FTagValid   = 0
	FTagZero    = 1
	FTagSpecial = 2 // NaN, infinity, denormal or unsupported format
	FTagEmpty   = 3
)

// More MSRs Linux touches on qemu64 (SDM Vol. 4; AMD APM Vol. 2 App. A).
const (
	MSRUcodeRev        = 0x8b // IA32_BIOS_SIGN_ID on Intel, PATCH_LEVEL on AMD
	MSRMTRRCap         = 0xfe
	MSRSysenterCS      = 0x174
	MSRSysenterESP     = 0x175
	MSRSysenterEIP     = 0x176
	MSRMCGCap          = 0x179
	MSRMCGStatus       = 0x17a
	MSRMCGCtl          = 0x17b
	MSRMTRRPhysBase0   = 0x200 // 0x200 + 2n: PhysBase n, 0x201 + 2n: PhysMask n
	MSRMTRRFix64K      = 0x250
	MSRMTRRFix16K80000 = 0x258
	MSRMTRRFix16KA0000 = 0x259
	MSRMTRRFix4KC0000  = 0x268 // to 0x26f: C0000 ... F8000
	MSRMTRRDefType     = 0x2ff
	MSRMC0Ctl          = 0x400 // 0x400 + 4i: MCi_CTL, _STATUS, _ADDR, _MISC
	MSRK7PerfCtl0      = 0xc0010000
	MSRK8SysCfg        = 0xc0010010
	MSRK8HWCR          = 0xc0010015
	MSRK8IntPendingMsg = 0xc0010055
	MSRAMDDECfg        = 0xc0011029
)
