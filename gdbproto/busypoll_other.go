//go:build !linux

package gdbproto

import (
	"io"
	"net"
	"time"
)

// newPollingReader polls only on Linux (busypoll_linux.go); elsewhere reads
// park on the network poller at once.
func newPollingReader(c net.Conn, _ time.Duration) io.Reader { return c }
