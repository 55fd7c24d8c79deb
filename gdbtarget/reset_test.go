package gdbtarget

import (
	"encoding/hex"
	"strings"
	"testing"

	"vmapstack/internal/testtool"
	"vmapstack/target"
)

// TestGuestResetEndsSession: a guest reset (port 0x92 here; Linux's reboot
// goes through the keyboard controller or port 0xcf9, the same stop) tells
// the debugger the program exited with status 0, as QEMU -no-reboot ends
// the run, and says so in its console.
func TestGuestResetEndsSession(t *testing.T) {
	m, err := target.New(target.Config{Kernel: testtool.PVHKernel([]byte{0xb0, 0x01, 0xe6, 0x92, 0xf4})}) // mov al,1; out 0x92,al; hlt
	if err != nil {
		t.Fatal(err)
	}
	r := startRig(t, m, "unix")
	c := r.dial(t)
	c.handshake()
	c.send("vCont;c")
	var msgs []string
	for {
		p, err := c.readFrame()
		if err != nil {
			t.Fatal(err)
		}
		if len(p) > 1 && p[0] == 'O' && p != "OK" && isHex(p[1:]) {
			b, err := hex.DecodeString(p[1:])
			if err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, string(b))
			continue
		}
		if p != "W00" {
			t.Fatalf("stop reply %q, want W00", p)
		}
		break
	}
	if !strings.Contains(strings.Join(msgs, ""), "the guest reset the machine (port 0x92)") {
		t.Errorf("console messages %q do not say the guest reset the machine", msgs)
	}
}
