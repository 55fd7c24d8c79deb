package gdbproto

import (
	"strings"
	"testing"
	"time"
)

// The handshake limits below are long enough that a well-behaved client's
// first packet arrives in time on a loaded host (the limit is a timeout the
// server enforces, so a short one would race the client's scheduling); a
// test waits the limit once for the idle client.

// TestIdleHandshake: a client that connects and never completes a packet
// (here: half a packet and an ack) is closed, the slot frees and the next
// debugger attaches; a --wait=false target is not halted meanwhile.
func TestIdleHandshake(t *testing.T) {
	f := newFake()
	_, addr, done := startServer(t, f, WithStartRunning(), WithIdleHandshake(time.Second))
	<-f.running
	idle := dial(t, addr)
	idle.raw("+$qSupported:swbr") // never finished
	idle.expectClosed()
	if n := f.resumeCount(); n != 1 {
		t.Errorf("the target was resumed %d times before a debugger spoke, want 1 (never stopped)", n)
	}
	cl := dial(t, addr)
	if got := cl.cmd("?"); !strings.HasPrefix(got, "T02") {
		t.Errorf("? from the next debugger: %q", got)
	}
	select {
	case err := <-done:
		t.Fatalf("Serve returned %v", err)
	default:
	}
}

// TestIdleAttachedDebuggerStays: the handshake limit counts only until the
// first complete packet; an attached debugger that is idle far longer
// stays attached.
func TestIdleAttachedDebuggerStays(t *testing.T) {
	f := newFake()
	_, addr, _ := startServer(t, f, WithIdleHandshake(time.Second))
	cl := dial(t, addr)
	if got := cl.cmd("m1000,2"); got != "0001" {
		t.Fatalf("m1000,2: %q", got)
	}
	time.Sleep(2 * time.Second) // two handshake limits of idleness
	if got := cl.cmd("m1000,2"); got != "0001" {
		t.Errorf("m1000,2 after idling: %q", got)
	}
}

// TestIdleHandshakeNewcomer: a newcomer that never speaks while a
// debugger is attached is closed too, the attached session unaffected.
func TestIdleHandshakeNewcomer(t *testing.T) {
	f := newFake()
	_, addr, _ := startServer(t, f, WithIdleHandshake(time.Second))
	cl := dial(t, addr)
	if got := cl.cmd("m1000,2"); got != "0001" {
		t.Fatalf("m1000,2: %q", got)
	}
	idle := dial(t, addr)
	idle.expectClosed()
	if got := cl.cmd("m1000,2"); got != "0001" {
		t.Errorf("m1000,2 after the newcomer: %q", got)
	}
}
