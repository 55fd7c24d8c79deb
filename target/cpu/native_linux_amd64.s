#include "textflag.h"

// func nativeCall(code uintptr, regs *[16]uint64) uint64
//
// The block's code (native.go, nativeEmit) takes the guest registers'
// address in DI, may change every general register but SP (the
// assembler's prologue and epilogue save and restore BP around it; the
// ABI wrapper restores R14 and X15 after an ABI0 call), and leaves its
// exit number in AX (the last block's index and exit number, when it
// chained to others). It pushes at most seven words below this frame (the
// state, a memory access's three registers and flags, and the return
// address of its lookup helper's call; the tests' flag flips one more),
// well inside the stack guard that the frame's stack check leaves.
TEXT ·nativeCall(SB), 0, $8-24
	MOVQ code+0(FP), AX
	MOVQ regs+8(FP), DI
	CALL AX
	MOVQ AX, ret+16(FP)
	RET

// func hasLAHF64() bool
TEXT ·hasLAHF64(SB), NOSPLIT, $0-1
	MOVL $0x80000001, AX
	XORL CX, CX
	CPUID
	ANDL $1, CX
	MOVB CX, ret+0(FP)
	RET
