package gdbtarget

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"vmapstack/internal/testtool"
)

// interruptOnce continues the machine, lets it run for runFor, sends 0x03
// and returns the stop reply and the time from the interrupt byte leaving
// to the stop reply arriving.
func interruptOnce(tb testing.TB, c *rsp, runFor time.Duration) (string, time.Duration) {
	reply, lat, err := tryInterrupt(c, runFor)
	if err != nil {
		tb.Fatal(err)
	}
	return reply, lat
}

func tryInterrupt(c *rsp, runFor time.Duration) (string, time.Duration, error) {
	c.send("vCont;c")
	time.Sleep(runFor)
	start := time.Now()
	if _, err := c.c.Write([]byte{0x03}); err != nil {
		// The workload may have ended while it ran: the stub sent its
		// W reply and closed the session (a unix socket refuses the
		// write at once, TCP only later). That reply is the answer.
		if reply, rerr := c.tryRead(); rerr == nil && strings.HasPrefix(reply, "W") {
			return reply, time.Since(start), nil
		}
		return "", 0, fmt.Errorf("interrupt: %w", err)
	}
	reply, err := c.tryRead()
	return reply, time.Since(start), err
}

// TestInterruptRunning interrupts scenario=endless (bench's workload without end)
// while it runs at full speed: the stop reply must be T02 (SIGINT, as
// gdbserver and QEMU answer) and the machine must then be halted and
// usable. How long the stop takes is a figure, not a behaviour: it depends
// on the host and its load, so BenchmarkInterruptLatency measures it and
// no test asserts it.
func TestInterruptRunning(t *testing.T) {
	for _, network := range []string{"unix", "tcp"} {
		t.Run(network, func(t *testing.T) {
			m := newMachine(t, "scenario=endless")
			r := startRig(t, m, network)
			c := r.dial(t)
			c.handshake()
			start := c.instret()
			for i := 0; i < 5; i++ {
				before := c.instret()
				reply, _ := interruptOnce(t, c, 30*time.Millisecond)
				if !strings.HasPrefix(reply, "T02") {
					t.Fatalf("interrupt %d: stop reply %q, want T02...", i, reply)
				}
				if _, err := stopRegs(reply); err != nil {
					t.Fatal(err)
				}
				n := c.instret()
				if n < before {
					t.Fatalf("interrupt %d: the instruction count went back (%d -> %d)", i, before, n)
				}
				// Halted: a register read answers, and the
				// instruction count stays put.
				if g := c.ask("g"); len(g) != 2*gPacketSize {
					t.Fatalf("g after the interrupt: %d hex digits", len(g))
				}
				if now := c.instret(); now != n {
					t.Fatalf("the machine ran after the stop reply: %d -> %d", n, now)
				}
			}
			// A loaded host may not schedule the machine within one
			// 30 ms window, but over five of them it must have run:
			// each continue resumed it.
			if end := c.instret(); end <= start {
				t.Fatalf("the machine never ran between the interrupts (instret %d -> %d)", start, end)
			}
		})
	}
}

// BenchmarkInterruptLatency is the time from 0x03 to the stop reply while
// scenario=endless runs at full speed (QEMU 7.2's stub: about 0.4 ms on the
// development machine), 20 ms into a continue; "early" interrupts 2 ms in,
// before the session's watcher may have started.
func BenchmarkInterruptLatency(b *testing.B) {
	for _, bc := range []struct {
		name, network string
		runFor        time.Duration
	}{{"unix", "unix", 20 * time.Millisecond}, {"tcp", "tcp", 20 * time.Millisecond}, {"early", "unix", 2 * time.Millisecond}} {
		network := bc.network
		b.Run(bc.name, func(b *testing.B) {
			var lats []time.Duration
			var c *rsp
			for i := 0; i < b.N; i++ {
				if c == nil {
					b.StopTimer()
					m := newMachine(b, "scenario=endless")
					c = startRig(b, m, network).dial(b)
					c.handshake()
					b.StartTimer()
				}
				reply, lat := interruptOnce(b, c, bc.runFor)
				switch {
				case strings.HasPrefix(reply, "W"):
					c = nil // the workload ended: boot again
					i--
					continue
				case !strings.HasPrefix(reply, "T02"):
					b.Fatalf("stop reply %q", reply)
				}
				lats = append(lats, lat)
			}
			reportLatencies(b, lats)
		})
	}
}

// BenchmarkInterruptLatencyQEMU is the same measurement against QEMU 7.2's
// gdbstub running the same kernel (the anchor of docs/design.md §8), in ack
// mode (QEMU 7.2 has no QStartNoAckMode).
func BenchmarkInterruptLatencyQEMU(b *testing.B) {
	qemu := testtool.Require(b, "qemu-system-x86_64")
	kernel := filepath.Join("..", "kernelimg", "kernel.elf")
	var lats []time.Duration
	var c *rsp
	var cmd *exec.Cmd
	stop := func() {
		if cmd != nil {
			cmd.Process.Kill()
			cmd.Wait()
			cmd = nil
		}
	}
	defer stop()
	for i := 0; i < b.N; i++ {
		if c == nil {
			b.StopTimer()
			stop()
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			addr := l.Addr().String()
			l.Close()
			cmd = exec.Command(qemu, "-display", "none", "-no-reboot", "-serial", "none", "-monitor", "none",
				"-device", "isa-debug-exit", "-kernel", kernel, "-append", "scenario=endless", "-S", "-gdb", "tcp:"+addr)
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			var conn net.Conn
			for try := 0; try < 100; try++ { // a safety net while QEMU starts
				if conn, err = net.Dial("tcp", addr); err == nil {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if conn == nil {
				b.Fatalf("QEMU's gdbstub at %s: %v", addr, err)
			}
			c = &rsp{tb: b, c: conn, br: bufio.NewReader(conn)}
			// QEMU 7.2 has no QStartNoAckMode: stay in ack mode.
			if r := c.ask("qSupported:multiprocess+;swbreak+;vContSupported+"); !strings.Contains(r, "PacketSize") {
				b.Fatalf("qSupported: %q", r)
			}
			b.StartTimer()
		}
		// QEMU's JIT runs the whole workload in tens of
		// milliseconds: interrupt it sooner.
		reply, lat, err := tryInterrupt(c, 2*time.Millisecond)
		switch {
		case err != nil, strings.HasPrefix(reply, "W"), strings.HasPrefix(reply, "X"):
			// The workload ended (QEMU exits on isa-debug-exit).
			c.c.Close()
			c = nil
			i--
			continue
		case !strings.HasPrefix(reply, "T02"):
			b.Fatalf("stop reply %q", reply)
		}
		lats = append(lats, lat)
	}
	reportLatencies(b, lats)
}

// reportLatencies reports the mean, median and worst latency in ms.
func reportLatencies(b *testing.B, lats []time.Duration) {
	if len(lats) == 0 {
		return
	}
	var total time.Duration
	for _, l := range lats {
		total += l
	}
	slices.Sort(lats)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(total)/float64(len(lats)), "ms/interrupt")
	b.ReportMetric(ms(lats[len(lats)/2]), "median-ms")
	b.ReportMetric(ms(lats[len(lats)-1]), "worst-ms")
}
