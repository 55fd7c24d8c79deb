package cpu

import (
	"fmt"
	"runtime"
	"syscall"
	"unsafe"
)

// nativeCall runs the host code at code with DI = regs (native_linux_amd64.s)
// and returns what it leaves in EAX.
//
//go:noescape
func nativeCall(code uintptr, regs *[16]uint64) uint64

// execArena is executable memory for blocks' host code, filled from the
// start and emptied whole (nativeFlush).
type execArena struct {
	mem  []byte
	used int
}

// newExecArena maps size bytes readable, writable and executable. Blocks
// are written once, before they first run, and never changed.
func newExecArena(size int) (*execArena, error) {
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE|syscall.PROT_EXEC, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil, fmt.Errorf("cpu: executable memory for the native tier: %w", err)
	}
	a := &execArena{mem: mem}
	runtime.SetFinalizer(a, func(a *execArena) { syscall.Munmap(a.mem) })
	return a, nil
}

// put copies code into the arena, 16-byte aligned, and returns its
// address; false when the arena is full.
func (a *execArena) put(code []byte) (uintptr, bool) {
	start := (a.used + 15) &^ 15
	if start+len(code) > len(a.mem) {
		return 0, false
	}
	copy(a.mem[start:], code)
	a.used = start + len(code)
	return uintptr(unsafe.Pointer(&a.mem[start])), true
}

func (a *execArena) reset() { a.used = 0 }

// nativeSupported: this host runs blocks.
const nativeSupported = true
