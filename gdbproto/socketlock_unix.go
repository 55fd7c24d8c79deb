//go:build unix

package gdbproto

import (
	"io"
	"os"
	"syscall"
)

// lockSocketPath takes an exclusive flock(2) on the file at path, created
// if need be. The lock lasts until the returned Closer is closed or the
// process ends, so a stub that died leaves no owner behind.
func lockSocketPath(path string) (io.Closer, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
