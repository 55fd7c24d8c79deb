//go:build linux && amd64

package hostdiff

// callNative calls the machine code at entry (a trampoline built by the
// test in an executable mapping). The trampoline itself saves and
// restores every register the Go ABI needs (RSP, RBP, RBX, R12-R15 and
// thereby R14 = g) and clears DF before it returns; see native_amd64.s.
//
//go:noescape
func callNative(entry uintptr)
