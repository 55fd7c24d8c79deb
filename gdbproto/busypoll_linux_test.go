//go:build linux

package gdbproto

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// socketPair returns both ends of a real connection on network.
func socketPair(t *testing.T, network string) (server, client net.Conn) {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(t.TempDir(), "s.sock")
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial(network, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

func TestPollingReader(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			srv, cl := socketPair(t, network)
			r := newPollingReader(srv, time.Millisecond)
			if _, ok := r.(*pollingReader); !ok {
				t.Fatalf("a %s socket read without polling (%T)", network, r)
			}
			buf := make([]byte, 16)

			// Data already there, and data that arrives while parked.
			cl.Write([]byte("$qC#b4"))
			if n, err := r.Read(buf); err != nil || string(buf[:n]) != "$qC#b4" {
				t.Fatalf("read: %q, %v", buf[:n], err)
			}
			go func() {
				time.Sleep(20 * time.Millisecond) // past the poll: the read has parked
				cl.Write([]byte{3})
			}()
			if n, err := r.Read(buf); err != nil || string(buf[:n]) != "\x03" {
				t.Fatalf("read after parking: %q, %v", buf[:n], err)
			}

			// A deadline in the past ends a read before it polls, and one
			// set while the read waits ends it too (the interrupt
			// watcher's way to stop).
			srv.SetReadDeadline(time.Unix(1, 0))
			if _, err := r.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("read past its deadline: %v", err)
			}
			srv.SetReadDeadline(time.Time{})
			go func() {
				time.Sleep(20 * time.Millisecond)
				srv.SetReadDeadline(time.Unix(1, 0))
			}()
			if _, err := r.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("read whose deadline passed while it waited: %v", err)
			}
			srv.SetReadDeadline(time.Time{})

			// The peer hanging up is EOF; our own close is net.ErrClosed.
			cl.Close()
			if _, err := r.Read(buf); err != io.EOF {
				t.Fatalf("read after the peer closed: %v", err)
			}
			srv.Close()
			if _, err := r.Read(buf); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("read after close: %v", err)
			}
		})
	}
	t.Run("reset", func(t *testing.T) {
		// A peer that resets the connection (SO_LINGER 0) is an error
		// that says so, not a read that waits for ever.
		srv, cl := socketPair(t, "tcp")
		r := newPollingReader(srv, time.Millisecond)
		cl.Write([]byte("$qC#b4"))
		time.Sleep(10 * time.Millisecond) // the data is in srv's receive queue
		cl.(*net.TCPConn).SetLinger(0)
		cl.Close()
		srv.SetReadDeadline(time.Now().Add(10 * time.Second)) // safety net only
		buf := make([]byte, 64)
		var err error
		for err == nil {
			_, err = r.Read(buf)
		}
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("read after a reset: %v, want ECONNRESET", err)
		}
		var se *os.SyscallError
		if !errors.As(err, &se) || se.Syscall != "read" {
			t.Errorf("error %v is not a read syscall error, as a plain Read's is", err)
		}
	})
	t.Run("own Conn type", func(t *testing.T) {
		srv, _ := socketPair(t, "tcp")
		wrapped := struct{ *net.TCPConn }{srv.(*net.TCPConn)}
		if r := newPollingReader(wrapped, time.Millisecond); r != io.Reader(wrapped) {
			t.Errorf("a wrapping Conn got %T, want itself (its Read must be used)", r)
		}
	})
	t.Run("no raw descriptor", func(t *testing.T) {
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		if r := newPollingReader(a, time.Millisecond); r != io.Reader(a) {
			t.Errorf("net.Pipe got %T, want the conn itself", r)
		}
	})
	t.Run("off", func(t *testing.T) {
		srv, _ := socketPair(t, "tcp")
		if r := newPollingReader(srv, 0); r != io.Reader(srv) {
			t.Errorf("spin 0 got %T, want the conn itself", r)
		}
	})
}

// TestBusyPollSession runs a session whose reads poll: packets, retransmission,
// an interrupt of a running target and a detach behave as without polling.
func TestBusyPollSession(t *testing.T) {
	f := newFake()
	_, addr, _ := startServer(t, f, WithBusyPoll(time.Millisecond))
	cl := dial(t, addr)
	if got := cl.cmd("qC"); got != "QC01" {
		t.Fatalf("qC: %q", got)
	}
	cl.send("m1000,8")
	first := cl.recvFrame()
	cl.raw("-")
	if second := cl.recvFrame(); string(second) != string(first) {
		t.Errorf("retransmission %q differs from %q", second, first)
	}
	cl.raw("+")
	cl.send("c")
	<-f.running
	time.Sleep(3 * watchTick) // let the watcher start (either path must pass)
	cl.raw("\x03")
	if got := cl.recv(); !strings.HasPrefix(got, "T02") {
		t.Fatalf("stop after ^C: %q", got)
	}
	if got := cl.cmd("D"); got != "OK" {
		t.Errorf("D: %q", got)
	}
}

// TestPollWindow follows the window through the waits a debugger's reads
// see: it settles just above the long gaps of a stepping debugger, does
// not move for a person at the prompt, and stays within max/6..max.
func TestPollWindow(t *testing.T) {
	const us = time.Microsecond
	steps := func(long time.Duration) []time.Duration {
		// A stepi: vCont, qXfer:threads and two memory reads answered
		// within tens of microseconds, then gdb's own work before the
		// next one.
		var w []time.Duration
		for i := 0; i < 16; i++ {
			w = append(w, 20*us, 35*us, 25*us, long)
		}
		return w
	}
	idle := []time.Duration{3 * time.Second, 40 * time.Millisecond, 2 * time.Second}
	tests := []struct {
		name  string
		waits []time.Duration
		want  time.Duration
	}{
		{"nothing yet: a quarter of max", nil, 75 * us},
		{"stepping, 130 us between steps", steps(130 * us), 162500 * time.Nanosecond},
		{"nine packets a step", func() []time.Duration {
			var w []time.Duration
			for i := 0; i < 4; i++ {
				w = append(w, 20*us, 30*us, 20*us, 25*us, 30*us, 20*us, 40*us, 25*us, 140*us)
			}
			return w
		}(), 175 * us},
		{"two odd waits", append(steps(130*us), 290*us, 280*us, 20*us, 35*us, 25*us, 130*us, 20*us, 35*us), 162500 * time.Nanosecond},
		{"three odd waits: no more than max", append(steps(130*us), 290*us, 280*us, 270*us, 35*us, 25*us, 130*us, 20*us, 35*us), 300 * us},
		{"between steps longer than max", steps(600 * us), 50 * us}, // only the short waits count, and max/6 is the least
		{"a person at the prompt", idle, 75 * us},
		{"short waits only", []time.Duration{5 * us, 5 * us, 5 * us, 5 * us, 5 * us, 5 * us, 5 * us, 5 * us}, 50 * us},
		{"stepping after a pause", append(append(steps(130*us), idle...), steps(130 * us)[:8]...), 162500 * time.Nanosecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := socketPair(t, "tcp")
			r := newPollingReader(srv, 300*us).(*pollingReader)
			for _, w := range tt.waits {
				r.record(w)
			}
			if r.spin != tt.want {
				t.Errorf("window %v, want %v", r.spin, tt.want)
			}
		})
	}
}

// TestPollingReaderRecords checks that reads feed the window: eight
// packets answered at once bring it down to its least.
func TestPollingReaderRecords(t *testing.T) {
	srv, cl := socketPair(t, "tcp")
	r := newPollingReader(srv, 300*time.Microsecond).(*pollingReader)
	buf := make([]byte, 16)
	for i := 0; i < gapHistory/4; i++ {
		cl.Write([]byte("+"))
		time.Sleep(time.Millisecond) // in the socket before the read
		if _, err := r.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	if r.ngap != gapHistory/4 || r.spin != 50*time.Microsecond {
		t.Errorf("after %d reads: %d waits recorded, window %v; want %d and 50µs", gapHistory/4, r.ngap, r.spin, gapHistory/4)
	}
}

// TestPollCut: cut makes a poll park at once, so the deadline the
// interrupt watcher is stopped with ends its read without waiting for
// the window (a minute here).
func TestPollCut(t *testing.T) {
	srv, _ := socketPair(t, "tcp")
	r := newPollingReader(srv, time.Minute).(*pollingReader)
	r.spin = time.Minute
	r.cut()
	srv.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	if _, err := r.Read(make([]byte, 16)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read: %v, want the deadline", err)
	}
	if r.cutNext.Load() {
		t.Errorf("the cut was not taken by the poll")
	}
}
