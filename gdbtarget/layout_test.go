package gdbtarget

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"vmapstack/internal/testtool"
	"vmapstack/kernelimg/qemutest"
	"vmapstack/target/cpu"
)

func TestLayoutSize(t *testing.T) {
	if len(regs) != 66 {
		t.Errorf("%d registers, QEMU's x86-64 core feature has 66", len(regs))
	}
	if gPacketSize != 608 {
		t.Errorf("g packet is %d bytes, QEMU's is 608", gPacketSize)
	}
}

// TestRegisterRoundTrip writes a distinct value into every register through
// the G encoding and reads it back through State, so a register wired to the
// wrong field shows up.
func TestRegisterRoundTrip(t *testing.T) {
	in := make([]byte, gPacketSize)
	for i := range in {
		in[i] = byte(i*7 + 1)
	}
	// Segment registers are 32 bits in the packet but selectors are 16:
	// the upper half reads back as zero, as from QEMU.
	for n := 18; n < 24; n++ {
		in[regOffsets[n]+2], in[regOffsets[n]+3] = 0, 0
	}
	var s cpu.State
	if err := decodeRegisters(&s, in); err != nil {
		t.Fatal(err)
	}
	out := encodeRegisters(&s)
	for n, r := range regs {
		o, size := regOffsets[n], r.bits/8
		if string(out[o:o+size]) != string(in[o:o+size]) {
			t.Errorf("register %d (%s): wrote % x, read % x", n, r.name, in[o:o+size], out[o:o+size])
		}
	}
	if s.RIP != le64(in[regOffsets[regRIP]:]) || s.GPR[cpu.RSP] != le64(in[regOffsets[regRSP]:]) {
		t.Errorf("rip/rsp not in the CPU's RIP and GPR[RSP]")
	}
	if s.CR3 != le64(in[regOffsets[29]:]) || s.Seg[cpu.FS].Base != le64(in[regOffsets[24]:]) {
		t.Errorf("cr3/fs_base not where the CPU keeps them")
	}
	if err := decodeRegisters(&s, in[:100]); err == nil {
		t.Errorf("a short register block was accepted")
	}
}

func le64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

type xmlReg struct {
	Name    string `xml:"name,attr"`
	Bitsize string `xml:"bitsize,attr"`
	Type    string `xml:"type,attr"`
	Group   string `xml:"group,attr"`
}

type xmlFeature struct {
	Name string   `xml:"name,attr"`
	Regs []xmlReg `xml:"reg"`
}

// TestLayoutMatchesQEMU asks a real QEMU 7.2 gdbstub for its x86-64 core
// feature and compares every register's name, size, type and group with
// ours, in order.
func TestLayoutMatchesQEMU(t *testing.T) {
	qemu := testtool.Require(t, "qemu-system-x86_64")
	sock := testtool.SocketPath(t)
	cmd := exec.Command(qemu, "-display", "none", "-S", "-monitor", "none", "-serial", "none",
		"-no-reboot", "-gdb", qemutest.GDBArg(sock))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var c net.Conn
	var err error
	// QEMU listens once it has started: a minute bounds a hang only.
	for giveUp := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if c, err = net.Dial("unix", sock); err == nil {
			break
		}
		if time.Now().After(giveUp) {
			t.Fatalf("connect to QEMU's gdbstub: %v", err)
		}
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(c)
	var doc strings.Builder
	for off := 0; ; {
		reply, err := rawExchange(c, r, fmt.Sprintf("qXfer:features:read:i386-64bit.xml:%x,800", off))
		if err != nil || reply == "" {
			t.Fatalf("qXfer from QEMU: %q %v", reply, err)
		}
		doc.WriteString(reply[1:])
		off += len(reply) - 1
		if reply[0] == 'l' {
			break
		}
	}
	theirs := parseFeature(t, doc.String())
	ours := parseFeature(t, coreXML())
	if theirs.Name != ours.Name {
		t.Errorf("feature %q, QEMU's is %q", ours.Name, theirs.Name)
	}
	if len(theirs.Regs) != len(ours.Regs) {
		t.Fatalf("%d registers, QEMU has %d", len(ours.Regs), len(theirs.Regs))
	}
	for i := range theirs.Regs {
		if theirs.Regs[i] != ours.Regs[i] {
			t.Errorf("register %d: ours %+v, QEMU's %+v", i, ours.Regs[i], theirs.Regs[i])
		}
	}
}

func parseFeature(t *testing.T, doc string) xmlFeature {
	t.Helper()
	var f xmlFeature
	d := xml.NewDecoder(strings.NewReader(doc))
	d.Strict = false // QEMU's file carries a DOCTYPE and comments
	if err := d.Decode(&f); err != nil {
		t.Fatalf("parse target description: %v\n%s", err, doc)
	}
	return f
}

// rawExchange sends one packet and returns the payload of the reply, with
// acknowledgements; it is the smallest client that can read QEMU's stub.
func rawExchange(c net.Conn, r *bufio.Reader, payload string) (string, error) {
	sum := 0
	for i := 0; i < len(payload); i++ {
		sum += int(payload[i])
	}
	if _, err := fmt.Fprintf(c, "$%s#%02x", payload, sum&0xff); err != nil {
		return "", err
	}
	for {
		b, err := r.ReadByte()
		if err != nil {
			return "", err
		}
		if b != '$' {
			continue
		}
		body, err := r.ReadString('#')
		if err != nil {
			return "", err
		}
		if _, err := r.Discard(2); err != nil {
			return "", err
		}
		if _, err := c.Write([]byte("+")); err != nil {
			return "", err
		}
		return strings.TrimSuffix(body, "#"), nil
	}
}
