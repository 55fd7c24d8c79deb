package gdbproto

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNoAckMode(t *testing.T) {
	f := newFake()
	_, addr, _ := startServer(t, f)
	cl := dial(t, addr)
	if got := cl.cmd("QStartNoAckMode"); got != "OK" {
		t.Fatalf("QStartNoAckMode: %q", got)
	}
	cl.noAck = true
	// No '+' before the reply any more: the next byte is the '$'.
	cl.raw(framed("?"))
	if got := cl.recv(); got != fakeStop {
		t.Errorf("?: %q", got)
	}
	// A bad checksum is taken as is (nobody would resend it).
	cl.raw("$qC#00")
	if got := cl.recv(); got != "QC01" {
		t.Errorf("qC with a bad checksum in no-ack mode: %q", got)
	}
	// '-' is ignored in no-ack mode.
	cl.raw("-")
	cl.raw(framed("qC"))
	if got := cl.recv(); got != "QC01" {
		t.Errorf("qC: %q", got)
	}
}

func TestRetransmit(t *testing.T) {
	f := newFake()
	_, addr, _ := startServer(t, f)
	cl := dial(t, addr)
	cl.send("m1000,8")
	first := cl.recvFrame()
	cl.raw("-")
	second := cl.recvFrame()
	if string(first) != string(second) || string(first) != "0001020304050607" {
		t.Errorf("retransmission %q differs from %q", second, first)
	}
	cl.raw("+")
	if got := cl.cmd("qC"); got != "QC01" {
		t.Errorf("after retransmission: %q", got)
	}
}

func TestBadChecksumAndGarbage(t *testing.T) {
	f := newFake()
	_, addr, _ := startServer(t, f)
	cl := dial(t, addr)
	cl.raw("$qC#00")
	cl.expectByte('-')
	cl.raw("$qC#zz")
	cl.expectByte('-')
	// The debugger resends; garbage before '$' is skipped.
	cl.raw("\r\nnoise\x00\xff")
	if got := cl.cmd("qC"); got != "QC01" {
		t.Errorf("qC after a nack: %q", got)
	}
}

func TestOversizedPacket(t *testing.T) {
	f := newFake()
	_, addr, _ := startServer(t, f, WithPacketSize(0x400))
	cl := dial(t, addr)
	big := "M1000,400:" + strings.Repeat("ab", 0x400)
	if got := cl.cmd(big); got != "E16" {
		t.Errorf("oversized packet: %q", got)
	}
	if f.mem[0] != 0 {
		t.Errorf("oversized packet was executed")
	}
	if got := cl.cmd("?"); got != fakeStop {
		t.Errorf("? after an oversized packet: %q", got)
	}
	// A packet exactly at the limit is fine, and m replies respect it.
	if got := cl.cmd("m1000,1000"); len(got) > 0x400 || got[:4] != "0001" {
		t.Errorf("m reply %d bytes: %q...", len(got), got[:min(8, len(got))])
	}
}

func TestRLEReply(t *testing.T) {
	f := newFake()
	f.setPC(0)
	_, addr, _ := startServer(t, f)
	cl := dial(t, addr)
	cl.send("g")
	raw := cl.recvFrame()
	cl.raw("+")
	if !strings.Contains(string(raw), "*") || len(raw) >= 56 {
		t.Errorf("g of zeros not run-length encoded: %q", raw)
	}
	dec, _ := rleDecode(raw)
	if string(dec) != strings.Repeat("0", 56) {
		t.Errorf("decoded %q", dec)
	}
	// Without RLE.
	_, addr2, _ := startServer(t, newFake(), WithRLE(false))
	cl2 := dial(t, addr2)
	cl2.send("m1000,1")
	cl2.recvFrame()
	cl2.raw("+")
	cl2.send("p0")
	if raw := cl2.recvFrame(); string(raw) != "0000000000000000" {
		t.Errorf("RLE off: %q", raw)
	}
}

func TestInterrupt(t *testing.T) {
	f := newFake()
	_, addr, _ := startServer(t, f)
	cl := dial(t, addr)
	cl.send("c")
	<-f.running
	cl.raw("\x03")
	if got := cl.recv(); got != "T02thread:01;02:0010000000000000;00:0000000000000000;" {
		t.Errorf("stop after ^C: %q", got)
	}
	// Interrupt while halted is ignored; the session goes on.
	cl.raw("\x03")
	if got := cl.cmd("?"); !strings.HasPrefix(got, "T02") {
		t.Errorf("?: %q", got)
	}
}

// TestInterruptThenPackets: packets that follow 0x03 in the same write
// (the watcher reads them before the target has stopped) are answered
// after the stop reply, in order; a run that outlasts the sentinel's tick
// stops on the interrupt.
func TestInterruptThenPackets(t *testing.T) {
	f := newFake()
	_, addr, _ := startServer(t, f)
	cl := dial(t, addr)
	cl.cmd("QStartNoAckMode")
	cl.noAck = true
	cl.send("c")
	<-f.running
	time.Sleep(3 * watchTick) // let the watcher start (not a timing test: either path must pass)
	cl.raw("\x03" + framed("qC") + framed("?"))
	if got := cl.recv(); !strings.HasPrefix(got, "T02") {
		t.Fatalf("stop after ^C: %q", got)
	}
	if got := cl.recv(); got != "QC01" {
		t.Errorf("qC after the stop: %q", got)
	}
	if got := cl.recv(); !strings.HasPrefix(got, "T02") {
		t.Errorf("? after the stop: %q", got)
	}
}

// TestDisconnectMidPacket: a debugger vanishing mid-packet leaves the
// target halted and the server listening.
func TestDisconnectMidPacket(t *testing.T) {
	f := newFake()
	_, addr, done := startServer(t, f)
	cl := dial(t, addr)
	cl.cmd("qSupported")
	cl.raw("$m10")
	cl.c.Close()
	cl2 := dial(t, addr)
	if got := cl2.cmd("?"); got != fakeStop {
		t.Errorf("? from the next debugger: %q", got)
	}
	if n := f.resumeCount(); n != 0 {
		t.Errorf("target resumed %d times", n)
	}
	select {
	case err := <-done:
		t.Fatalf("Serve returned: %v", err)
	default:
	}
}

// TestDisconnectDropsBreakpoints: a debugger that vanishes leaves the
// target halted but takes its breakpoints with it; the next debugger must
// not be stopped at addresses it never set.
func TestDisconnectDropsBreakpoints(t *testing.T) {
	f := newFake()
	_, addr, _ := startServer(t, f)
	cl := dial(t, addr)
	if got := cl.cmd("Z0,10,1"); got != "OK" {
		t.Fatalf("Z0: %q", got)
	}
	cl.c.Close()
	cl2 := dial(t, addr)
	if got := cl2.cmd("?"); got != fakeStop {
		t.Errorf("? from the next debugger: %q", got)
	}
	f.mu.Lock()
	n, detached := len(f.bps), f.detached
	f.mu.Unlock()
	if n != 0 || detached != 1 {
		t.Errorf("after the first debugger vanished: %d breakpoints left, Detach called %d times; want 0 and 1", n, detached)
	}
	if c := f.resumeCount(); c != 0 {
		t.Errorf("target resumed %d times: it must stay halted", c)
	}
}

// TestDisconnectWhileRunning: the target is stopped and stays halted.
func TestDisconnectWhileRunning(t *testing.T) {
	f := newFake()
	srv, addr, _ := startServer(t, f)
	cl := dial(t, addr)
	cl.send("c")
	<-f.running
	cl.c.Close()
	cl2 := dial(t, addr)
	if got := cl2.cmd("?"); !strings.HasPrefix(got, "T02thread:01;") {
		t.Errorf("? after the first debugger vanished: %q", got)
	}
	if f.resumeCount() != 1 || srv.LastStop().Signal != SIGINT {
		t.Errorf("resumes %d, last stop %+v", f.resumeCount(), srv.LastStop())
	}
}

func TestSecondClientRefused(t *testing.T) {
	f := newFake()
	_, addr, _ := startServer(t, f)
	first := dial(t, addr)
	if got := first.cmd("qSupported:swbreak+"); !strings.HasPrefix(got, "PacketSize=") {
		t.Fatalf("qSupported: %q", got)
	}
	second := dial(t, addr)
	second.raw("+")
	second.send("qSupported:multiprocess+")
	if got := second.recv(); got != "E."+refusalMessage {
		t.Errorf("second debugger got %q", got)
	}
	second.expectClosed()
	// The first session is unaffected.
	if got := first.cmd("m1000,2"); got != "0001" {
		t.Errorf("first debugger after the refusal: %q", got)
	}
	// Direct ServeConn while busy.
	srvSide, cliSide := net.Pipe()
	defer cliSide.Close()
	go cliSide.Write([]byte(framed("?")))
	go func() { buf := make([]byte, 512); cliSide.Read(buf); cliSide.Read(buf) }()
	srv2 := NewServer(f)
	srv2.busy = true
	if o, err := srv2.ServeConn(srvSide); o != OutcomeRefused || !errors.Is(err, ErrBusy) {
		t.Errorf("ServeConn while busy: %v %v", o, err)
	}
}

// TestDetachRunsFree: D lets the target run; the next debugger stops it.
func TestDetachRunsFree(t *testing.T) {
	f := newFake()
	_, addr, done := startServer(t, f)
	cl := dial(t, addr)
	cl.cmd("Z0,1800,1")
	if got := cl.cmd("D;1"); got != "OK" {
		t.Fatalf("D: %q", got)
	}
	cl.expectClosed()
	<-f.running // free run started
	if f.detached != 1 {
		t.Errorf("Detach called %d times", f.detached)
	}
	cl2 := dial(t, addr)
	if got := cl2.cmd("?"); !strings.HasPrefix(got, "T02thread:01;") {
		t.Errorf("? after attach to a running target: %q", got)
	}
	if f.resumeCount() != 1 {
		t.Errorf("resumes: %d", f.resumeCount())
	}
	select {
	case err := <-done:
		t.Fatalf("Serve returned %v", err)
	default:
	}
}

func TestKill(t *testing.T) {
	for _, pkt := range []string{"k", "vKill;1"} {
		f := newFake()
		_, addr, done := startServer(t, f)
		cl := dial(t, addr)
		cl.cmd("qSupported")
		cl.send(pkt)
		if pkt != "k" {
			if got := cl.recv(); got != "OK" {
				t.Errorf("%s: %q", pkt, got)
			}
		}
		if err := <-done; !errors.Is(err, ErrKilled) {
			t.Errorf("%s: Serve returned %v", pkt, err)
		}
		if f.killed != 1 {
			t.Errorf("%s: Kill called %d times", pkt, f.killed)
		}
	}
}

// TestKillLLDB: lldb waits for a reply to k (an exit status) where gdb
// does not; it gets X09, as from lldb-server.
func TestKillLLDB(t *testing.T) {
	f := newFake()
	_, addr, done := startServer(t, f)
	cl := dial(t, addr)
	cl.cmd("qSupported")
	if got := cl.cmd("QThreadSuffixSupported"); got != "OK" {
		t.Fatalf("QThreadSuffixSupported: %q", got)
	}
	if got := cl.cmd("k"); got != "X09" {
		t.Errorf("k from lldb: %q, want X09", got)
	}
	if err := <-done; !errors.Is(err, ErrKilled) {
		t.Errorf("Serve returned %v", err)
	}
}

func TestTargetExit(t *testing.T) {
	for _, tc := range []struct {
		stop StopEvent
		want string
	}{
		{StopEvent{Reason: StopExited, ExitCode: 3}, "W03"},
		{StopEvent{Reason: StopTerminated, Signal: SIGKILL}, "X09"},
	} {
		f := newFake()
		f.run = func(ctx context.Context, a Action) (StopEvent, error) { return tc.stop, nil }
		_, addr, done := startServer(t, f)
		cl := dial(t, addr)
		if got := cl.cmd("c"); got != tc.want {
			t.Errorf("exit reply %q, want %q", got, tc.want)
		}
		var ee *ExitError
		if err := <-done; !errors.As(err, &ee) || ee.Stop != tc.stop {
			t.Errorf("Serve returned %v", err)
		}
	}
}

func TestStartRunning(t *testing.T) {
	f := newFake()
	_, addr, _ := startServer(t, f, WithStartRunning())
	<-f.running
	cl := dial(t, addr)
	if got := cl.cmd("?"); !strings.HasPrefix(got, "T02") {
		t.Errorf("? after attaching to a running target: %q", got)
	}
}

func TestUnattendedStop(t *testing.T) {
	f := newFake()
	f.run = func(ctx context.Context, a Action) (StopEvent, error) {
		return StopEvent{Reason: StopExited, ExitCode: 1}, nil
	}
	seen := make(chan StopEvent, 1)
	_, _, done := startServer(t, f, WithStartRunning(), WithUnattendedStop(func(st StopEvent) { seen <- st }))
	var ee *ExitError
	if err := <-done; !errors.As(err, &ee) || ee.Stop.ExitCode != 1 {
		t.Errorf("Serve returned %v", err)
	}
	if st := <-seen; st.Reason != StopExited {
		t.Errorf("unattended stop %+v", st)
	}

	// A non-exit stop leaves the target halted for the next debugger.
	f2 := newFake()
	f2.run = func(ctx context.Context, a Action) (StopEvent, error) {
		return StopEvent{Reason: StopSignal, Signal: SIGSEGV, Message: "triple fault\n"}, nil
	}
	seen2 := make(chan StopEvent, 1)
	_, addr, _ := startServer(t, f2, WithStartRunning(), WithUnattendedStop(func(st StopEvent) { seen2 <- st }))
	<-seen2
	cl := dial(t, addr)
	if got := cl.cmd("?"); !strings.HasPrefix(got, "T0bthread:01;") {
		t.Errorf("?: %q", got)
	}
}

func TestTargetPanic(t *testing.T) {
	f := newFake()
	srv, addr, _ := startServer(t, panicTarget{f})
	srv.repanic = false
	cl := dial(t, addr)
	if got := cl.cmd("g"); got != "E01" {
		t.Errorf("g on a panicking target: %q", got)
	}
	if got := cl.cmd("m1000,1"); got != "00" {
		t.Errorf("session after a panic: %q", got)
	}
}

type panicTarget struct{ *fakeTarget }

func (panicTarget) ReadRegisters() ([]byte, error) { panic("boom") }

func TestListenUnix(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gdb.sock")
	ln, err := Listen("unix:" + path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Mode()&os.ModeSocket == 0 {
		t.Errorf("socket mode %v", fi.Mode())
	}
	if _, err := Listen("unix:" + path); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second listen on a live socket: %v", err)
	}
	// Finding it in use must not connect: to a running stub that would be
	// a debugger attaching, halting its guest. A connection would already
	// be queued: Accept must time out at once.
	ul := ln.(*unixListener)
	ul.SetDeadline(time.Now().Add(50 * time.Millisecond))
	if c, err := ul.Accept(); err == nil {
		c.Close()
		t.Error("the second Listen connected to the first one's socket")
	}
	ul.SetDeadline(time.Time{})
	srv := NewServer(newFake())
	go srv.Serve(ln)
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	cl := &client{t: t, c: c, r: newReader(c)}
	if got := cl.cmd("qC"); got != "QC01" {
		t.Errorf("qC over a unix socket: %q", got)
	}
	c.Close()
	srv.Close()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("socket file left after Close: %v", err)
	}
	// A regular file is not replaced.
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	if _, err := Listen("unix:" + file); err == nil {
		t.Errorf("Listen replaced a regular file")
	}
	if _, err := Listen("unix:"); err == nil {
		t.Errorf("empty path accepted")
	}
	// Longer than sun_path takes: refused, not accepted and unusable.
	long := filepath.Join(dir, strings.Repeat("x", 120))
	if _, err := Listen("unix:" + long); err == nil || !strings.Contains(err.Error(), "too long for a unix socket") {
		t.Errorf("over-long path: %v", err)
	}
	// A socket whose stub died (no lock holder) is taken over.
	stale := filepath.Join(dir, "stale.sock")
	l1, err := Listen("unix:" + stale)
	if err != nil {
		t.Fatal(err)
	}
	l1.(*unixListener).SetUnlinkOnClose(false)
	l1.(*unixListener).UnixListener.Close() // as if the process died: socket file left, lock released below
	l1.(*unixListener).lock.Close()
	l2, err := Listen("unix:" + stale)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	l2.Close()
	// TCP.
	tl, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tl.Close()
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:1234": true,
		"127.1.2.3:1":    true,
		"[::1]:1234":     true,
		"localhost:1234": true,
		"unix:/tmp/s":    true,
		"0.0.0.0:1234":   false,
		":1234":          false,
		"[::]:1234":      false,
		"10.0.0.1:1234":  false,
		"example.com:80": false,
		"garbage":        false,
	} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

type consoleFake struct {
	*fakeTarget
	ch chan []byte
}

func (c consoleFake) ConsoleOutput() <-chan []byte { return c.ch }

func TestConsoleOutput(t *testing.T) {
	f := newFake()
	cf := consoleFake{f, make(chan []byte, 4)}
	_, addr, _ := startServer(t, cf)
	cl := dial(t, addr)
	cl.send("c")
	<-f.running
	cf.ch <- []byte("hello from the guest\n")
	if got := cl.recv(); got != "O"+hexs("hello from the guest\n") {
		t.Errorf("console output: %q", got)
	}
	cl.raw("\x03")
	if got := cl.recv(); !strings.HasPrefix(got, "T02") {
		t.Errorf("stop: %q", got)
	}
}

func TestClose(t *testing.T) {
	f := newFake()
	srv, addr, done := startServer(t, f)
	cl := dial(t, addr)
	cl.cmd("qC")
	srv.Close()
	if err := <-done; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve after Close: %v", err)
	}
	cl.expectClosed()
}
