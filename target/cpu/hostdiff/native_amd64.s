//go:build linux && amd64

#include "textflag.h"

// func callNative(entry uintptr)
//
// callNative is ABI0, so the ABI wrapper Go inserts around it re-establishes
// R14 (g) and X15 on return. The trampoline at entry keeps the callee's
// obligations beyond that: it stores RSP, RBP, RBX and R12-R15 in its own
// RIP-relative save area before loading the test registers and reloads
// them before RET, and it executes CLD so DF is clear again (the Go ABI
// requires DF=0 at calls and returns). The only goroutine-stack use is the
// return address pushed by CALL, within the NOSPLIT allowance.
TEXT ·callNative(SB), NOSPLIT, $0-8
	MOVQ entry+0(FP), AX
	CALL AX
	RET
