// Package hostdiff holds a differential test of the emulated CPU (package
// target/cpu) against the processor running the test: a seeded generator
// of user-level instructions, a small encoder for them, a trampoline that
// executes one instruction natively from a known register and flag state,
// and the same instruction executed by the emulator in 64-bit mode at the
// same linear addresses. Registers, the flags the Intel SDM defines for
// the instruction, and the scratch memory are compared.
//
// # Floating point
//
// The x87, MMX and SSE/SSE2/SSE3 families (families_x87_test.go,
// families_sse_test.go, and fp-pair in families_fppair_test.go: a mode
// or stack change followed by an instruction that depends on it) also
// give each case a full FP state: a 512-byte
// FXSAVE image (SDM Vol. 1 10.5.1, Table 10-2) with random XMM0-15
// biased to interesting values (zeros, denormals, infinities, QNaNs and
// SNaNs, integers, values next to rounding boundaries), an MXCSR with
// random rounding, FTZ, DAZ and sticky flags, an x87 control word with
// random precision and rounding control, and a random stack depth with
// TOP anywhere. Every exception is masked in both control words: an
// unmasked one would fault on the host. The trampoline of such a case
// saves the Go caller's FP state (FXSAVE), loads the case's (FXRSTOR),
// runs the instruction, stores the result (FXSAVE) and restores the
// caller's; the emulator gets the same state through cpu.State, the
// abridged tag word turned into the full one as FXRSTOR does (Vol. 1
// 10.5.1.1), and its state afterwards is compared with the host's image:
// XMM0-15, MXCSR, FCW, FSW, which registers are empty, and the contents
// of the non-empty ones.
//
// What the SDM leaves to the implementation is not compared, per case
// (fpCase: undefFSW, approx, ulpST, undefST, and the undefined memory of
// testCase); each family cites the SDM text for its masks:
//
//   - FIP, FDP and FOP in the FXSAVE image never are: AMD processors save
//     them only while an exception is pending (AMD APM Vol. 5, FXSAVE),
//     Intel ones may deprecate FCS/FDS (CPUID.(EAX=07H,ECX=0):EBX[13]).
//     The same fields of FNSTENV/FNSAVE/FXSAVE images stored to memory
//     are masked, with the reserved bytes of those images.
//   - The 2-bit tags: FXSAVE stores only empty/non-empty per register,
//     which is all the host shows after a case; the full tag word is
//     compared where the host stores it (FNSTENV, FNSAVE images).
//   - C0-C3 where an instruction page says "undefined".
//   - RCPPS/RCPSS/RSQRTPS/RSQRTSS results: within the SDM's bound of
//     1.5*2^-12 relative error of the exact value, on both sides.
//   - The x87 transcendentals (F2XM1, FYL2X, FYL2XP1, FPTAN, FPATAN, FSIN,
//     FCOS, FSINCOS): within one unit in the last place, with C1 (the
//     rounding direction) not compared, and arguments in the ranges where
//     both vendors document that accuracy.
//   - Only canonical 80-bit encodings are generated (no unnormals,
//     pseudo-NaNs, pseudo-infinities, pseudo-denormals) in valid
//     registers and memory operands; FBLD sources are valid BCD.
//   - FPREM/FPREM1: operands keep the reduction complete (a partial
//     remainder's size is implementation-dependent), and the quotient bits
//     C0, C1, C3 are not compared where there is no quotient (NaN,
//     infinite dividend, zero divisor, stack underflow).
//   - FXAM of an empty ST(0): C1 (the sign of no value) is not compared.
//
// Where Intel and AMD processors (or QEMU) are known to differ, the case
// is generated so that every processor agrees, and the difference is a
// numbered section of docs/qemu-differences.md: EMMS cases start with TOP
// 0 and CVTPI2PS m64 cases in MMX state (§8), FCOMI* and FCMOVcc cases
// with C1 clear (§9), the transcendentals' PE is not compared (§10), and
// the unspecified bytes of FXSAVE, FNSTENV and FNSAVE images are masked
// (§11).
//
// A family whose emulation is not complete yet goes in pendingFamilies,
// which the default run leaves out (pendingWhy and
// TestPendingFamiliesListed say why for each; the FP families went
// through it and all passed). Run them, and write every kind of mismatch
// grouped per family to a file, with
//
//	go test ./target/cpu/hostdiff -run TestHostDiff -args -pending -seed N -cases M -mismatches /tmp/hostdiff-fp-mismatches.txt
//
// or -families 'sse*' / -families x87-arith,sse-int to pick families.
// Instructions the emulator answers with #UD are listed separately, as
// not implemented.
//
// Native execution needs a linux/amd64 host; the package has no API of
// its own beyond that helper (see native_amd64.go).
package hostdiff
