//go:build !unix

package gdbproto

import (
	"io"
	"os"
)

// lockSocketPath: without flock(2), creating the lock file exclusively
// stands in; a stub that died leaves it behind, to be removed by hand.
func lockSocketPath(path string) (io.Closer, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
}
