package gdbproto

import (
	"bufio"
	"errors"
	"fmt"
	"os"
)

// Framing of the Remote Serial Protocol (gdb manual, "Overview" of the
// remote protocol): a packet is $payload#cc where cc is the modulo-256 sum
// of the payload bytes in two hex digits. The receiver acknowledges with +
// or - (until QStartNoAckMode). The byte 0x03 outside a packet asks a
// running target to stop.

// eventKind is what the connection reader saw.
type eventKind int

const (
	evPacket      eventKind = iota // a complete packet (payload in data)
	evBadChecksum                  // a complete packet whose checksum is wrong (payload in data)
	evOversize                     // a complete packet longer than the packet size; payload dropped
	evAck                          // '+'
	evNack                         // '-'
	evInterrupt                    // 0x03
	evEOF                          // the connection ended (err says why)
	evTimeout                      // the read deadline expired (the frame in progress is kept)
)

type event struct {
	kind eventKind
	data []byte
	err  error
}

// frameReader turns the byte stream from the debugger into events. It never
// fails on content: garbage before '$' is skipped, malformed checksums are
// reported as evBadChecksum, oversized packets are consumed to their end so
// that the stream stays in sync. A read deadline that expires (the session
// uses one to take the connection back from its watcher goroutine) yields
// evTimeout and keeps the partial frame: the next call carries on with it.
type frameReader struct {
	r       *bufio.Reader
	maxSize int // largest payload accepted

	state int    // frameOutside, framePayload or frameChecksum
	buf   []byte // the payload so far
	sum   byte
	over  bool
	cs    [2]byte
	ncs   int
}

const (
	frameOutside = iota
	framePayload
	frameChecksum
)

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// next reads up to the next event.
func (f *frameReader) next() event {
	for {
		c, err := f.r.ReadByte()
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return event{kind: evTimeout, err: err}
			}
			switch f.state {
			case framePayload:
				err = fmt.Errorf("in packet: %w", err)
			case frameChecksum:
				err = fmt.Errorf("in checksum: %w", err)
			}
			f.state = frameOutside
			return event{kind: evEOF, err: err}
		}
		switch f.state {
		case frameOutside:
			switch c {
			case '+':
				return event{kind: evAck}
			case '-':
				return event{kind: evNack}
			case 0x03:
				return event{kind: evInterrupt}
			case '$':
				f.state, f.buf, f.sum, f.over = framePayload, make([]byte, 0, 64), 0, false
			}
			// Anything else outside a packet is line noise: skip it.
		case framePayload:
			switch c {
			case '#':
				f.state, f.ncs = frameChecksum, 0
			case '$':
				// A new packet starts before this one ended: the
				// debugger gave up on it (gdb does so after a
				// timeout). Restart.
				f.buf, f.sum, f.over = f.buf[:0], 0, false
			default:
				f.sum += c
				if len(f.buf) >= f.maxSize {
					f.over = true
				} else {
					f.buf = append(f.buf, c)
				}
			}
		case frameChecksum:
			f.cs[f.ncs] = c
			if f.ncs++; f.ncs < 2 {
				continue
			}
			f.state = frameOutside
			hi, ok1 := hexVal(f.cs[0])
			lo, ok2 := hexVal(f.cs[1])
			buf := f.buf
			f.buf = nil
			if f.over {
				return event{kind: evOversize}
			}
			if !ok1 || !ok2 || hi<<4|lo != f.sum {
				return event{kind: evBadChecksum, data: buf}
			}
			return event{kind: evPacket, data: buf}
		}
	}
}

// checksum is the modulo-256 sum of p.
func checksum(p []byte) byte {
	var s byte
	for _, c := range p {
		s += c
	}
	return s
}

const hexDigits = "0123456789abcdef"

// frame wraps a payload as $payload#cc (lowercase hex), run-length encoding
// it first when rle is set.
func frame(payload []byte, rle bool) []byte {
	return appendFrame(make([]byte, 0, len(payload)+4), payload, rle)
}

// appendFrame appends the frame of payload to dst (the session reuses one
// buffer for every reply).
func appendFrame(dst, payload []byte, rle bool) []byte {
	dst = append(dst, '$')
	start := len(dst)
	if rle {
		dst = appendRLE(dst, payload)
	} else {
		dst = append(dst, payload...)
	}
	s := checksum(dst[start:])
	return append(dst, '#', hexDigits[s>>4], hexDigits[s&15])
}

// rleEncode applies the protocol's run-length encoding: "c*N" stands for c
// followed by N-29 more copies of c. The count character must be printable
// and is never '#' or '$' (they would break framing) nor '+' or '-' (which
// gdb's manual also rules out), so such runs are shortened. Runs shorter
// than four are left alone (no gain). The encoding is purely textual and
// gdb and lldb expand it before undoing binary escapes, so it is safe on
// escaped binary replies too.
func rleEncode(p []byte) []byte {
	return appendRLE(make([]byte, 0, len(p)), p)
}

// appendRLE appends p, run-length encoded, to out.
func appendRLE(out, p []byte) []byte {
	for i := 0; i < len(p); {
		c := p[i]
		j := i + 1
		for j < len(p) && p[j] == c {
			j++
		}
		extra := j - i - 1 // copies after the first
		out = append(out, c)
		i++
		for extra >= 3 {
			n := extra
			if n > 126-29 {
				n = 126 - 29
			}
			for n >= 3 && forbiddenRunChar(byte(n+29)) {
				n--
			}
			if n < 3 {
				break
			}
			out = append(out, '*', byte(n+29))
			i += n
			extra -= n
			if extra > 0 {
				// The rest of the run starts afresh with a literal c.
				out = append(out, c)
				i++
				extra--
			}
		}
		for ; extra > 0; extra-- {
			out = append(out, c)
			i++
		}
	}
	return out
}

func forbiddenRunChar(c byte) bool {
	return c == '#' || c == '$' || c == '+' || c == '-'
}

// rleDecode expands run-length encoding (used by tests and the fuzz target
// to check replies the way a debugger reads them).
func rleDecode(p []byte) ([]byte, error) {
	var out []byte
	for i := 0; i < len(p); i++ {
		if p[i] != '*' {
			out = append(out, p[i])
			continue
		}
		if len(out) == 0 || i+1 >= len(p) {
			return nil, fmt.Errorf("run-length '*' at %d has nothing to repeat", i)
		}
		n := int(p[i+1]) - 29
		if n < 0 {
			return nil, fmt.Errorf("bad run-length count %q", p[i+1])
		}
		c := out[len(out)-1]
		for k := 0; k < n; k++ {
			out = append(out, c)
		}
		i++
	}
	return out, nil
}

// needsEscape reports the bytes binary data must escape: '#', '$', '}' and
// '*' (the last so that a debugger's RLE decoder never sees a bare '*').
func needsEscape(c byte) bool {
	return c == '#' || c == '$' || c == '}' || c == '*'
}

// escapeBinary escapes data for a binary reply: '}' then the byte XOR 0x20.
func escapeBinary(dst, data []byte) []byte {
	for _, c := range data {
		if needsEscape(c) {
			dst = append(dst, '}', c^0x20)
		} else {
			dst = append(dst, c)
		}
	}
	return dst
}

// escapedLen is the length of data once escaped.
func escapedLen(data []byte) int {
	n := len(data)
	for _, c := range data {
		if needsEscape(c) {
			n++
		}
	}
	return n
}

// unescapeBinary undoes escapeBinary (X, vFile:pwrite payloads).
func unescapeBinary(p []byte) ([]byte, error) {
	out := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '}' {
			if i+1 >= len(p) {
				return nil, fmt.Errorf("escape '}' at the end of the data")
			}
			i++
			c = p[i] ^ 0x20
		}
		out = append(out, c)
	}
	return out, nil
}

// prefixFitting returns how many leading bytes of data, escaped, fit in
// budget bytes.
func prefixFitting(data []byte, budget int) int {
	n := 0
	for i, c := range data {
		w := 1
		if needsEscape(c) {
			w = 2
		}
		if n+w > budget {
			return i
		}
		n += w
	}
	return len(data)
}
