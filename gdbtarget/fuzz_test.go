package gdbtarget

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"vmapstack/gdbproto"
	"vmapstack/kernelimg"
	"vmapstack/kernelsym"
	"vmapstack/monitor"
	"vmapstack/target"
)

// memConn is a net.Conn that reads a fixed input and records the output.
// Reads never block (EOF at the end), so a run longer than the session's
// watch tick ends when the watcher reads that EOF: every resume is bounded.
type memConn struct {
	in  *bytes.Reader
	mu  sync.Mutex
	out bytes.Buffer
}

func (c *memConn) Read(p []byte) (int, error) { return c.in.Read(p) }
func (c *memConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Write(p)
}
func (c *memConn) output() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.out.Bytes())
}
func (c *memConn) Close() error                     { return nil }
func (c *memConn) LocalAddr() net.Addr              { return &net.UnixAddr{Name: "fuzz", Net: "unix"} }
func (c *memConn) RemoteAddr() net.Addr             { return &net.UnixAddr{Name: "fuzz", Net: "unix"} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

// fuzzStream turns a fuzz input into what a debugger sends. An input
// starting with 'r' is sent as it is (acks, 0x03, garbage, bad checksums:
// the seed corpus holds real gdb and lldb sessions this way); otherwise
// each line is a packet payload, framed with a correct checksum and
// acknowledged, so that mutations reach the packet parsers.
func fuzzStream(data []byte) []byte {
	if len(data) > 0 && data[0] == 'r' {
		return data[1:]
	}
	var stream []byte
	for _, line := range bytes.Split(data, []byte("\n")) {
		stream = frameOf(stream, string(line))
		stream = append(stream, '+')
	}
	return stream
}

// fuzzPacketSize is the packet size the fuzz server runs with: small, so
// that replies that must be cut to it are exercised.
const fuzzPacketSize = 1024

// checkStubOutput checks that the server wrote nothing but acks and
// well-formed frames: correct checksum, run-length encoding a debugger can
// expand, no unescaped framing bytes, within the packet size.
func checkStubOutput(out []byte, packetSize int) error {
	for i := 0; i < len(out); {
		switch out[i] {
		case '+', '-':
			i++
			continue
		case '$':
		default:
			return fmt.Errorf("byte %q at %d outside a frame", out[i], i)
		}
		end := bytes.IndexByte(out[i+1:], '#')
		if end < 0 || i+1+end+3 > len(out) {
			return fmt.Errorf("unterminated frame at %d", i)
		}
		body := out[i+1 : i+1+end]
		if bytes.IndexByte(body, '$') >= 0 {
			return fmt.Errorf("frame %q holds an unescaped '$'", body)
		}
		var sum byte
		for _, b := range body {
			sum += b
		}
		cs := string(out[i+1+end+1 : i+1+end+3])
		want, err := strconv.ParseUint(cs, 16, 8)
		if err != nil || byte(want) != sum || cs != fmt.Sprintf("%02x", sum) {
			return fmt.Errorf("frame %q: checksum %q, want %02x (lowercase)", body, cs, sum)
		}
		if len(body) > packetSize {
			return fmt.Errorf("frame of %d bytes exceeds the packet size %d", len(body), packetSize)
		}
		if _, err := expandRLE(body); err != nil {
			return err
		}
		i += 1 + end + 3
	}
	return nil
}

// monitorRepanic undoes monitor.Run's recover for the fuzzer: Run turns a
// panic in a command into an "internal error" reply so that a bug in one
// view does not take the debugger down, which would hide it from
// FuzzStubPackets; here it panics again, so the fuzzer sees it.
func monitorRepanic(run func(string, io.Writer) error) func(string, io.Writer) error {
	return func(line string, out io.Writer) error {
		err := run(line, out)
		if err != nil && strings.HasPrefix(err.Error(), monitorInternalError) {
			panic(err)
		}
		return err
	}
}

// cpuRepanic undoes the CPU's recover for the fuzzer: the interpreter
// turns a panic (an emulator bug) into an internal-error stop, which the
// stub reports to gdb as SIGABRT; here it panics again.
func cpuRepanic(describe func(target.Stop) string) func(target.Stop) string {
	return func(st target.Stop) string {
		if st.Kind == target.StopInternal && st.Err != nil && strings.Contains(st.Err.Error(), cpuInternalError) {
			panic(st.Err)
		}
		return describe(st)
	}
}

// cpuInternalError is in the error of a stop for a panic in the CPU.
const cpuInternalError = "cpu: internal error"

// monitorInternalError starts the error monitor.Run returns for a panic.
const monitorInternalError = "monitor: internal error"

// FuzzStubPackets feeds packet streams to a session whose target is a
// real machine booted with the real kernel (scenario=overflow, which ends
// in about a million instructions: a continue is bounded, and a run that
// the input made endless ends when the session reads the input's end). No
// input may panic the server, the adapter or the machine, and every reply
// must be well formed. A fresh machine per input (8 MiB of RAM, about a
// millisecond to build) keeps inputs independent.
func FuzzStubPackets(f *testing.F) {
	// Hand-written seeds reach the packet families; testdata holds real
	// gdb 13 and lldb 14 sessions (raw, 'r' inputs).
	for _, s := range []string{
		"qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vfork-events+;exec-events+;vContSupported+;QThreadEvents+;no-resumed+;memory-tagging+;xmlRegisters=i386\nQStartNoAckMode\n?\ng\nm100000,40\nvCont;s:1;c\nvCont;c",
		"qXfer:features:read:target.xml:0,ffb\nqXfer:features:read:i386-64bit.xml:0,3fb\nqXfer:exec-file:read::0,ffb\nvFile:setfs:0\nvFile:open:2f766d6170737461636b2f656d6265646465642f6b65726e656c2e656c66,0,0\nvFile:pread:3,1000,0\nvFile:fstat:3\nvFile:close:3",
		"Z0,100010,1\nc\nz0,100010,1\nZ2,1000,8\nZ3,2000,4\nZ4,3000,1\nz2,1000,8\ns\np10\nP10=1000100000000000\nG" + string(bytes.Repeat([]byte("00"), 608)),
		"M1000,4:01020304\nX1000,4:abcd\nm1000,4\nQqemu.PhyMemMode:1\nm100000,10\nqqemu.PhyMemMode\nQqemu.PhyMemMode:0\nqRcmd,68656c70",
		"QThreadSuffixSupported\nQListThreadsInStopReply\nqHostInfo\nqProcessInfo\nqRegisterInfo0\nqRegisterInfo41\nqRegisterInfo42\np10;thread:1;\nqfThreadInfo\nqsThreadInfo\nqC\nqThreadExtraInfo,1\nHg1\nHc-1\nT1\nqAttached\nqOffsets\nqTStatus\nD",
		"r$?#3f+\x03-$qC#b4garbage$m0,1#00$vCont;c#a8\x03\x03$g#67",
		"rjunk$QStartNoAckMode#b0$c#63\x03$g#67$k#6b",
		"qRcmd,696e666f206d656d\nqRcmd,696e666f20746c62\nqRcmd,696e666f20726567697374657273\nqRcmd,7870202f38786720307831303030\nqRcmd,78202f34692024726970\nqRcmd,677661326770612024727370\nqRcmd,7074\nqRcmd,77616c6b2024727370\nqRcmd,6274\nqRcmd,6661756c74732033\nqRcmd,68656c70\nqRcmd,737461636b\nqRcmd,78202f33303030303078622030\nqRcmd,707420307831303030",
		"qXfer:features:read:target.xml:0,1\nqXfer:features:read:target.xml:7fffffffffffffff,ffff\nqXfer:features:read:nosuch.xml:0,ffb\nqXfer:features:read:i386-64bit.xml:ffffffff,10\nqXfer:exec-file:read::ffffffffffffffff,ffffffffffffffff\nqXfer:exec-file:read:1:0,0\nqXfer:threads:read::0,ffb\nqXfer:threads:read::10,2\nqXfer:auxv:read::0,ffb\nqXfer:features:write:target.xml:0:abcd\nqXfer:memory-map:read::0,ffb\nqXfer::read::,",
		"Qqemu.PhyMemMode:1\nM1000,8:0310000000000000\nQqemu.PhyMemMode:0\nqRcmd,707420307831303030\nqRcmd,696e666f206d656d\nqRcmd,77616c6b203020307831303030",
		"qRcmd,737461636b\nqRcmd,77616c6b2024637232\nqRcmd,7074\nqRcmd,6661756c74732034\nqRcmd,637232\nqRcmd,627265616b2d6f6e206466206f6e\nqRcmd,696474\nqRcmd,747373\nqRcmd,676474\nqRcmd,6372656773\nqRcmd,7461736b73\nqRcmd,70687973206f6e\nqRcmd,70687973206f6666\nqRcmd,7374617473\nqRcmd,77616c6b2030787a7a\nqRcmd,707420307831323334\nqRcmd,626f677573\nc\nqRcmd,737461636b",
	} {
		f.Add([]byte(s))
	}
	// The real monitor, so its argument parsing is fuzzed over the wire
	// too; the kernel's symbols are read once.
	k, err := kernelsym.Load(kernelimg.ELF)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m := newMachineMem(t, "scenario=overflow", 8<<20)
		mon := monitor.New(m, k)
		tgt := New(m, Config{ExecPath: "/vmapstack/embedded/kernel.elf", Monitor: monitorRepanic(mon.Run), DescribeStop: cpuRepanic(mon.DescribeStop)})
		srv := gdbproto.NewServer(tgt, gdbproto.WithPacketSize(fuzzPacketSize), gdbproto.WithPanics())
		conn := &memConn{in: bytes.NewReader(fuzzStream(data))}
		srv.ServeConn(conn)
		// A detach leaves the machine running free: stop it.
		srv.Close()
		if err := checkStubOutput(conn.output(), fuzzPacketSize); err != nil {
			t.Fatalf("input %q: %v", data, err)
		}
	})
}

// TestMonitorRepanic: a monitor command's panic, which monitor.Run turns
// into an error reply, reaches the fuzzer as a panic again.
func TestMonitorRepanic(t *testing.T) {
	run := monitorRepanic(func(line string, out io.Writer) error {
		return fmt.Errorf("%s in %q: boom", monitorInternalError, line)
	})
	defer func() {
		if recover() == nil {
			t.Error("a monitor panic did not reach the fuzzer")
		}
	}()
	run("pt", io.Discard)
}

// TestCPURepanic: an emulator panic, which the CPU turns into an
// internal-error stop, reaches the fuzzer as a panic again; other stops
// are described as before.
func TestCPURepanic(t *testing.T) {
	describe := cpuRepanic(func(target.Stop) string { return "described" })
	if got := describe(target.Stop{Kind: target.StopInternal, Err: fmt.Errorf("cpu: at rip 0x10: not implemented")}); got != "described" {
		t.Errorf("a limitation: %q", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("a CPU panic did not reach the fuzzer")
		}
	}()
	describe(target.Stop{Kind: target.StopInternal, Err: fmt.Errorf("%s at rip 0x10: boom", cpuInternalError)})
}
