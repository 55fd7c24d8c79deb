package gdbproto

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

const fakeStop = "T05thread:01;02:0010000000000000;00:0000000000000000;"

// TestPackets walks one session through the packets a debugger sends,
// checking each reply and the target's state.
func TestPackets(t *testing.T) {
	f := newFake()
	_, addr, _ := startServer(t, f)
	cl := dial(t, addr)
	steps := []struct{ send, want string }{
		{"qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vfork-events+;exec-events+;vContSupported+;QThreadEvents+;no-resumed+;memory-tagging+;xmlRegisters=i386",
			"PacketSize=4000;QStartNoAckMode+;swbreak+;vContSupported+;qXfer:threads:read+;hwbreak+;qXfer:features:read+;qXfer:exec-file:read+"},
		{"vMustReplyEmpty", ""},
		{"Hg0", "OK"},
		{"Hgp1.1", "OK"},
		{"Hc-1", "OK"},
		{"Hg2", "E16"},
		{"Hgp2.1", "E16"},
		{"qTStatus", ""},
		{"?", fakeStop},
		{"qfThreadInfo", "m01"},
		{"qsThreadInfo", "l"},
		{"qC", "QC01"},
		{"qAttached", "1"},
		{"qAttached:1", "1"},
		{"qOffsets", ""}, // QEMU's system-mode answer
		{"qMemoryRegionInfo:1010", "start:1000;size:1000;permissions:rw;"},
		{"qMemoryRegionInfo:10", "start:0;size:1000;"},
		{"qMemoryRegionInfo:ffffff", "E14"},
		{"qMemoryRegionInfo:zz", "E16"},
		{"qqemu.sstepbits", "ENABLE=1,NOIRQ=2,NOTIMER=4"},
		{"qqemu.sstep", "0x0"},
		{"Qqemu.sstep=5", "OK"},
		{"qqemu.sstep", "0x5"},
		{"Qqemu.sstep=0x7", "OK"},
		{"qqemu.sstep", "0x7"},
		{"Qqemu.sstep=8", "E16"},
		{"Qqemu.sstep=zz", "E16"},
		{"qSymbol::", "OK"},
		{"T1", "OK"},
		{"Tp1.1", "OK"},
		{"T2", "E01"},
		{"qThreadExtraInfo,1", hexs("cpu 0 [halted]")},
		{"qThreadExtraInfo,p1.1", hexs("cpu 0 [halted]")},
		{"qThreadExtraInfo,7", "E16"},
		{"qXfer:threads:read::0,1000", "l" + fakeThreadsXML},
		{"qXfer:threads:read::0,10", "m" + fakeThreadsXML[:0x10]},
		{"qXfer:threads:read::10,1000", "l" + fakeThreadsXML[0x10:]},
		{"qXfer:threads:read::1000,10", "l"},
		{"qXfer:threads:read:x:0,10", "E00"},
		{"g", strings.Repeat("0", 32) + "0010000000000000" + "00000000"},
		{"p2", "0010000000000000"},
		{"p3", "00000000"},
		{"p4", "E45"},
		{"pzz", "E16"},
		{"P1=1122334455667788", "OK"},
		{"p1", "1122334455667788"},
		{"P1=11", "E01"},
		{"P9=1122334455667788", "E45"},
		{"P1", "E16"},
		{"G" + strings.Repeat("ab", 28), "OK"},
		{"g", strings.Repeat("ab", 28)},
		{"G0", "E16"},
		{"m1000,4", "00010203"},
		{"m10fe,2", "feff"},
		{"m1ffe,4", "feff"}, // partial read: what is readable
		{"m0,4", "E14"},
		{"m2000,1", "E14"},
		{"m1000", "E16"},
		{"mxyz,1", "E16"},
		{"m1000,0", ""},
		{"m11111111111111111,1", "E16"},
		{"M1000,2:a1b2", "OK"},
		{"m1000,2", "a1b2"},
		{"M1000,2:a1", "E16"},
		{"M0,1:00", "E14"},
		{"X1000,0:", "OK"},
		{"X1004,4:}\x03}\x04}]}\x0a", "OK"},
		{"m1004,4", "23247d2a"},
		{"X1000,2:abc", "E16"},
		{"X1000,1:}", "E16"},
		{"Z0,1010,1", "OK"},
		{"z0,1010,1", "OK"},
		{"z0,1010,1", "E01"},
		{"Z0,1010", "E16"},
		{"Z1,1020,1", "OK"},
		{"z1,1020,1", "OK"},
		{"Z2,1030,4", "OK"},
		{"Z3,1030,4", "OK"},
		{"Z4,1030,4", "OK"},
		{"Z2,1030,10", ""}, // the target says ErrUnsupported
		{"z2,1030,4", "OK"},
		{"Z5,1030,4", ""},
		{"Z0,1010,1;X2,ab", "OK"},
		{"vCont?", "vCont;c;C;s;S"},
		{"vCont;t:2", "E16"},
		{"vCont;q", "E16"},
		{"vCont", "E16"},
		{"Qqemu.PhyMemMode:1", "OK"},
		{"qqemu.PhyMemMode", "1"},
		{"Qqemu.PhyMemMode:0", "OK"},
		{"qqemu.PhyMemMode", "0"},
		{"Qqemu.PhyMemMode:2", "E16"},
		{"qXfer:features:read:target.xml:0,1000", "l" + string(f.xml["target.xml"])},
		{"qXfer:features:read:target.xml:5,5", "m" + string(f.xml["target.xml"][5:10])},
		{"qXfer:features:read:target.xml:1000,10", "l"},
		{"qXfer:features:read:nope.xml:0,10", "E00"},
		{"qXfer:features:read:extra.xml:0,1000", "l" + escapeString(string(f.xml["extra.xml"]))},
		{"qXfer:features:read:target.xml:zz", "E16"},
		{"qXfer:features:write:target.xml:0:abc", ""},
		{"qXfer:exec-file:read::0,1000", "l/boot/kernel.elf"},
		{"qXfer:exec-file:read:1:0,5", "m/boot"},
		{"qXfer:auxv:read::0,100", ""},
		{"qCRC:1100,300", fmt.Sprintf("C%08x", gdbCRC(f.mem[0x100:0x400]))},
		{"qCRC:0,4", "E14"},
		{"qRcmd," + hexs("help"), "OK"}, // after O packets, see TestMonitor
		{"vCtrlC", "OK"},
		{"qGetTLSAddr:1,0,0", ""},
		{"jThreadsInfo", ""},
		{"!", ""},
		{"", ""},
	}
	for _, st := range steps {
		cl.send(st.send)
		got := cl.recv()
		for strings.HasPrefix(got, "O") && got != "OK" {
			got = cl.recv() // console output of qRcmd
		}
		if got != st.want {
			t.Errorf("%q: got %q, want %q", st.send, got, st.want)
		}
	}
	if !f.phys == false || f.phys {
		t.Errorf("phys mode left on")
	}
	if _, ok := f.bps[0x1010]; !ok {
		t.Errorf("breakpoint with a condition list not set")
	}
	if got := f.resumeCount(); got != 0 {
		t.Errorf("target resumed %d times by non-resuming packets", got)
	}
}

func escapeString(s string) string { return string(escapeBinary(nil, []byte(s))) }

// gdbCRC is an independent bit-by-bit CRC-32 (MSB first, poly 0x04c11db7,
// initial 0xffffffff, no final xor), as gdb's xcrc32.
func gdbCRC(b []byte) uint32 {
	crc := uint32(0xffffffff)
	for _, c := range b {
		for bit := 7; bit >= 0; bit-- {
			in := uint32(c>>bit) & 1
			top := crc >> 31
			crc <<= 1
			if top^in != 0 {
				crc ^= 0x04c11db7
			}
		}
	}
	return crc
}

// TestResume covers c/s/C/S/vCont and the stop replies.
func TestResume(t *testing.T) {
	f := newFake()
	_, addr, _ := startServer(t, f)
	cl := dial(t, addr)
	cl.cmd("qSupported:swbreak+;hwbreak+")

	if got := cl.cmd("s"); got != "T05thread:01;02:0110000000000000;00:0000000000000000;" {
		t.Errorf("s: %q", got)
	}
	if got := cl.cmd("vCont;s:p1.1;c"); !strings.HasPrefix(got, "T05thread:01;02:0210000000000000;") {
		t.Errorf("vCont;s:p1.1;c: %q", got)
	}
	if got := cl.cmd("s1100"); !strings.HasPrefix(got, "T05thread:01;02:0111000000000000;") {
		t.Errorf("s1100: %q", got)
	}
	if got := cl.cmd("S0b;1200"); !strings.HasPrefix(got, "T05thread:01;02:0112000000000000;") {
		t.Errorf("S0b;1200: %q", got)
	}
	last := f.resumes[len(f.resumes)-1]
	if !last.Step || last.Signal != 11 || last.Addr == nil || *last.Addr != 0x1200 {
		t.Errorf("S0b;1200 gave action %+v", last)
	}
	cl.cmd("Z0,1300,1")
	if got := cl.cmd("c"); got != "T05thread:01;swbreak:;02:0013000000000000;00:0000000000000000;" {
		t.Errorf("c to breakpoint: %q", got)
	}
	cl.cmd("z0,1300,1")
	cl.cmd("Z1,1400,1")
	if got := cl.cmd("vCont;c"); !strings.HasPrefix(got, "T05thread:01;hwbreak:;02:0014000000000000;") {
		t.Errorf("vCont;c to hw breakpoint: %q", got)
	}
	cl.cmd("z1,1400,1")
	cl.cmd("Z0,1500,1")
	if got := cl.cmd("C02"); !strings.HasPrefix(got, "T05thread:01;swbreak:;02:0015000000000000;") {
		t.Errorf("C02: %q", got)
	}
	if f.resumes[len(f.resumes)-1].Signal != 2 {
		t.Errorf("C02 did not pass signal 2")
	}
	// Nothing ahead: the target runs until interrupted.
	cl.send("vCont;C09:1")
	<-f.running
	cl.raw("\x03")
	if got := cl.recv(); !strings.HasPrefix(got, "T02thread:01;") || f.resumes[len(f.resumes)-1].Signal != 9 {
		t.Errorf("vCont;C09:1 then ^C: %q %+v", got, f.resumes[len(f.resumes)-1])
	}
	if got := cl.cmd("vCont;S05:-1"); !strings.HasPrefix(got, "T05") || !f.resumes[len(f.resumes)-1].Step {
		t.Errorf("vCont;S05:-1: %q", got)
	}
	// Malformed resumes are refused without running the target.
	n := f.resumeCount()
	for _, p := range []string{"Czz", "sxyz", "vCont;c:zz", "vCont;Cxx", "vCont;cc", "vCont;s:2"} {
		if got := cl.cmd(p); got != "E16" {
			t.Errorf("%q: %q, want E16", p, got)
		}
	}
	if f.resumeCount() != n {
		t.Errorf("a malformed resume ran the target")
	}

	// Watchpoint stops, and a message shown before the stop reply.
	for _, tc := range []struct {
		reason StopReason
		want   string
	}{
		{StopWatch, "T05thread:01;watch:1234;"},
		{StopRWatch, "T05thread:01;rwatch:1234;"},
		{StopAWatch, "T05thread:01;awatch:1234;"},
		{StopSignal, "T0bthread:01;"},
	} {
		r := tc.reason
		f.run = func(ctx context.Context, a Action) (StopEvent, error) {
			sig := 0
			if r == StopSignal {
				sig = SIGSEGV
			}
			return StopEvent{Reason: r, WatchAddr: 0x1234, Signal: sig, Message: "stopped: why\n"}, nil
		}
		cl.send("c")
		if got := cl.recv(); got != "O"+hexs("stopped: why\n") {
			t.Errorf("%v: message %q", r, got)
		}
		if got := cl.recv(); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%v: %q, want prefix %q", r, got, tc.want)
		}
	}
	f.run = func(ctx context.Context, a Action) (StopEvent, error) {
		return StopEvent{}, fmt.Errorf("cpu on fire")
	}
	cl.send("c")
	if got := cl.recv(); got != "O"+hexs("target error: cpu on fire\n") {
		t.Errorf("target error message: %q", got)
	}
	if got := cl.recv(); !strings.HasPrefix(got, "T06thread:01;") {
		t.Errorf("target error stop: %q", got)
	}
}

// TestStopReplyWithoutFeatures: no swbreak/hwbreak for a debugger that did
// not ask (lldb), and lldb's thread list in stop replies.
func TestStopReplyWithoutFeatures(t *testing.T) {
	f := newFake()
	_, addr, _ := startServer(t, f)
	cl := dial(t, addr)
	cl.cmd("qSupported:xmlRegisters=i386,arm,mips,arc;multiprocess+;fork-events+;vfork-events+")
	if got := cl.cmd("QListThreadsInStopReply"); got != "OK" {
		t.Fatalf("QListThreadsInStopReply: %q", got)
	}
	cl.cmd("Z0,1300,1")
	if got := cl.cmd("c"); got != "T05thread:01;02:0013000000000000;00:0000000000000000;threads:1;" {
		t.Errorf("c: %q", got)
	}
	if got := cl.cmd("qThreadStopInfo1"); got != "T05thread:01;02:0013000000000000;00:0000000000000000;threads:1;" {
		t.Errorf("qThreadStopInfo1: %q", got)
	}
	if got := cl.cmd("qThreadStopInfo5"); got != "E16" {
		t.Errorf("qThreadStopInfo5: %q", got)
	}
}

// TestLLDB covers the packets lldb 14 sends while attaching.
func TestLLDB(t *testing.T) {
	f := newFake()
	_, addr, _ := startServer(t, f)
	cl := dial(t, addr)
	if got := cl.cmd("QStartNoAckMode"); got != "OK" {
		t.Fatalf("QStartNoAckMode: %q", got)
	}
	cl.noAck = true
	triple := hex.EncodeToString([]byte("x86_64-pc-none-elf"))
	steps := []struct{ send, want string }{
		{"qSupported:xmlRegisters=i386,arm,mips,arc;multiprocess+;fork-events+;vfork-events+", "PacketSize=4000;QStartNoAckMode+;swbreak+;vContSupported+;qXfer:threads:read+;hwbreak+;qXfer:features:read+;qXfer:exec-file:read+"},
		{"QThreadSuffixSupported", "OK"},
		{"QListThreadsInStopReply", "OK"},
		{"qHostInfo", "triple:" + triple + ";ptrsize:8;endian:little;ostype:none;vendor:pc;"},
		{"vCont?", "vCont;c;C;s;S"},
		{"qVAttachOrWaitSupported", ""},
		{"QEnableErrorStrings", ""},
		{"qProcessInfo", "pid:1;parent-pid:1;real-uid:0;real-gid:0;effective-uid:0;effective-gid:0;triple:" + triple + ";ptrsize:8;endian:little;ostype:none;vendor:pc;"},
		{"qC", "QC01"},
		{"qRegisterInfo0", "name:r0;bitsize:64;offset:0;encoding:uint;format:hex;set:General Purpose Registers;ehframe:0;"},
		{"qRegisterInfo2", "name:r2;bitsize:64;offset:16;encoding:uint;format:hex;set:General Purpose Registers;ehframe:2;generic:pc;"},
		{"qRegisterInfo3", "name:r3;bitsize:32;offset:24;encoding:uint;format:hex;set:General Purpose Registers;ehframe:3;"},
		{"qRegisterInfo4", "E45"},
		{"qRegisterInfoz", "E16"},
		{"qStructuredDataPlugins", ""},
		{"?", fakeStop + "threads:1;"},
		{"p2;thread:0001;", "0010000000000000"},
		{"P2=0020000000000000;thread:0001;", "OK"},
		{"g;thread:1;", strings.Repeat("0", 32) + "0020000000000000" + "00000000"},
		{"x0,0", ""},
		{"qMemoryRegionInfo:1000", "start:1000;size:1000;permissions:rw;"},
		{"qWatchpointSupportInfo:", "num:4;"},
		{"qShlibInfoAddr", ""},
		{"jThreadExtendedInfo:", ""},
	}
	for _, st := range steps {
		if got := cl.cmd(st.send); got != st.want {
			t.Errorf("%q: got %q, want %q", st.send, got, st.want)
		}
	}
}

// TestMinimalTarget: a target with no optional interface gets empty
// replies for the optional features and a sensible monitor help.
func TestMinimalTarget(t *testing.T) {
	f := newFake()
	_, addr, _ := startServer(t, minimalTarget{f: f})
	cl := dial(t, addr)
	steps := []struct{ send, want string }{
		{"qSupported:swbreak+;hwbreak+", "PacketSize=4000;QStartNoAckMode+;swbreak+;vContSupported+;qXfer:threads:read+"},
		{"?", "T05thread:01;"},
		{"Z1,1000,1", ""},
		{"Z2,1000,4", ""},
		{"qXfer:features:read:target.xml:0,100", ""},
		{"qXfer:exec-file:read::0,100", ""},
		{"vFile:open:" + hexs("/boot/kernel.elf") + ",0,0", "F-1,2"},
		{"qHostInfo", ""},
		{"qRegisterInfo0", ""},
		{"qqemu.PhyMemMode", ""},
		{"Qqemu.PhyMemMode:1", ""},
		{"qThreadExtraInfo,1", hexs("halted")},
		{"qXfer:threads:read::0,1000", "l<?xml version=\"1.0\"?>\n<threads>\n<thread id=\"01\" core=\"0\">halted</thread>\n</threads>\n"},
		{"qRcmd," + hexs("pt"), ""},
		{"qWatchpointSupportInfo", ""},
	}
	for _, st := range steps {
		if got := cl.cmd(st.send); got != st.want {
			t.Errorf("%q: got %q, want %q", st.send, got, st.want)
		}
	}
	cl.send("qRcmd," + hexs("help"))
	if got := cl.recv(); got != "O"+hexs("This target has no monitor commands.\n") {
		t.Errorf("help output: %q", got)
	}
	if got := cl.recv(); got != "OK" {
		t.Errorf("help: %q", got)
	}
	// Detach without a Detacher still works and lets the target run.
	if got := cl.cmd("D"); got != "OK" {
		t.Errorf("D: %q", got)
	}
	<-f.running
}

// TestMonitor covers qRcmd output, errors and long output.
func TestMonitor(t *testing.T) {
	f := newFake()
	_, addr, _ := startServer(t, f, WithPacketSize(256))
	cl := dial(t, addr)
	read := func(cmd string) (out, final string) {
		cl.send("qRcmd," + hexs(cmd))
		for {
			r := cl.recv()
			if r == "OK" || r == "" || strings.HasPrefix(r, "E") {
				return out, r
			}
			if r[0] != 'O' {
				t.Fatalf("%s: unexpected %q", cmd, r)
			}
			if len(r) > 256 {
				t.Errorf("O packet of %d bytes exceeds the packet size", len(r))
			}
			b, err := hex.DecodeString(r[1:])
			if err != nil {
				t.Fatalf("%s: bad O packet %q", cmd, r)
			}
			out += string(b)
		}
	}
	if out, fin := read("help"); fin != "OK" || out != "help  this text\nregs  show registers\n" {
		t.Errorf("help: %q %q", out, fin)
	}
	if out, fin := read("big"); fin != "OK" || out != strings.Repeat("z", 20000) {
		t.Errorf("big: %d bytes, %q", len(out), fin)
	}
	if out, fin := read("fail"); fin != "E01" || out != "partial output\nfail: it failed\n" {
		t.Errorf("fail: %q %q", out, fin)
	}
	if out, fin := read("unsup"); fin != "" || out != "" {
		t.Errorf("unsup: %q %q", out, fin)
	}
	cl.send("qRcmd,zz")
	if got := cl.recv(); got != "E16" {
		t.Errorf("qRcmd,zz: %q", got)
	}
}

// TestHostIO reads the exec file back through vFile as gdb does.
func TestHostIO(t *testing.T) {
	f := newFake()
	_, addr, _ := startServer(t, f, WithPacketSize(0x1000))
	cl := dial(t, addr)
	if got := cl.cmd("vFile:setfs:0"); got != "F0" {
		t.Fatalf("setfs: %q", got)
	}
	path := hexs(f.execPath)
	for _, tc := range []struct{ send, want string }{
		{"vFile:open:" + hexs("/etc/passwd") + ",0,0", "F-1,2"},
		{"vFile:open:" + path + ",1,1c0", "F-1,d"},
		{"vFile:open:" + path + ",2,0", "F-1,d"},
		{"vFile:open:zz,0,0", "F-1,16"},
		{"vFile:open:" + path, "F-1,16"},
		{"vFile:pread:63,10,0", "F-1,9"},
		{"vFile:pread:3,zz,0", "F-1,9"},
		{"vFile:close:63", "F-1,9"},
		{"vFile:fstat:63", "F-1,9"},
		{"vFile:pwrite:3,0,abc", "F-1,d"},
		{"vFile:unlink:" + path, ""},
	} {
		if got := cl.cmd(tc.send); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.send, got, tc.want)
		}
	}
	fdReply := cl.cmd("vFile:open:" + path + ",0,0")
	if fdReply != "F3" {
		t.Fatalf("open: %q", fdReply)
	}
	st := cl.cmd("vFile:fstat:3")
	if !strings.HasPrefix(st, "F40;") {
		t.Fatalf("fstat: %q", st)
	}
	raw, err := unescapeBinary([]byte(st[4:]))
	if err != nil || len(raw) != 64 {
		t.Fatalf("fstat data: %d bytes, %v", len(raw), err)
	}
	if mode := binary.BigEndian.Uint32(raw[8:]); mode != 0o100444 {
		t.Errorf("st_mode %o", mode)
	}
	if size := binary.BigEndian.Uint64(raw[28:]); size != uint64(len(f.execData)) {
		t.Errorf("st_size %d, want %d", size, len(f.execData))
	}
	var got []byte
	for off := 0; ; {
		r := cl.cmd(fmt.Sprintf("vFile:pread:3,%x,%x", 0x10000, off))
		head, body, ok := strings.Cut(r, ";")
		if !ok || head[0] != 'F' {
			t.Fatalf("pread: %q", r)
		}
		var n int
		fmt.Sscanf(head[1:], "%x", &n)
		data, err := unescapeBinary([]byte(body))
		if err != nil || len(data) != n {
			t.Fatalf("pread at %x: count %d, %d bytes, %v", off, n, len(data), err)
		}
		if len(r) > 0x1000 {
			t.Fatalf("pread reply of %d bytes exceeds the packet size", len(r))
		}
		if n == 0 {
			break
		}
		got = append(got, data...)
		off += n
	}
	if !bytes.Equal(got, f.execData) {
		t.Errorf("pread returned %d bytes differing from the file (%d bytes)", len(got), len(f.execData))
	}
	if got := cl.cmd("vFile:close:3"); got != "F0" {
		t.Errorf("close: %q", got)
	}
	if got := cl.cmd("vFile:close:3"); got != "F-1,9" {
		t.Errorf("second close: %q", got)
	}
	// Descriptors are limited.
	var last string
	for i := 0; i < maxOpenFiles+1; i++ {
		last = cl.cmd("vFile:open:" + path + ",0,0")
	}
	if last != "F-1,18" {
		t.Errorf("open past the limit: %q", last)
	}
}

// TestXferChunking reads a long annex in small pieces.
func TestXferChunking(t *testing.T) {
	f := newFake()
	long := strings.Repeat("<reg name=\"x\" bitsize=\"64\"/>#$*}", 300)
	f.xml["target.xml"] = []byte(long)
	_, addr, _ := startServer(t, f, WithPacketSize(512))
	cl := dial(t, addr)
	var got []byte
	for off := 0; ; {
		r := cl.cmd(fmt.Sprintf("qXfer:features:read:target.xml:%x,%x", off, 0xffff))
		data, err := unescapeBinary([]byte(r[1:]))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, data...)
		off += len(data)
		if r[0] == 'l' {
			break
		}
		if r[0] != 'm' || len(data) == 0 {
			t.Fatalf("reply %q", r)
		}
	}
	if string(got) != long {
		t.Errorf("reassembled annex differs (%d vs %d bytes)", len(got), len(long))
	}
}

// fakeThreadsXML is qXfer:threads:read of the fake target: the one thread
// with its extra info as text.
const fakeThreadsXML = "<?xml version=\"1.0\"?>\n<threads>\n<thread id=\"01\" core=\"0\">cpu 0 [halted]</thread>\n</threads>\n"

// oddThreadText is the fake with a thread text that XML must escape.
type oddThreadText struct{ *fakeTarget }

func (oddThreadText) ThreadExtraInfo() string { return `task "a<b>" & c` }

// TestThreadsXMLEscapes: the thread text is XML character data, so
// qXfer:threads:read escapes it (gdb's XML parser rejects the whole list
// otherwise), while qThreadExtraInfo sends it as it is.
func TestThreadsXMLEscapes(t *testing.T) {
	_, addr, _ := startServer(t, oddThreadText{newFake()})
	cl := dial(t, addr)
	want := "l<?xml version=\"1.0\"?>\n<threads>\n<thread id=\"01\" core=\"0\">task &#34;a&lt;b&gt;&#34; &amp; c</thread>\n</threads>\n"
	got, err := unescapeBinary([]byte(cl.cmd("qXfer:threads:read::0,1000")))
	if err != nil || string(got) != want {
		t.Errorf("qXfer:threads:read: %q (%v), want %q", got, err, want)
	}
	if got := cl.cmd("qThreadExtraInfo,1"); got != hexs(`task "a<b>" & c`) {
		t.Errorf("qThreadExtraInfo: %q", got)
	}
}
