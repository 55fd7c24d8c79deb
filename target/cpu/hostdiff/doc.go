// Package hostdiff holds a differential test of the emulated CPU (package
// target/cpu) against the processor running the test: a seeded generator
// of user-level integer instructions, a small encoder for them, a
// trampoline that executes one instruction natively from a known register
// and flag state, and the same instruction executed by the emulator in
// 64-bit mode at the same linear addresses. Registers, the flags the Intel
// SDM defines for the instruction, and the scratch memory are compared.
//
// Native execution needs a linux/amd64 host; the package has no API of
// its own beyond that helper (see native_amd64.go).
package hostdiff
