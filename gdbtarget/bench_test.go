package gdbtarget

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// stepiPackets is what gdb 13 sends for the first "stepi" of a Python
// loop (captured with "set debug remote 1" against the stub, switch_to in
// scenario=bench): the step, then reads of the instruction at the new PC,
// of the code around it and of the stack, and the thread list (one
// qXfer:threads:read since we offer it; qfThreadInfo and qsThreadInfo
// before). Once gdb's caches hold that code and stack, a step sends about
// four packets (docs/speed.md); this is the longer exchange.
//
//	vCont;s:1;c
//	m PC,1  m PC,1  m PC&~3f,40  m (PC&~3f)+40,40  m SP&~3f,40
//	qXfer:threads:read::0,1000  m PC,1  m PC,1
func stepiOnce(tb testing.TB, c *rsp) (pc uint64) {
	stop := c.ask("vCont;s:1;c")
	regs, err := stopRegs(stop)
	if err != nil {
		tb.Fatalf("vCont;s: %v", err)
	}
	pc, sp := regs[regRIP], regs[regRSP]
	pcm := fmt.Sprintf("m%x,1", pc)
	expectHex(tb, c, pcm)
	expectHex(tb, c, pcm)
	expectHex(tb, c, fmt.Sprintf("m%x,40", pc&^0x3f))
	expectHex(tb, c, fmt.Sprintf("m%x,40", pc&^0x3f+0x40))
	expectHex(tb, c, fmt.Sprintf("m%x,40", sp&^0x3f))
	if r := c.ask("qXfer:threads:read::0,1000"); !strings.Contains(r, `<thread id="01"`) {
		tb.Fatalf("qXfer:threads:read: %q", r)
	}
	expectHex(tb, c, pcm)
	expectHex(tb, c, pcm)
	return pc
}

func expectHex(tb testing.TB, c *rsp, pkt string) {
	if r := c.ask(pkt); r == "" || r[0] == 'E' {
		tb.Fatalf("%s: %q", pkt, r)
	}
}

// stepiSession boots scenario=bench, serves it on network, attaches,
// and continues to switch_to, as scripts/bench/stepi-rate.sh does.
func stepiSession(b *testing.B, network string) *rsp {
	m := newMachine(b, "scenario=bench")
	r := startRig(b, m, network)
	c := r.dial(b)
	c.handshake()
	sym := kernelSymbol(b, "switch_to")
	if got := c.ask(fmt.Sprintf("Z0,%x,1", sym)); got != "OK" {
		b.Fatalf("Z0: %q", got)
	}
	if got := c.ask("vCont;c"); !strings.HasPrefix(got, "T05") {
		b.Fatalf("continue to switch_to: %q", got)
	}
	if got := c.ask(fmt.Sprintf("z0,%x,1", sym)); got != "OK" {
		b.Fatalf("z0: %q", got)
	}
	return c
}

// BenchmarkStepi is gdb's stepi loop (nine packets a step) against the
// real machine through a real socket; it reports steps/s on the stub's
// side. The server runs without busy polling here: this client shares the
// process, and its wakeups would wait for the poll (see WithBusyPoll).
// scripts/bench/stepi-rate.sh measures the stub binary with real gdb
// against QEMU's stub.
func BenchmarkStepi(b *testing.B) {
	for _, network := range []string{"unix", "tcp"} {
		b.Run(network, func(b *testing.B) {
			c := stepiSession(b, network)
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				stepiOnce(b, c)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "steps/s")
		})
	}
}

// BenchmarkStepOnly is the vCont;s round trip alone.
func BenchmarkStepOnly(b *testing.B) {
	c := stepiSession(b, "unix")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := c.ask("vCont;s:1;c"); r[0] != 'T' {
			b.Fatalf("step: %q", r)
		}
	}
}

// BenchmarkMemRead is one m round trip (the bulk of a stepi's packets).
func BenchmarkMemRead(b *testing.B) {
	c := stepiSession(b, "unix")
	pkt := fmt.Sprintf("m%x,40", kernelSymbol(b, "switch_to"))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.ask(pkt)
	}
}
