package gdbproto

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
)

func TestRLE(t *testing.T) {
	cases := []string{
		"", "a", "aaa", "aaaa", "0000000", "00000000", strings.Repeat("0", 15),
		strings.Repeat("0", 14), "ab" + strings.Repeat("0", 14), strings.Repeat("0", 17), strings.Repeat("f", 98), strings.Repeat("f", 99),
		strings.Repeat("0", 1000), "ab" + strings.Repeat("}]", 10) + strings.Repeat("]", 30),
		"T05thread:01;" + strings.Repeat("0", 64),
	}
	for n := 1; n < 130; n++ {
		cases = append(cases, "x"+strings.Repeat("0", n)+"y")
	}
	for _, c := range cases {
		enc := rleEncode([]byte(c))
		for i := 0; i < len(enc); i++ {
			if enc[i] == '*' {
				n := enc[i+1]
				if n < 32 || n > 126 || forbiddenRunChar(n) {
					t.Errorf("%q: bad count char %q", c, n)
				}
				i++ // the count may itself be '*'
				continue
			}
			if enc[i] == '#' || enc[i] == '$' {
				t.Errorf("%q: framing char in encoding", c)
			}
		}
		f := frame([]byte(c), true)
		var cs [2]byte
		copy(cs[:], f[len(f)-2:])
		if err := checkFrame(f[1:len(f)-3], cs); err != nil {
			t.Errorf("%q: frame %q: %v", c, f, err)
		}
		dec, err := rleDecode(enc)
		if err != nil || string(dec) != c {
			t.Errorf("%q: round trip gave %q, %v", c, dec, err)
		}
		if len(c) >= 4 && strings.Count(c, "0") == len(c) && len(enc) >= len(c) {
			t.Errorf("%q: no compression (%q)", c, enc)
		}
	}
	// Runs of 7 and 8 would need '#' and '$' as counts: they are split.
	if got := string(rleEncode([]byte("0000000"))); got != "0*\"0" {
		t.Errorf("run of 7: %q", got)
	}
	if got := string(rleEncode([]byte("00000000"))); got != "0*\"00" {
		t.Errorf("run of 8: %q", got)
	}
	// A run of 14 uses '*' as its own count, as gdbserver does; gdb's
	// read_frame takes the byte after a marker as the count, whatever it is.
	if got := string(rleEncode([]byte(strings.Repeat("0", 14)))); got != "0**" {
		t.Errorf("run of 14: %q", got)
	}
}

func TestEscape(t *testing.T) {
	var all []byte
	for i := 0; i < 256; i++ {
		all = append(all, byte(i))
	}
	esc := escapeBinary(nil, all)
	for i := 0; i < len(esc); i++ {
		switch esc[i] {
		case '#', '$', '*':
			t.Errorf("unescaped %q", esc[i])
		case '}':
			i++ // the escaped byte follows
		}
	}
	if escapedLen(all) != len(esc) {
		t.Errorf("escapedLen %d, len %d", escapedLen(all), len(esc))
	}
	back, err := unescapeBinary(esc)
	if err != nil || !bytes.Equal(back, all) {
		t.Errorf("round trip failed: %v", err)
	}
	if _, err := unescapeBinary([]byte("ab}")); err == nil {
		t.Errorf("trailing escape accepted")
	}
	if got := string(escapeBinary(nil, []byte("#$}*a"))); got != "}\x03}\x04}]}\x0aa" {
		t.Errorf("escape: %q", got)
	}
	if n := prefixFitting([]byte("ab#c"), 3); n != 2 {
		t.Errorf("prefixFitting: %d", n)
	}
	if n := prefixFitting([]byte("ab#c"), 4); n != 3 {
		t.Errorf("prefixFitting: %d", n)
	}
}

func TestFrame(t *testing.T) {
	if got := string(frame([]byte("OK"), true)); got != "$OK#9a" {
		t.Errorf("frame OK: %q", got)
	}
	if got := string(frame(nil, true)); got != "$#00" {
		t.Errorf("empty frame: %q", got)
	}
	// Lowercase checksum digits.
	if got := string(frame([]byte("T05thread:01;"), false)); got != "$T05thread:01;#07" {
		t.Errorf("frame: %q", got)
	}
	if got := string(frame([]byte("E.ab"), false)); !strings.HasSuffix(got, "#"+string(hexDigits[checksum([]byte("E.ab"))>>4])+string(hexDigits[checksum([]byte("E.ab"))&15])) {
		t.Errorf("frame: %q", got)
	}
}

func TestFrameReader(t *testing.T) {
	type ev struct {
		kind eventKind
		data string
	}
	cases := []struct {
		name string
		in   string
		max  int
		want []ev
	}{
		{"plain", "$OK#9a", 100, []ev{{evPacket, "OK"}}},
		{"upper checksum", "$m0,1#FA", 100, []ev{{evPacket, "m0,1"}}},
		{"garbage first", "xyz\r\n\x00$OK#9a", 100, []ev{{evPacket, "OK"}}},
		{"acks and interrupt", "+-\x03$?#3f", 100, []ev{{evAck, ""}, {evNack, ""}, {evInterrupt, ""}, {evPacket, "?"}}},
		{"bad checksum", "$OK#00$OK#9a", 100, []ev{{evBadChecksum, "OK"}, {evPacket, "OK"}}},
		{"non-hex checksum", "$OK#zz", 100, []ev{{evBadChecksum, "OK"}}},
		{"oversize then normal", "$" + strings.Repeat("a", 20) + "#00$OK#9a", 10, []ev{{evOversize, ""}, {evPacket, "OK"}}},
		{"restart on $", "$m10$OK#9a", 100, []ev{{evPacket, "OK"}}},
		{"binary in packet", "$X0,1:\x03#" + hexByte(checksum([]byte("X0,1:\x03"))), 100, []ev{{evPacket, "X0,1:\x03"}}},
		{"eof mid packet", "$m10", 100, nil},
	}
	for _, c := range cases {
		fr := frameReader{r: bufio.NewReader(strings.NewReader(c.in)), maxSize: c.max}
		for i, w := range c.want {
			got := fr.next()
			if got.kind != w.kind || string(got.data) != w.data {
				t.Errorf("%s: event %d = %v %q, want %v %q", c.name, i, got.kind, got.data, w.kind, w.data)
			}
		}
		if got := fr.next(); got.kind != evEOF {
			t.Errorf("%s: trailing event %v", c.name, got.kind)
		}
	}
}

func hexByte(b byte) string { return string([]byte{hexDigits[b>>4], hexDigits[b&15]}) }

// deadlineReader hands out its chunks one per Read, with an expired
// deadline between them.
type deadlineReader struct {
	chunks []string
	expire bool
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	if d.expire {
		d.expire = false
		return 0, os.ErrDeadlineExceeded
	}
	if len(d.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, d.chunks[0])
	d.chunks = d.chunks[1:]
	d.expire = true
	return n, nil
}

// TestFrameReaderDeadline: an expired read deadline (how the session takes
// the connection back from its watcher) in the middle of a packet or of
// its checksum loses nothing.
func TestFrameReaderDeadline(t *testing.T) {
	r := &deadlineReader{chunks: []string{"+$m10", "00,4", "#", "8", "e\x03$?#3", "f"}}
	fr := frameReader{r: bufio.NewReaderSize(r, 16), maxSize: 64}
	var got []string
	for {
		ev := fr.next()
		switch ev.kind {
		case evTimeout:
			got = append(got, "timeout")
			continue
		case evEOF:
			got = append(got, "eof")
		case evAck:
			got = append(got, "+")
		case evInterrupt:
			got = append(got, "^C")
		case evPacket:
			got = append(got, string(ev.data))
		default:
			got = append(got, fmt.Sprintf("kind %d %q", ev.kind, ev.data))
		}
		if ev.kind == evEOF {
			break
		}
	}
	want := "+ timeout timeout timeout timeout m1000,4 ^C timeout ? timeout eof"
	if strings.Join(got, " ") != want {
		t.Errorf("events %q\nwant   %q", strings.Join(got, " "), want)
	}
}

func TestParseThreadID(t *testing.T) {
	cases := []struct {
		in      string
		tid     int64
		ok      bool
		ours    bool
		applies bool
	}{
		{"1", 1, true, true, true},
		{"01", 1, true, true, true},
		{"0", 0, true, false, true},
		{"-1", -1, true, false, true},
		{"2", 2, true, false, false},
		{"p1.1", 1, true, true, true},
		{"p1.-1", -1, true, false, true},
		{"p-1.-1", -1, true, false, true},
		{"p1", -1, true, false, true},
		{"p2.1", 1, true, false, false},
		{"", 0, false, false, false},
		{"p", 0, false, false, false},
		{"p1.", 0, false, false, false},
		{"zz", 0, false, false, false},
		{"-2", 0, false, false, false},
		{"ffffffffffffffffff", 0, false, false, false},
	}
	for _, c := range cases {
		tid, ok := parseThreadID([]byte(c.in))
		if ok != c.ok || (ok && tid != c.tid) {
			t.Errorf("parseThreadID(%q) = %d, %v", c.in, tid, ok)
		}
		if got := isOurThread([]byte(c.in)); got != c.ours {
			t.Errorf("isOurThread(%q) = %v", c.in, got)
		}
		if got := appliesToUs([]byte(c.in)); got != c.applies {
			t.Errorf("appliesToUs(%q) = %v", c.in, got)
		}
	}
}
