package kallsyms

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// synthKernel is a vmlinux with the tables in .rodata between filler
// that looks like other tables (a token-table look-alike: the ASCII
// characters in a row, as lib/ctype-like data holds them).
func synthKernel(b built) (elfBytes []byte, tablesAt uint64) {
	var lookalike []byte
	for c := 1; c < 256; c++ {
		lookalike = append(lookalike, byte(c), 0)
	}
	rodata := append([]byte("rodata start\x00\x00\x00\x00"), lookalike...)
	for len(rodata)%8 != 0 {
		rodata = append(rodata, 0)
	}
	rodata = append(rodata, make([]byte, 4096)...)
	off := uint64(len(rodata))
	rodata = append(rodata, b.blob...)
	rodata = append(rodata, lookalike...)
	text := make([]byte, 0x10000)
	for i := range text {
		text[i] = 0xcc
	}
	return buildELF([]elfSection{
		{".text", textBase, text},
		{".rodata", blobBase, rodata},
	}), blobBase + off
}

func TestFindInImageSynthetic(t *testing.T) {
	for _, c := range []struct {
		name   string
		percpu bool
		addr   addressing
		lay    layout
		mode   PercpuMode
	}{
		{"6.1, absolute per-CPU", true, absolutePercpu, layout61, PercpuAbsolute},
		{"6.1 with seqs_of_names", true, absolutePercpu, layout61Seqs, PercpuAbsolute},
		{"6.1, base-relative", false, baseRelative, layout61, PercpuRelative},
		{"6.1, absolute addresses", false, absoluteAddrs, layout61, PercpuAuto},
		{"6.4 order", true, absolutePercpu, layout64, PercpuAbsolute},
		{"6.4 order, absolute addresses", false, absoluteAddrs, layout64, PercpuAuto},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := testSymbols(3000, c.percpu)
			b := build(want, c.lay, c.addr)
			img, at := synthKernel(b)
			got, tables, err := FindInImage(img)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("found %d symbols, differing from the %d written (%s)", len(got), len(want), firstDiff(got, want))
			}
			wantT := b.at(at)
			wantT.Percpu, wantT.Stext = c.mode, textBase
			if tables != wantT {
				t.Errorf("tables\n%+v, want\n%+v", tables, wantT)
			}
		})
	}
}

func TestFindInImageFailures(t *testing.T) {
	text := []elfSection{{".text", textBase, make([]byte, 4096)}}
	if _, _, err := FindInImage(buildELF(text)); err == nil || !strings.Contains(err.Error(), "no kallsyms_token_table") {
		t.Errorf("no tables: %v", err)
	}
	if _, _, err := FindInImage([]byte("not an ELF file")); err == nil || !strings.Contains(err.Error(), "read ELF") {
		t.Errorf("not ELF: %v", err)
	}
	// Tables whose names were cut off: the token table is there, the
	// rest is not.
	b := build(testSymbols(1000, true), layout61, absolutePercpu)
	cut := b.blob[b.t.Markers-16:]
	img := buildELF(append(text, elfSection{".rodata", blobBase, cut}))
	if _, _, err := FindInImage(img); err == nil || !strings.Contains(err.Error(), "no complete kallsyms tables") {
		t.Errorf("cut tables: %v", err)
	}
	// Addresses that fall: not a table scripts/kallsyms.c wrote.
	syms := testSymbols(1000, false)
	syms[500].Addr, syms[501].Addr = syms[501].Addr, syms[500].Addr+1
	b = build(syms, layout61, absoluteAddrs)
	img = buildELF(append(text, elfSection{".rodata", blobBase, b.blob}))
	if _, _, err := FindInImage(img); err == nil || !strings.Contains(err.Error(), "addresses fall at symbol 501") {
		t.Errorf("falling addresses: %v", err)
	}
}

func TestImageRead(t *testing.T) {
	img, err := NewImage(buildELF([]elfSection{{".text", textBase, []byte("abcdefgh")}, {".rodata", blobBase, []byte("xyz")}}))
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := img.Text(); !ok || a != textBase {
		t.Errorf("Text = %#x, %v", a, ok)
	}
	buf := make([]byte, 4)
	if n, err := img.Read(textBase+2, buf); n != 4 || err != nil || string(buf) != "cdef" {
		t.Errorf("Read = %d %v %q", n, err, buf)
	}
	if n, err := img.Read(textBase+6, buf); n != 2 || err == nil {
		t.Errorf("Read past a segment = %d, %v", n, err)
	}
	if n, err := img.Read(textBase-1, buf); n != 0 || err == nil {
		t.Errorf("Read before a segment = %d, %v", n, err)
	}
}

// FuzzFindInImage damages a synthetic vmlinux's tables: FindInImage
// returns symbols or an error, never panics.
func FuzzFindInImage(f *testing.F) {
	b := build(testSymbols(600, true), layout61Seqs, absolutePercpu)
	img, _ := synthKernel(b)
	blob := uint64(bytes.Index(img, b.blob)) // the tables' file offset
	for _, at := range []uint64{b.t.NumSyms, b.t.Names, b.t.Markers, b.t.TokenTable, b.t.TokenIndex + 8, b.t.Offsets, b.t.RelativeBase} {
		f.Add(uint32(blob+at), []byte{0xff, 0x00, 0x80})
	}
	f.Add(uint32(0), []byte{0})
	f.Fuzz(func(t *testing.T, pos uint32, patch []byte) {
		img := append([]byte(nil), img...)
		copy(img[int(pos)%len(img):], patch)
		syms, _, err := FindInImage(img)
		if err == nil && len(syms) == 0 {
			t.Fatal("no symbols and no error")
		}
	})
}
