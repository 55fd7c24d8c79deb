package gdbtarget

import (
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"vmapstack/internal/testtool"
)

// TestConnectionFaults abuses the connection to a real machine running
// scenario=tasks (real sockets, raw clients and a real gdb killed with
// SIGKILL): many connect/disconnect cycles, a client that vanishes in the
// middle of a packet and in the middle of a continue, garbage before '$',
// bad checksums, a second client while one is attached. Through all of it
// the machine must stay halted whenever no debugger runs it, and in the
// end, continued to its exit, its console bytes, instruction count and
// exit code must equal those of an undisturbed run.
func TestConnectionFaults(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) { connectionFaults(t, network) })
	}
}

func connectionFaults(t *testing.T, network string) {
	wantConsole, wantInstret, wantCode := undisturbed(t, "scenario=tasks")
	m := newMachine(t, "scenario=tasks")
	r := startRig(t, m, network)
	schedSym := kernelSymbol(t, "switch_to")

	// halted checks, through a fresh client, that the machine is halted
	// (a stop reply for '?', not an exit) and does not run meanwhile.
	halted := func(step string) string {
		t.Helper()
		c := r.dial(t)
		c.handshake()
		reply := c.ask("?")
		if !strings.HasPrefix(reply, "T") {
			t.Fatalf("%s: '?' answered %q, want a T stop reply", step, reply)
		}
		// This session answering means the previous one ended and
		// its run stopped: from here on nothing may run the machine.
		n := c.instret()
		time.Sleep(20 * time.Millisecond)
		if g := c.ask("g"); len(g) != 2*gPacketSize {
			t.Fatalf("%s: g answered %d hex digits", step, len(g))
		}
		if now := c.instret(); now != n {
			t.Fatalf("%s: the machine ran with no debugger (instret %d -> %d)", step, n, now)
		}
		c.c.Close()
		return reply
	}

	// 100 connect/disconnect cycles: bare connects, connects that hang
	// up after one packet, and clean sessions.
	for i := 0; i < 100; i++ {
		c := r.dial(t)
		switch i % 3 {
		case 1:
			c.send("qSupported:multiprocess+")
		case 2:
			c.handshake()
			if reply := c.ask("?"); !strings.HasPrefix(reply, "T05") {
				t.Fatalf("cycle %d: '?' answered %q", i, reply)
			}
		}
		c.c.Close()
	}
	halted("after 100 cycles")

	// A client killed in the middle of a packet.
	c := r.dial(t)
	c.handshake()
	io.WriteString(c.c, "$m100000,4")
	c.c.Close()
	halted("after a client vanished inside a packet")

	// Garbage before '$', bad checksums (ack mode: '-' asks for a resend,
	// and the resent packet is answered).
	c = r.dial(t)
	io.WriteString(c.c, "garbage \x00\xff\r\n}*#xx")
	c.send("qSupported:multiprocess+")
	if reply := c.read(); !strings.Contains(reply, "PacketSize") {
		t.Fatalf("qSupported after garbage: %q", reply)
	}
	io.WriteString(c.c, "$?#00")
	if b, err := c.br.ReadByte(); err != nil || b != '-' {
		t.Fatalf("bad checksum: got %q, %v; want '-'", b, err)
	}
	io.WriteString(c.c, "$?#zz")
	if b, err := c.br.ReadByte(); err != nil || b != '-' {
		t.Fatalf("non-hex checksum: got %q, %v; want '-'", b, err)
	}
	if reply := c.ask("?"); !strings.HasPrefix(reply, "T05") {
		t.Fatalf("'?' after bad checksums: %q", reply)
	}
	// '-' for a reply: the same reply again.
	c.send("qC")
	first := c.read()
	io.WriteString(c.c, "-")
	if again := c.read(); again != first {
		t.Fatalf("resend after '-': %q, first %q", again, first)
	}

	// A second client while this one is attached: refused with a
	// message, and the first one unaffected.
	second := r.dial(t)
	second.send("qSupported:multiprocess+")
	refusal, err := second.readFrame()
	if err != nil || !strings.HasPrefix(refusal, "E.") || !strings.Contains(refusal, "another debugger") {
		t.Fatalf("second client: %q, %v; want E.another debugger...", refusal, err)
	}
	if _, err := second.br.ReadByte(); err == nil {
		t.Fatalf("the second client's connection stayed open")
	}
	if reply := c.ask("?"); !strings.HasPrefix(reply, "T05") {
		t.Fatalf("first client after the refusal: '?' answered %q", reply)
	}
	c.c.Close()

	// A client killed in the middle of a continue: the run stops and the
	// machine stays halted. The breakpoint at switch_to keeps a run that
	// outpaces the hang-up (the native tier runs the whole scenario in
	// milliseconds) at the first task switch, so the gdb below still
	// finds switch_to ahead; one at debug_exit would leave it nothing
	// but the exit.
	c = r.dial(t)
	c.handshake()
	if reply := c.ask(fmt.Sprintf("Z0,%x,1", schedSym)); reply != "OK" {
		t.Fatalf("Z0 switch_to: %q", reply)
	}
	c.send("vCont;c")
	c.c.Close()
	reply := halted("after a client vanished during a continue")
	t.Logf("stop after the vanished continue: %q", reply)

	// A real gdb, killed with SIGKILL while attached (stopped at a
	// breakpoint it set; the raw client above covered the running case).
	if path := testtool.Require(t, "gdb"); path != "" {
		addr := r.addr // gdb takes a unix socket as a bare path
		cmd := exec.Command(path, "-batch", "-nx",
			"-ex", "set confirm off",
			"-ex", "target remote "+addr,
			"-ex", fmt.Sprintf("break *0x%x", schedSym),
			"-ex", "continue",
			"-ex", "python import time; time.sleep(60)")
		var out testtool.SyncBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait (a safety net, not a timing) for gdb to have run the
		// machine to the breakpoint, then kill it.
		deadline := time.Now().Add(60 * time.Second)
		for !strings.Contains(out.String(), "Breakpoint 1, ") {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("gdb did not reach the breakpoint:\n%s", out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		cmd.Process.Kill()
		cmd.Wait()
		halted("after gdb was killed")
	}

	// Finally, run to the end undisturbed: make sure no breakpoint is
	// left (the server drops a vanished client's, this only checks it
	// does no harm) and continue.
	c = r.dial(t)
	c.handshake()
	c.ask(fmt.Sprintf("z0,%x,1", schedSym))
	c.ask(fmt.Sprintf("z1,%x,1", schedSym))
	var last string
	for i := 0; i < 100; i++ {
		last = c.ask("vCont;c")
		if !strings.HasPrefix(last, "T") {
			break
		}
	}
	if last != fmt.Sprintf("W%02x", wantCode) {
		t.Fatalf("final continue: %q, want W%02x", last, wantCode)
	}
	if err := r.waitServe(t); err == nil || !strings.Contains(err.Error(), "exited with code") {
		t.Fatalf("Serve returned %v, want the exit", err)
	}
	if got := m.Console(); !bytes.Equal(got, wantConsole) {
		t.Errorf("console differs from an undisturbed run:\n--- got\n%s\n--- want\n%s", got, wantConsole)
	}
	if got := m.Instret(); got != wantInstret {
		t.Errorf("instructions retired: %d, undisturbed run %d", got, wantInstret)
	}
}
