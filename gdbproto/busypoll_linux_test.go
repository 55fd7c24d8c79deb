//go:build linux

package gdbproto

import (
	"context"
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
// packets waiting in the socket bring it down to its least (max/6; max is
// a second so that no scheduling delay of a loaded machine counts as a
// gap).
func TestPollingReaderRecords(t *testing.T) {
	srv, cl := socketPair(t, "tcp")
	r := newPollingReader(srv, time.Second).(*pollingReader)
	buf := make([]byte, 16)
	for i := 0; i < gapHistory/4; i++ {
		cl.Write([]byte("+"))
		if _, err := r.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	if want := time.Second / minSpinDivisor; r.ngap != gapHistory/4 || r.spin != want {
		t.Errorf("after %d reads: %d waits recorded, window %v; want %d and %v", gapHistory/4, r.ngap, r.spin, gapHistory/4, want)
	}
}

// TestPollCut: a cut makes a poll park, so the deadline the interrupt
// watcher is stopped with ends its read without waiting for its window
// (ten minutes here), whether the cut comes before the read or during
// its poll; cut(false) withdraws a cut no poll took.
func TestPollCut(t *testing.T) {
	const window = 10 * time.Minute
	read := func(t *testing.T, r *pollingReader, during func()) {
		t.Helper()
		done := make(chan error, 1)
		go func() {
			_, err := r.Read(make([]byte, 16))
			done <- err
		}()
		if during != nil {
			during()
		}
		select {
		case err := <-done:
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("read: %v, want the deadline", err)
			}
		case <-time.After(time.Minute): // a safety net: uncut, it polls for ten
			t.Fatal("the read polled on after the cut")
		}
		if r.cutNext.Load() {
			t.Errorf("the cut was not taken by the poll")
		}
	}
	// Only a poll takes a cut: once one has, the read is parked, and a
	// past deadline (as watch.stop sets it) ends it. A deadline set
	// earlier could pass before the read began and end it unpolled.
	endParked := func(t *testing.T, r *pollingReader, srv net.Conn) {
		t.Helper()
		for giveUp := time.Now().Add(time.Minute); r.cutNext.Load(); time.Sleep(time.Millisecond) {
			if time.Now().After(giveUp) { // a safety net
				t.Fatal("no poll took the cut")
			}
		}
		srv.SetReadDeadline(time.Unix(1, 0))
	}
	t.Run("before the read", func(t *testing.T) {
		srv, _ := socketPair(t, "tcp")
		r := newPollingReader(srv, window).(*pollingReader)
		r.spin = window
		r.cut(true)
		read(t, r, func() { endParked(t, r, srv) })
	})
	t.Run("during the poll", func(t *testing.T) {
		srv, _ := socketPair(t, "tcp")
		r := newPollingReader(srv, window).(*pollingReader)
		r.spin = window
		read(t, r, func() {
			time.Sleep(20 * time.Millisecond) // the read is polling, most likely
			r.cut(true)
			endParked(t, r, srv)
		})
	})
	t.Run("withdrawn", func(t *testing.T) {
		srv, cl := socketPair(t, "tcp")
		r := newPollingReader(srv, window).(*pollingReader)
		r.cut(true)
		r.cut(false)
		cl.Write([]byte("+"))
		if _, err := r.Read(make([]byte, 16)); err != nil || r.cutNext.Load() {
			t.Errorf("read %v, cut pending %v", err, r.cutNext.Load())
		}
	})
}

// TestStopCutsWatcherPoll: a continue runs long enough for the interrupt
// watcher to start and poll (a window of a minute: a quarter of the
// bound); when the target stops, the stop reply must not wait for the
// rest of that window (watch.stop cuts it).
func TestStopCutsWatcherPoll(t *testing.T) {
	f := newFake()
	release := make(chan struct{})
	f.run = func(ctx context.Context, a Action) (StopEvent, error) {
		<-release
		return StopEvent{Reason: StopSWBreak}, nil
	}
	_, addr, _ := startServer(t, f, WithBusyPoll(4*time.Minute))
	cl := dial(t, addr)
	if got := cl.cmd("qC"); got != "QC01" {
		t.Fatalf("qC: %q", got)
	}
	cl.send("c")
	<-f.running
	time.Sleep(3 * watchTick) // the watcher has started, and polls
	close(release)
	got := make(chan string, 1)
	go func() { got <- cl.recv() }()
	select {
	case r := <-got:
		if !strings.HasPrefix(r, "T05") {
			t.Fatalf("stop reply %q", r)
		}
	case <-time.After(30 * time.Second): // a safety net: uncut, the reply waits a minute
		t.Fatal("the stop reply waited for the watcher's poll")
	}
	if got := cl.cmd("D"); got != "OK" {
		t.Errorf("D: %q", got)
	}
}
