package gdbtarget

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"vmapstack/gdbproto"
	"vmapstack/kernelimg"
	"vmapstack/target"
)

// The rig: a real machine booted with the real kernel, served by a real
// gdbproto.Server on a real (unix or TCP loopback) socket, driven by a raw
// RSP client. The benchmarks, the fuzz target and the connection-fault
// tests share it.

// newMachine boots the embedded kernel with the given command line.
func newMachine(tb testing.TB, append string) *target.Machine {
	tb.Helper()
	return newMachineMem(tb, append, 32<<20)
}

// newMachineMem is newMachine with that much RAM.
func newMachineMem(tb testing.TB, append string, ram uint64) *target.Machine {
	tb.Helper()
	m, err := target.New(target.Config{Kernel: kernelimg.ELF, KernelPath: "/vmapstack/embedded/kernel.elf",
		Append: append, MemoryBytes: ram})
	if err != nil {
		tb.Fatalf("boot %q: %v", append, err)
	}
	return m
}

// kernelSymbol is the address of a symbol of the embedded kernel.
func kernelSymbol(tb testing.TB, name string) uint64 {
	tb.Helper()
	f, err := elf.NewFile(bytes.NewReader(kernelimg.ELF))
	if err != nil {
		tb.Fatal(err)
	}
	syms, err := f.Symbols()
	if err != nil {
		tb.Fatal(err)
	}
	for _, s := range syms {
		if s.Name == name {
			return s.Value
		}
	}
	tb.Fatalf("kernel has no symbol %s", name)
	return 0
}

// rig is a server on a socket for one machine.
type rig struct {
	m    *target.Machine
	t    *Target
	srv  *gdbproto.Server
	addr string // dialable: "unix", path or "tcp", host:port
	net  string
	done chan error // Serve's result
}

// startRig serves m on a unix socket (network "unix") or on TCP loopback.
func startRig(tb testing.TB, m *target.Machine, network string, opts ...gdbproto.Option) *rig {
	tb.Helper()
	var listen string
	if network == "unix" {
		listen = "unix:" + filepath.Join(tb.TempDir(), "gdb.sock")
	} else {
		listen = "127.0.0.1:0"
	}
	l, err := gdbproto.Listen(listen)
	if err != nil {
		tb.Fatal(err)
	}
	// "monitor instret" reads the clock on the session's goroutine: a
	// test that read it directly would race (for the race detector, which
	// does not see the socket ordering) with the next session's run.
	t := New(m, Config{ExecPath: "/vmapstack/embedded/kernel.elf",
		Monitor: func(line string, out io.Writer) error {
			if line != "instret" {
				return fmt.Errorf("unknown command %q", line)
			}
			_, err := fmt.Fprintf(out, "%d\n", m.Instret())
			return err
		}})
	r := &rig{m: m, t: t, srv: gdbproto.NewServer(t, opts...), net: network,
		addr: l.Addr().String(), done: make(chan error, 1)}
	if network == "unix" {
		r.addr = strings.TrimPrefix(listen, "unix:")
	}
	go func() { r.done <- r.srv.Serve(l) }()
	tb.Cleanup(func() {
		r.srv.Close()
		select {
		case <-r.done:
		case <-time.After(30 * time.Second): // safety net only
			tb.Errorf("Serve did not return after Close")
		}
	})
	return r
}

// rsp is a raw Remote Serial Protocol client.
type rsp struct {
	tb    testing.TB
	c     net.Conn
	br    *bufio.Reader
	noAck bool
	buf   []byte
}

func (r *rig) dial(tb testing.TB) *rsp {
	tb.Helper()
	c, err := net.Dial(r.net, r.addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return &rsp{tb: tb, c: c, br: bufio.NewReaderSize(c, 1<<16)}
}

// frameOf appends $payload#cc to dst.
func frameOf(dst []byte, payload string) []byte {
	var sum byte
	dst = append(dst, '$')
	for i := 0; i < len(payload); i++ {
		sum += payload[i]
	}
	dst = append(dst, payload...)
	return append(dst, '#', "0123456789abcdef"[sum>>4], "0123456789abcdef"[sum&15])
}

// send writes one packet.
func (c *rsp) send(payload string) {
	c.buf = frameOf(c.buf[:0], payload)
	c.c.SetWriteDeadline(time.Now().Add(30 * time.Second)) // safety net only
	if _, err := c.c.Write(c.buf); err != nil {
		c.tb.Fatalf("send %q: %v", payload, err)
	}
}

// read returns the next reply's payload (run-length encoding expanded),
// skipping acks and O console packets, and checks the checksum.
func (c *rsp) read() string {
	p, err := c.tryRead()
	if err != nil {
		c.tb.Fatalf("read: %v", err)
	}
	return p
}

// tryRead is read that returns the error.
func (c *rsp) tryRead() (string, error) {
	for {
		p, err := c.readFrame()
		if err != nil {
			return "", err
		}
		if len(p) > 1 && p[0] == 'O' && p != "OK" && isHex(p[1:]) {
			continue
		}
		return p, nil
	}
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return len(s)%2 == 0
}

// readFrame reads one frame (acks before it are skipped).
func (c *rsp) readFrame() (string, error) {
	c.c.SetReadDeadline(time.Now().Add(60 * time.Second)) // safety net only
	for {
		b, err := c.br.ReadByte()
		if err != nil {
			return "", err
		}
		if b == '+' || b == '-' {
			continue
		}
		if b != '$' {
			return "", fmt.Errorf("byte %q outside a frame", b)
		}
		break
	}
	body, err := c.br.ReadSlice('#')
	if err != nil {
		return "", fmt.Errorf("in frame: %w", err)
	}
	body = body[:len(body)-1]
	var cs [2]byte
	for i := range cs {
		if cs[i], err = c.br.ReadByte(); err != nil {
			return "", err
		}
	}
	var sum byte
	for _, b := range body {
		sum += b
	}
	want, err := strconv.ParseUint(string(cs[:]), 16, 8)
	if err != nil || byte(want) != sum {
		return "", fmt.Errorf("frame %q: checksum %q, want %02x", body, cs[:], sum)
	}
	if !c.noAck {
		c.c.Write([]byte("+"))
	}
	return expandRLE(body)
}

func expandRLE(p []byte) (string, error) {
	if bytes.IndexByte(p, '*') < 0 {
		return string(p), nil
	}
	var out []byte
	for i := 0; i < len(p); i++ {
		if p[i] != '*' {
			out = append(out, p[i])
			continue
		}
		if len(out) == 0 || i+1 >= len(p) {
			return "", fmt.Errorf("bad run-length encoding in %q", p)
		}
		n := int(p[i+1]) - 29
		out = append(out, bytes.Repeat(out[len(out)-1:], n)...)
		i++
	}
	return string(out), nil
}

// instret asks the machine's instruction count ("monitor instret").
func (c *rsp) instret() uint64 {
	c.send("qRcmd," + hex.EncodeToString([]byte("instret")))
	var text []byte
	for {
		p, err := c.readFrame()
		if err != nil {
			c.tb.Fatalf("monitor instret: %v", err)
		}
		if p == "OK" {
			break
		}
		b, err := hex.DecodeString(strings.TrimPrefix(p, "O"))
		if !strings.HasPrefix(p, "O") || err != nil {
			c.tb.Fatalf("monitor instret: %q", p)
		}
		text = append(text, b...)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(text)), 10, 64)
	if err != nil {
		c.tb.Fatalf("monitor instret: %q", text)
	}
	return n
}

// ask sends a packet and returns the reply.
func (c *rsp) ask(payload string) string {
	c.send(payload)
	return c.read()
}

// handshake does what gdb does first: qSupported, then no-ack mode.
func (c *rsp) handshake() {
	if r := c.ask("qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;vContSupported+"); !strings.Contains(r, "PacketSize") {
		c.tb.Fatalf("qSupported: %q", r)
	}
	if r := c.ask("QStartNoAckMode"); r != "OK" {
		c.tb.Fatalf("QStartNoAckMode: %q", r)
	}
	c.noAck = true
}

// stopRegs parses the expedited registers of a T stop reply.
func stopRegs(reply string) (map[int]uint64, error) {
	if len(reply) < 3 || reply[0] != 'T' {
		return nil, fmt.Errorf("not a T stop reply: %q", reply)
	}
	out := map[int]uint64{}
	for _, f := range strings.Split(reply[3:], ";") {
		k, v, ok := strings.Cut(f, ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(k, 16, 8)
		if err != nil || len(v) != 16 {
			continue
		}
		le, err := hex.DecodeString(v)
		if err != nil {
			continue
		}
		out[int(n)] = binary.LittleEndian.Uint64(le)
	}
	return out, nil
}

// waitServe waits (a safety net, not a timing) for Serve to return.
func (r *rig) waitServe(tb testing.TB) error {
	tb.Helper()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		return err
	case <-time.After(60 * time.Second):
		tb.Fatal("Serve did not return")
	}
	return nil
}

// undisturbed runs a fresh machine with append to its end with no
// debugger: the reference the fault tests compare against.
func undisturbed(tb testing.TB, append string) (console []byte, instret uint64, code int) {
	tb.Helper()
	m := newMachine(tb, append)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // safety net only
	defer cancel()
	st := m.Run(ctx)
	if st.Kind != target.StopDebugExit {
		tb.Fatalf("undisturbed %q stopped with %v", append, st)
	}
	return m.Console(), m.Instret(), st.Code
}
