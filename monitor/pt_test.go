package monitor

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"vmapstack/target/paging"
)

// TestPTRecursiveTables: guest-built tables whose every entry points back
// at the PML4 (RW on even entries only, so that neighbouring leaves
// differ in rights and no two merge) describe 2^36 pages in ranges of
// one page each: pt lists a bounded part of them and ends with a line
// saying it was cut and how to narrow it.
func TestPTRecursiveTables(t *testing.T) {
	m, cr3 := unitMachine(t)
	ram := m.RAM()
	for i := uint64(0); i < 512; i++ {
		e := cr3 | uint64(paging.FlagP)
		if i%2 == 0 {
			e |= uint64(paging.FlagRW)
		}
		binary.LittleEndian.PutUint64(ram[cr3+8*i:], e)
	}
	mon := New(m, noSymbols(t))
	var b bytes.Buffer
	if err := mon.Run("pt", &b); err != nil {
		t.Fatalf("pt: %v", err)
	}
	if b.Len() > 8<<20 {
		t.Errorf("pt printed %d bytes, want at most a few MB", b.Len())
	}
	out := b.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	last := lines[len(lines)-1]
	for _, want := range []string{"output cut", "recursive or corrupt", "walk ADDR"} {
		if !strings.Contains(last, want) {
			t.Errorf("last line %q does not say %q", last, want)
		}
	}
	t.Logf("%d bytes, %d lines; last: %s", b.Len(), len(lines), last)
	if len(lines) < 1000 {
		t.Errorf("only %d lines before the cut", len(lines))
	}
	// The same tables with the same rights everywhere merge into one
	// range per section: no cut line, the walk's own bound reported.
	for i := uint64(0); i < 512; i++ {
		binary.LittleEndian.PutUint64(ram[cr3+8*i:], cr3|uint64(paging.FlagP|paging.FlagRW))
	}
	b.Reset()
	err := mon.Run("pt", &b)
	t.Logf("uniform: err %v, %d bytes", err, b.Len())
	if b.Len() > 1<<20 {
		t.Errorf("pt over uniform recursive tables printed %d bytes", b.Len())
	}
	if err == nil && !strings.Contains(b.String(), "output cut") {
		t.Errorf("pt over uniform recursive tables: no error and no cut line:\n%s", b.String())
	}
}

// TestPTLimitWriter: the writer keeps whole writes only and counts them.
func TestPTLimitWriter(t *testing.T) {
	var b bytes.Buffer
	lw := &limitWriter{w: &b, left: 10}
	for _, s := range []string{"abcd\n", "efgh\n", "ijk\n", "l\n"} {
		if n, err := lw.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if b.String() != "abcd\nefgh\n" || !lw.cut || lw.written != 10 {
		t.Errorf("got %q cut %v written %d", b.String(), lw.cut, lw.written)
	}
}
