//go:build linux

package gdbproto

import (
	"io"
	"net"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// pollingReader reads a socket, polling it for a while before it parks the
// goroutine on the network poller (WithBusyPoll). A debugger in another
// process sends its next packet some microseconds after our reply (gdb's
// stepi is four to nine such exchanges); parking and being woken through
// epoll costs about as much again on every one of them.
type pollingReader struct {
	c    net.Conn
	raw  syscall.RawConn
	spin time.Duration
}

// newPollingReader returns a reader of c that polls for spin before
// parking; c itself when spin is zero or c is not a plain TCP or unix
// socket. Only those: a caller's own Conn type that embeds one and
// overrides Read would still offer SyscallConn, and polling its descriptor
// would bypass that Read.
func newPollingReader(c net.Conn, spin time.Duration) io.Reader {
	if spin <= 0 {
		return c
	}
	var sc syscall.Conn
	switch c := c.(type) {
	case *net.TCPConn:
		sc = c
	case *net.UnixConn:
		sc = c
	default:
		return c
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return c
	}
	return &pollingReader{c: c, raw: raw, spin: spin}
}

func (r *pollingReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var err error
	until := time.Now().Add(r.spin)
	// A Close from another goroutine takes effect once the poll ends
	// (RawConn.Read holds the descriptor until the callback returns).
	// RawConn.Read checks the read deadline before calling us and again
	// whenever we return false and it parks, so deadlines (the interrupt
	// watcher's way to stop) still work, late by at most the spin.
	rerr := r.raw.Read(func(fd uintptr) bool {
		for {
			// A raw syscall: the descriptor is non-blocking, so the read
			// never blocks and the scheduler need not hear of it.
			got, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
			switch errno {
			case 0:
				n = int(got)
				return true
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				if time.Now().After(until) {
					return false // park until readable or the deadline
				}
			default:
				err = errno
				return true
			}
		}
	})
	switch {
	case rerr != nil:
		return 0, rerr
	case err != nil:
		// The shape of the error a plain Read gives (*net.OpError around
		// an *os.SyscallError), so logs read the same with polling on.
		op := &net.OpError{Op: "read", Source: r.c.LocalAddr(), Addr: r.c.RemoteAddr(), Err: os.NewSyscallError("read", err)}
		if op.Source != nil {
			op.Net = op.Source.Network()
		}
		return 0, op
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}
