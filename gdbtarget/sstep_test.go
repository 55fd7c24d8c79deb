package gdbtarget

import (
	"testing"

	"vmapstack/gdbproto"
	"vmapstack/kernelimg"
	"vmapstack/target"
)

// TestSingleStepFlags: QEMU's default mode (ENABLE|NOIRQ|NOTIMER) from the
// start, as front ends written for QEMU expect; over the wire, qqemu.sstep
// reads it and Qqemu.sstep changes it.
func TestSingleStepFlags(t *testing.T) {
	m, err := target.New(target.Config{Kernel: kernelimg.ELF, Append: "scenario=tasks"})
	if err != nil {
		t.Fatal(err)
	}
	tg := New(m, Config{})
	if got := tg.SingleStepFlags(); got != gdbproto.StepEnable|gdbproto.StepNoIRQ|gdbproto.StepNoTimer {
		t.Errorf("default flags %#x, want QEMU's 0x7", got)
	}
	c := startRig(t, m, "unix").dial(t)
	c.handshake()
	for _, x := range []struct{ send, want string }{
		{"qqemu.sstepbits", "ENABLE=1,NOIRQ=2,NOTIMER=4"},
		{"qqemu.sstep", "0x7"},
		{"Qqemu.sstep=1", "OK"},
		{"qqemu.sstep", "0x1"},
		{"qOffsets", ""},
	} {
		if got := c.ask(x.send); got != x.want {
			t.Errorf("%s: %q, want %q", x.send, got, x.want)
		}
	}
}
