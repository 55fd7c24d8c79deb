//go:build linux

package gdbproto

import (
	"io"
	"net"
	"os"
	"slices"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// pollingReader reads a socket, polling it for a while before it parks the
// goroutine on the network poller (WithBusyPoll). A debugger in another
// process sends its next packet some microseconds after our reply (gdb's
// stepi is four to nine such exchanges); parking and being woken through
// epoll costs about as much again on every one of them.
//
// How long to poll depends on the debugger and the machine. Within a
// stepi gdb answers in tens of microseconds, but between two stepi it
// works 100-150 µs on a 2-core AMD EPYC: polling 50 µs missed those gaps
// (2,660-2,700 stepi/s), polling 150-250 µs caught them (3,380-3,680);
// polling 400 µs and 1 ms measured no better (3,330 and 3,210), and holds a
// core longer for a debugger that is slower than that anyway. So the
// window follows the gaps: 5/4 of the third-longest of the last
// gapHistory waits no longer than max (a longer one is a person at the
// prompt, or a debugger too slow for polling to pay), between max/6 and
// max. The third-longest of 32 is a gap between two steps whether gdb
// exchanges four packets a step or nine, and two odd waits do not move
// it. While a debugger steps, one core polls through its gaps.
type pollingReader struct {
	c    net.Conn
	raw  syscall.RawConn
	max  time.Duration // WithBusyPoll's bound
	spin time.Duration // the current window

	gaps [gapHistory]time.Duration // the last waits, a ring
	ngap int                       // waits recorded, ever

	cutNext atomic.Bool // cut: end the poll in progress, or the next one
}

// gapHistory is how many recent waits set the window; minSpinDivisor
// bounds it from below (max/minSpinDivisor: with a 300 µs bound, the
// 50 µs that was the fixed window before).
const (
	gapHistory     = 32
	minSpinDivisor = 6
)

// record notes how long a read waited for its data and, every
// gapHistory/4 waits recorded, sets the window from the history.
func (r *pollingReader) record(waited time.Duration) {
	if waited > r.max {
		return
	}
	r.gaps[r.ngap%gapHistory] = waited
	r.ngap++
	if r.ngap%(gapHistory/4) != 0 {
		return
	}
	n := min(r.ngap, gapHistory)
	sorted := r.gaps // a copy: the ring keeps its order
	slices.Sort(sorted[:n])
	long := sorted[max(n-3, 0)]
	r.spin = min(max(long+long/4, r.max/minSpinDivisor), r.max)
}

// cut(true) makes the poll in progress park at once, or the next poll if
// none is; cut(false) withdraws it if no poll took it. Safe from any
// goroutine: the interrupt watcher's read must see the deadline that
// hands the connection back without waiting for its window to end.
func (r *pollingReader) cut(on bool) { r.cutNext.Store(on) }

// newPollingReader returns a reader of c that polls before parking, for a
// window that starts at spin/4 and follows the debugger's gaps up to spin
// (pollingReader); c itself when spin is zero or c is not a plain TCP or unix
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
	return &pollingReader{c: c, raw: raw, max: spin, spin: spin / 4}
}

func (r *pollingReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var err error
	start := time.Now()
	until := start.Add(r.spin)
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
				r.record(time.Since(start))
				return true
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				if r.cutNext.Load() {
					r.cutNext.Store(false)
					return false
				}
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
