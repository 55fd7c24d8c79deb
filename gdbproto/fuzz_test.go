package gdbproto

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// memConn is a net.Conn reading a fixed input and recording the output.
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
func (c *memConn) Close() error                     { return nil }
func (c *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

// fuzzInput turns a fuzz input into the byte stream a debugger would send.
// An input starting with 'r' is sent raw (framing, acks, 0x03, garbage);
// otherwise each line is a packet payload, framed with a correct checksum
// so that the fuzzer reaches the packet parsers.
func fuzzInput(data []byte) []byte {
	if len(data) > 0 && data[0] == 'r' {
		return data[1:]
	}
	var stream []byte
	for _, line := range bytes.Split(data, []byte("\n")) {
		stream = append(stream, frame(line, false)...)
		stream = append(stream, '+')
	}
	return stream
}

// checkReplies splits the server's output into acks and frames and checks
// that every frame is well formed.
func checkReplies(out []byte, packetSize int) error {
	for i := 0; i < len(out); {
		switch out[i] {
		case '+', '-':
			i++
			continue
		case '$':
		default:
			return fmt.Errorf("byte %q at %d outside a frame", out[i], i)
		}
		end := bytes.IndexByte(out[i:], '#')
		if end < 0 || i+end+3 > len(out) {
			return fmt.Errorf("unterminated frame at %d", i)
		}
		body := out[i+1 : i+end]
		var cs [2]byte
		copy(cs[:], out[i+end+1:i+end+3])
		if err := checkFrame(body, cs); err != nil {
			return fmt.Errorf("frame %q: %v", body, err)
		}
		if len(body) > packetSize {
			return fmt.Errorf("frame of %d bytes exceeds the packet size %d", len(body), packetSize)
		}
		i += end + 3
	}
	return nil
}

func FuzzPacket(f *testing.F) {
	f.Add([]byte("qSupported:multiprocess+;swbreak+\n?\ng\nm1000,10\nc"))
	f.Add([]byte("r$?#3f+\x03-$qC#b4garbage"))
	// The qXfer objects and the monitor plumbing, with odd offsets and
	// lengths.
	f.Add([]byte("qXfer:features:read:target.xml:0,1\nqXfer:features:read:target.xml:ffffffffffffffff,ffffffffffffffff\nqXfer:exec-file:read::bb0,ffb\nqXfer:threads:read::0,ffb\nqXfer:auxv:read::0,10\nqXfer:features:write:target.xml:0:00\nqXfer::read::,"))
	f.Add([]byte("qRcmd,68656c70\nqRcmd,\nqRcmd,zz\nqRcmd,6\nqRcmd," + strings.Repeat("41", 300)))
	f.Fuzz(func(t *testing.T, data []byte) {
		ft := newFake()
		ft.execData = ft.execData[:3000]
		srv := NewServer(ft, WithPacketSize(512))
		srv.repanic = true
		conn := &memConn{in: bytes.NewReader(fuzzInput(data))}
		srv.ServeConn(conn)
		// A detach leaves the target running: stop it.
		srv.haltFreeRun()
		if err := checkReplies(conn.out.Bytes(), 512); err != nil {
			t.Fatalf("input %q: %v", data, err)
		}
	})
}
