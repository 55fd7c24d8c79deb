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

// execArena is memory for blocks' host code, filled from the start and
// emptied whole (nativeFlush). It is a memfd mapped readable and
// executable, and written with pwrite: no mapping is ever writable (W^X),
// writing a block needs no mprotect (a pair of them a block cost 2.4% of
// a Debian boot), and its pages count once in the resident set (a second,
// writable mapping counted them twice: 12 MB more for a boot).
type execArena struct {
	fd   int
	x    []byte
	used int
}

// sysMemfdCreate is memfd_create(2) on linux/amd64 (Linux 3.17), which
// package syscall does not name, and mfdCloexec its MFD_CLOEXEC.
const (
	sysMemfdCreate = 319
	mfdCloexec     = 1
)

// newExecArena makes an arena of size bytes.
func newExecArena(size int) (*execArena, error) {
	name := []byte("vmapstack-native\x00")
	fd, _, errno := syscall.Syscall(sysMemfdCreate, uintptr(unsafe.Pointer(&name[0])), mfdCloexec, 0)
	if errno != 0 {
		return nil, fmt.Errorf("cpu: native tier: memfd_create: %w", errno)
	}
	if err := syscall.Ftruncate(int(fd), int64(size)); err != nil {
		syscall.Close(int(fd))
		return nil, fmt.Errorf("cpu: native tier: ftruncate: %w", err)
	}
	x, err := syscall.Mmap(int(fd), 0, size, syscall.PROT_READ|syscall.PROT_EXEC, syscall.MAP_SHARED)
	if err != nil {
		syscall.Close(int(fd))
		return nil, fmt.Errorf("cpu: native tier: executable memory: %w", err)
	}
	a := &execArena{fd: int(fd), x: x}
	runtime.SetFinalizer(a, func(a *execArena) {
		syscall.Munmap(a.x)
		syscall.Close(a.fd)
	})
	return a, nil
}

// put copies code into the arena, 16-byte aligned, and returns its
// executable address; false when the arena is full.
func (a *execArena) put(code []byte) (uintptr, bool) {
	start := (a.used + 15) &^ 15
	if start+len(code) > len(a.x) {
		return 0, false
	}
	if n, err := syscall.Pwrite(a.fd, code, int64(start)); err != nil || n != len(code) {
		return 0, false
	}
	a.used = start + len(code)
	return uintptr(unsafe.Pointer(&a.x[start])), true
}

func (a *execArena) reset() { a.used = 0 }

// nativeSupported: this host runs blocks. They save and restore the
// flags with LAHF and SAHF, which 64-bit mode has only where CPUID
// 80000001h says so in ECX bit 0 (every x86-64 processor since 2006; not
// the first Intel EM64T and AMD K8 parts).
var nativeSupported = hasLAHF64()

// hasLAHF64 reports CPUID 80000001h ECX bit 0 (native_linux_amd64.s).
func hasLAHF64() bool
