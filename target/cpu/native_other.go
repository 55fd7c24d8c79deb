//go:build !linux || !amd64

package cpu

import "errors"

// Elsewhere there is no native tier: SetNativeTier(true) leaves it off.

func nativeCall(code uintptr, regs *[16]uint64) uint64 { panic("cpu: no native tier on this host") }

type execArena struct{}

func newExecArena(int) (*execArena, error) {
	return nil, errors.New("cpu: no native tier on this host")
}

func (a *execArena) put([]byte) (uintptr, bool) { return 0, false }

func (a *execArena) reset() {}

const nativeSupported = false
