package gdbproto

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeTarget is a test-only Target: a small register file, a byte array of
// memory at memBase, breakpoints checked against a program counter that
// advances one byte per "instruction".
type fakeTarget struct {
	mu      sync.Mutex
	sizes   []int // register sizes in bytes
	regs    [][]byte
	pcReg   int
	memBase uint64
	mem     []byte

	bps     map[uint64]int
	hwbps   map[uint64]int
	watches map[uint64]WatchKind

	// run decides how a continue ends; nil: run until a breakpoint or
	// until ctx is cancelled (then SIGINT). Steps advance pc by one.
	run     func(ctx context.Context, a Action) (StopEvent, error)
	resumes []Action // every Resume call, in order
	running chan struct{}

	phys     bool
	sstep    uint32
	detached int
	killed   int
	xml      map[string][]byte
	execPath string
	execData []byte
}

func newFake() *fakeTarget {
	f := &fakeTarget{
		sizes:   []int{8, 8, 8, 4},
		pcReg:   2,
		memBase: 0x1000,
		mem:     make([]byte, 0x1000),
		bps:     map[uint64]int{},
		hwbps:   map[uint64]int{},
		watches: map[uint64]WatchKind{},
		running: make(chan struct{}, 16),
		xml: map[string][]byte{
			"target.xml": []byte(`<?xml version="1.0"?><target><xi:include href="extra.xml"/></target>`),
			"extra.xml":  []byte(`<feature name="x">#$}*` + strings.Repeat("a", 50) + `</feature>`),
		},
		execPath: "/boot/kernel.elf",
	}
	for _, n := range f.sizes {
		f.regs = append(f.regs, make([]byte, n))
	}
	for i := range f.mem {
		f.mem[i] = byte(i)
	}
	f.execData = make([]byte, 40000)
	for i := range f.execData {
		f.execData[i] = byte(i * 7)
	}
	f.setPC(0x1000)
	return f
}

func (f *fakeTarget) pc() uint64 { return binary.LittleEndian.Uint64(f.regs[f.pcReg]) }
func (f *fakeTarget) setPC(v uint64) {
	binary.LittleEndian.PutUint64(f.regs[f.pcReg], v)
}

func (f *fakeTarget) ReadRegisters() ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b []byte
	for _, r := range f.regs {
		b = append(b, r...)
	}
	return b, nil
}

func (f *fakeTarget) WriteRegisters(data []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.regs {
		n := copy(r, data)
		data = data[n:]
	}
	return nil
}

func (f *fakeTarget) ReadRegister(n int) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n < 0 || n >= len(f.regs) {
		return nil, ErrNoRegister
	}
	return bytes.Clone(f.regs[n]), nil
}

func (f *fakeTarget) WriteRegister(n int, v []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n < 0 || n >= len(f.regs) {
		return ErrNoRegister
	}
	if len(v) != len(f.regs[n]) {
		return errors.New("bad size")
	}
	copy(f.regs[n], v)
	return nil
}

func (f *fakeTarget) ReadMemory(addr uint64, buf []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if addr < f.memBase || addr-f.memBase >= uint64(len(f.mem)) {
		return 0, errors.New("unmapped")
	}
	n := copy(buf, f.mem[addr-f.memBase:])
	if n < len(buf) {
		return n, errors.New("unmapped")
	}
	return n, nil
}

func (f *fakeTarget) WriteMemory(addr uint64, data []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if addr < f.memBase || addr-f.memBase >= uint64(len(f.mem)) {
		return 0, errors.New("unmapped")
	}
	n := copy(f.mem[addr-f.memBase:], data)
	if n < len(data) {
		return n, errors.New("unmapped")
	}
	return n, nil
}

func (f *fakeTarget) Resume(ctx context.Context, a Action) (StopEvent, error) {
	f.mu.Lock()
	f.resumes = append(f.resumes, a)
	if a.Addr != nil {
		f.setPC(*a.Addr)
	}
	run := f.run
	f.mu.Unlock()
	select {
	case f.running <- struct{}{}:
	default:
	}
	if run != nil {
		return run(ctx, a)
	}
	if a.Step {
		f.mu.Lock()
		f.setPC(f.pc() + 1)
		f.mu.Unlock()
		return StopEvent{Signal: SIGTRAP}, nil
	}
	f.mu.Lock()
	for pc := f.pc() + 1; pc < f.memBase+uint64(len(f.mem)); pc++ {
		if _, ok := f.bps[pc]; ok {
			f.setPC(pc)
			f.mu.Unlock()
			return StopEvent{Reason: StopSWBreak}, nil
		}
		if _, ok := f.hwbps[pc]; ok {
			f.setPC(pc)
			f.mu.Unlock()
			return StopEvent{Reason: StopHWBreak}, nil
		}
	}
	f.mu.Unlock()
	<-ctx.Done()
	return StopEvent{Signal: SIGINT}, nil
}

func (f *fakeTarget) SetBreakpoint(addr uint64, kind int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bps[addr] = kind
	return nil
}

func (f *fakeTarget) ClearBreakpoint(addr uint64, kind int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.bps[addr]; !ok {
		return errors.New("no breakpoint there")
	}
	delete(f.bps, addr)
	return nil
}

func (f *fakeTarget) SetHWBreakpoint(addr uint64, kind int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hwbps[addr] = kind
	return nil
}

func (f *fakeTarget) ClearHWBreakpoint(addr uint64, kind int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.hwbps, addr)
	return nil
}

func (f *fakeTarget) SetWatchpoint(k WatchKind, addr, length uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if length > 8 {
		return ErrUnsupported
	}
	f.watches[addr] = k
	return nil
}

func (f *fakeTarget) ClearWatchpoint(k WatchKind, addr, length uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.watches, addr)
	return nil
}

func (f *fakeTarget) WatchpointSlots() int { return 4 }

func (f *fakeTarget) TargetXML(annex string) ([]byte, bool) {
	d, ok := f.xml[annex]
	return d, ok
}

func (f *fakeTarget) Rcmd(cmd string, out io.Writer) error {
	switch strings.TrimSpace(cmd) {
	case "help":
		fmt.Fprintf(out, "help  this text\nregs  show registers\n")
		return nil
	case "big":
		out.Write(bytes.Repeat([]byte("z"), 20000))
		return nil
	case "fail":
		fmt.Fprintf(out, "partial output\n")
		return errors.New("fail: it failed")
	case "unsup":
		return ErrUnsupported
	}
	return fmt.Errorf("unknown command %q", cmd)
}

func (f *fakeTarget) ExecFile() (string, []byte) { return f.execPath, f.execData }

func (f *fakeTarget) HostInfo() HostInfo {
	return HostInfo{Triple: "x86_64-pc-none-elf", PtrSize: 8, Endian: "little", OSType: "none", Vendor: "pc"}
}

func (f *fakeTarget) RegisterInfo() []RegisterInfo {
	var out []RegisterInfo
	off := 0
	for i, n := range f.sizes {
		ri := RegisterInfo{Name: fmt.Sprintf("r%d", i), BitSize: 8 * n, Offset: off, Encoding: "uint", Format: "hex",
			Set: "General Purpose Registers", EHFrame: i, DWARF: -1}
		if i == f.pcReg {
			ri.Generic = "pc"
		}
		out = append(out, ri)
		off += n
	}
	return out
}

func (f *fakeTarget) ExpeditedRegisters() []int { return []int{f.pcReg, 0} }

func (f *fakeTarget) SetPhysMemMode(on bool) error {
	f.mu.Lock()
	f.phys = on
	f.mu.Unlock()
	return nil
}

func (f *fakeTarget) PhysMemMode() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.phys
}

// MemoryRegion: the fake's memory is one read/write region; below it a
// gap, above it nothing.
func (f *fakeTarget) MemoryRegion(addr uint64) (MemoryRegion, error) {
	if addr < f.memBase {
		return MemoryRegion{Start: 0, Size: f.memBase}, nil
	}
	if addr < f.memBase+uint64(len(f.mem)) {
		return MemoryRegion{Start: f.memBase, Size: uint64(len(f.mem)), Mapped: true, Write: true}, nil
	}
	return MemoryRegion{}, errors.New("beyond the fake's memory")
}

func (f *fakeTarget) SingleStepFlags() uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sstep
}

func (f *fakeTarget) SetSingleStepFlags(v uint32) error {
	f.mu.Lock()
	f.sstep = v
	f.mu.Unlock()
	return nil
}

func (f *fakeTarget) ThreadExtraInfo() string { return "cpu 0 [halted]" }

func (f *fakeTarget) Detach() error {
	f.mu.Lock()
	f.detached++
	clear(f.bps)
	f.mu.Unlock()
	return nil
}

func (f *fakeTarget) Kill() error {
	f.mu.Lock()
	f.killed++
	f.mu.Unlock()
	return nil
}

func (f *fakeTarget) resumeCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.resumes)
}

// minimalTarget implements only Target (no optional interface).
type minimalTarget struct{ f *fakeTarget }

func (m minimalTarget) ReadRegisters() ([]byte, error)        { return m.f.ReadRegisters() }
func (m minimalTarget) WriteRegisters(d []byte) error         { return m.f.WriteRegisters(d) }
func (m minimalTarget) ReadRegister(n int) ([]byte, error)    { return m.f.ReadRegister(n) }
func (m minimalTarget) WriteRegister(n int, v []byte) error   { return m.f.WriteRegister(n, v) }
func (m minimalTarget) SetBreakpoint(a uint64, k int) error   { return m.f.SetBreakpoint(a, k) }
func (m minimalTarget) ClearBreakpoint(a uint64, k int) error { return m.f.ClearBreakpoint(a, k) }
func (m minimalTarget) ReadMemory(a uint64, b []byte) (int, error) {
	return m.f.ReadMemory(a, b)
}
func (m minimalTarget) WriteMemory(a uint64, b []byte) (int, error) {
	return m.f.WriteMemory(a, b)
}
func (m minimalTarget) Resume(ctx context.Context, a Action) (StopEvent, error) {
	return m.f.Resume(ctx, a)
}

// --- test client ---

// client speaks the protocol from the debugger's side and checks every
// frame it receives: checksum, lowercase hex, RLE.
type client struct {
	t     testing.TB
	c     net.Conn
	r     *bufio.Reader
	noAck bool
}

func dial(t testing.TB, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second)) // safety net only
	t.Cleanup(func() { c.Close() })
	return &client{t: t, c: c, r: newReader(c)}
}

func (cl *client) raw(s string) {
	cl.t.Helper()
	if _, err := cl.c.Write([]byte(s)); err != nil {
		cl.t.Fatalf("write: %v", err)
	}
}

func framed(payload string) string {
	return fmt.Sprintf("$%s#%02x", payload, checksum([]byte(payload)))
}

// send writes a packet and, in ack mode, expects '+'.
func (cl *client) send(payload string) {
	cl.t.Helper()
	cl.raw(framed(payload))
	if !cl.noAck {
		cl.expectByte('+')
	}
}

func (cl *client) expectByte(want byte) {
	cl.t.Helper()
	b, err := cl.r.ReadByte()
	if err != nil {
		cl.t.Fatalf("read: %v (want %q)", err, want)
	}
	if b != want {
		cl.t.Fatalf("got byte %q, want %q", b, want)
	}
}

// recvFrame reads one raw frame (payload still run-length encoded) and
// checks its checksum.
func (cl *client) recvFrame() []byte {
	cl.t.Helper()
	b, err := cl.r.ReadByte()
	if err != nil {
		cl.t.Fatalf("read: %v", err)
	}
	if b != '$' {
		cl.t.Fatalf("got %q before a reply, want '$'", b)
	}
	body, err := cl.r.ReadBytes('#')
	if err != nil {
		cl.t.Fatalf("read: %v", err)
	}
	body = body[:len(body)-1]
	var cs [2]byte
	if _, err := io.ReadFull(cl.r, cs[:]); err != nil {
		cl.t.Fatalf("read checksum: %v", err)
	}
	if err := checkFrame(body, cs); err != nil {
		cl.t.Fatalf("bad frame %q: %v", body, err)
	}
	return body
}

// checkFrame verifies what every reply frame must satisfy.
func checkFrame(body []byte, cs [2]byte) error {
	want := checksum(body)
	if string(cs[:]) != fmt.Sprintf("%02x", want) {
		return fmt.Errorf("checksum %q, want %02x (lowercase)", cs, want)
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c == '$' || c == '#' {
			return fmt.Errorf("unescaped %q at %d", c, i)
		}
		if c == '*' {
			if i == 0 || i+1 >= len(body) {
				return fmt.Errorf("'*' at %d without a run", i)
			}
			n := body[i+1]
			if n < 32 || n > 126 || forbiddenRunChar(n) {
				return fmt.Errorf("bad run count %q", n)
			}
			// The count is consumed with its marker, whatever it is: gdb's
			// read_frame and gdbserver's own encoder both use '*' (13
			// repeats) as a count, so "0**" is a valid run.
			i++
		}
	}
	if _, err := rleDecode(body); err != nil {
		return err
	}
	return nil
}

// recv reads one reply, acknowledges it and expands RLE.
func (cl *client) recv() string {
	cl.t.Helper()
	body := cl.recvFrame()
	if !cl.noAck {
		cl.raw("+")
	}
	out, _ := rleDecode(body)
	return string(out)
}

// cmd sends a packet and returns its reply.
func (cl *client) cmd(payload string) string {
	cl.t.Helper()
	cl.send(payload)
	return cl.recv()
}

// expectClosed checks the server closes the connection.
func (cl *client) expectClosed() {
	cl.t.Helper()
	rest, err := io.ReadAll(cl.r)
	if err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		cl.t.Fatalf("read: %v", err)
	}
	if len(rest) != 0 {
		cl.t.Fatalf("unexpected data before close: %q", rest)
	}
}

// startServer serves f on a loopback port; the returned channel yields
// Serve's result.
func startServer(t testing.TB, tg Target, opts ...Option) (*Server, string, chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(tg, opts...)
	srv.repanic = true
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		ln.Close()
	})
	return srv, ln.Addr().String(), done
}

func hexs(s string) string { return fmt.Sprintf("%x", s) }

func newReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }
