package kallsyms

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// blobBase is where the synthetic tables sit in the tests' memory.
const blobBase = 0xffffffff82000000

func TestDecodeModes(t *testing.T) {
	for _, c := range []struct {
		name   string
		percpu bool
		addr   addressing
		lay    layout
		mode   PercpuMode // what Decode should infer
	}{
		{"absolute addresses", false, absoluteAddrs, layout61, PercpuAuto},
		{"absolute addresses with per-CPU values", true, absoluteAddrs, layout61, PercpuAuto},
		{"base-relative", false, baseRelative, layout61, PercpuRelative},
		{"base-relative, absolute per-CPU", true, absolutePercpu, layout61, PercpuAbsolute},
		{"base-relative, absolute per-CPU, seqs", true, absolutePercpu, layout61Seqs, PercpuAbsolute},
		{"Linux 6.4 order", true, absolutePercpu, layout64, PercpuAbsolute},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := testSymbols(700, c.percpu)
			b := build(want, c.lay, c.addr)
			tables := b.at(blobBase)
			for _, withMarkers := range []bool{false, true} {
				tt := tables
				if !withMarkers {
					tt.Markers = 0
				}
				tt.Stext = textBase
				got, mode, err := decode(readerOf(b.blob, blobBase), tt)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("decoded %d symbols, differing from the %d written (first %v)", len(got), len(want), firstDiff(got, want))
				}
				if mode != c.mode {
					t.Errorf("mode %v, want %v", mode, c.mode)
				}
			}
			// The mode given explicitly gives the same.
			if c.mode != PercpuAuto {
				tt := tables
				tt.Percpu = c.mode
				if got, err := Decode(readerOf(b.blob, blobBase), tt); err != nil || !reflect.DeepEqual(got, want) {
					t.Errorf("with Percpu %v: %v", c.mode, err)
				}
			}
		})
	}
}

func firstDiff(got, want []Symbol) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("#%d: %+v, want %+v", i, got[i], want[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(got), len(want))
}

// TestDecodeBigLength: a name whose compressed form is longer than 0x7f
// bytes takes the two-byte length (Linux ≥ 6.1).
func TestDecodeBigLength(t *testing.T) {
	syms := testSymbols(300, false)
	long := "rust_" + strings.Repeat("0123456789", 30) // 305 one-character tokens at most
	syms[100].Name = long
	b := build(syms, layout61, baseRelative)
	n := int(b.t.Names)
	found := false
	for i := n; i < n+int(b.t.Markers-b.t.Names)-1; i++ {
		if b.blob[i]&0x80 != 0 && b.blob[i+1] > 0 && b.blob[i+1] < 4 {
			found = true
		}
	}
	if !found {
		t.Fatal("the builder wrote no two-byte length")
	}
	got, err := Decode(readerOf(b.blob, blobBase), b.at(blobBase))
	if err != nil {
		t.Fatal(err)
	}
	if got[100].Name != long || !reflect.DeepEqual(got, syms) {
		t.Errorf("symbol 100 is %q", got[100].Name)
	}
}

// TestDecodeStextChoosesMode: a base-relative table whose offsets reach
// past 2 GiB looks like ABSOLUTE_PERCPU by its signs; _stext decides.
func TestDecodeStextChoosesMode(t *testing.T) {
	const stext = textBase - 0x80000000
	syms := testSymbols(300, false)
	for i := range syms {
		syms[i].Addr -= textBase - stext
	}
	syms[len(syms)-1].Addr = stext + 0x90000000
	b := build(syms, layout61, baseRelative)
	tt := b.at(blobBase)
	if _, err := Decode(readerOf(b.blob, blobBase), tt); err != nil {
		t.Fatalf("without _stext the sign rule alone: %v", err) // wrong, but no error
	}
	tt.Stext = stext
	got, mode, err := decode(readerOf(b.blob, blobBase), tt)
	if err != nil || mode != PercpuRelative || !reflect.DeepEqual(got, syms) {
		t.Errorf("with _stext: mode %v, %v", mode, err)
	}
	tt.Stext = stext + 0x1000
	if _, err := Decode(readerOf(b.blob, blobBase), tt); err == nil || !strings.Contains(err.Error(), "want 0xffffffff01001000") {
		t.Errorf("a wrong _stext: %v", err)
	}
}

// TestDecodeCorrupt: corrupt tables and failing reads are errors that
// say where, never panics.
func TestDecodeCorrupt(t *testing.T) {
	syms := testSymbols(600, true)
	good := build(syms, layout61, absolutePercpu)
	le := binary.LittleEndian
	for _, c := range []struct {
		name   string
		mutate func(blob []byte, t *Tables)
		want   string
	}{
		{"no symbols", func(b []byte, t *Tables) { le.PutUint32(b[t.NumSyms:], 0) }, "kallsyms_num_syms at 0xffffffff82"},
		{"too many symbols", func(b []byte, t *Tables) { le.PutUint32(b[t.NumSyms:], MaxSymbols+1) }, "not in 1..4194304"},
		{"more symbols than names", func(b []byte, t *Tables) { le.PutUint32(b[t.NumSyms:], 100000) }, "symbol 600"},
		{"zero length", func(b []byte, t *Tables) { b[t.Names] = 0 }, "symbol 0 at 0xffffffff82"},
		{"three-byte length", func(b []byte, t *Tables) { b[t.Names] = 0x81; b[t.Names+1] = 0x80 }, "more than two bytes"},
		{"a length past the tables", func(b []byte, t *Tables) {
			le.PutUint32(b[t.NumSyms:], 599)
			b[t.Names] = 0xff
			b[t.Names+1] = 0x7f
		}, "symbol 0 (16383 bytes)"},
		{"markers", func(b []byte, t *Tables) { le.PutUint32(b[t.Markers+4:], 77) }, "kallsyms_markers[1] says 77"},
		{"token index past the table", func(b []byte, t *Tables) {
			le.PutUint16(b[t.TokenIndex+2*200:], 0xfff0)
		}, "read kallsyms_token_table"},
		{"a token without its NUL", func(b []byte, t *Tables) {
			for i := range 600 {
				b[t.TokenTable+uint64(i)] = 'x'
			}
		}, "has no NUL within 512 bytes"},
		{"a name too long", func(b []byte, t *Tables) {
			tokens, _ := tokenizer(syms)
			longest := 0
			for i, tok := range tokens {
				if len(tok) > len(tokens[longest]) {
					longest = i
				}
			}
			b[t.Names] = 0x7f
			for i := range 0x7f {
				b[t.Names+1+uint64(i)] = byte(longest)
			}
		}, "expands to more than 512 bytes"},
		{"an empty expansion", func(b []byte, t *Tables) { b[t.Names] = 1; b[t.Names+1] = 250 }, `expands to "": no type and name`},
		{"no relative base", func(b []byte, t *Tables) { t.RelativeBase = 0 }, "without kallsyms_relative_base"},
		{"no address table", func(b []byte, t *Tables) { t.Offsets = 0 }, "neither kallsyms_offsets nor kallsyms_addresses"},
		{"no names", func(b []byte, t *Tables) { t.Names = 0 }, "tables incomplete"},
		{"num_syms unreadable", func(b []byte, t *Tables) { t.NumSyms = 1 }, "read kallsyms_num_syms: at 0x1"},
		{"token index unreadable", func(b []byte, t *Tables) { t.TokenIndex = 16 }, "read kallsyms_token_index"},
		{"names unreadable", func(b []byte, t *Tables) { t.Names = uint64(len(b)) - 3 }, "read kallsyms_names at"},
		{"relative base unreadable", func(b []byte, t *Tables) { t.RelativeBase = 8 }, "read kallsyms_relative_base"},
		{"markers unreadable", func(b []byte, t *Tables) { t.Markers = 8 }, "read kallsyms_markers"},
		{"wrong percpu mode", func(b []byte, t *Tables) { t.Percpu = PercpuRelative; t.Stext = textBase }, "read as relative from relative base"},
	} {
		t.Run(c.name, func(t *testing.T) {
			blob := append([]byte(nil), good.blob...)
			tt := good.t
			c.mutate(blob, &tt)
			// Offsets in the blob (all from 64) become addresses,
			// except the small ones the cases set to point outside it.
			for _, p := range []*uint64{&tt.NumSyms, &tt.Names, &tt.Markers, &tt.TokenTable, &tt.TokenIndex, &tt.Offsets, &tt.RelativeBase, &tt.Addresses} {
				if *p >= 64 {
					*p += blobBase
				}
			}
			_, err := Decode(readerOf(blob, blobBase), tt)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestDecodeReaders: readers that return short counts without an error
// are read on; counts outside the buffer and no progress are errors.
func TestDecodeReaders(t *testing.T) {
	syms := testSymbols(400, true)
	b := build(syms, layout61, absolutePercpu)
	whole := readerOf(b.blob, blobBase)
	dribble := func(addr uint64, buf []byte) (int, error) { return whole(addr, buf[:min(len(buf), 7)]) }
	got, err := Decode(dribble, b.at(blobBase))
	if err != nil || !reflect.DeepEqual(got, syms) {
		t.Errorf("a reader of 7 bytes at a time: %v", err)
	}
	for name, r := range map[string]ReadFunc{
		"too many": func(addr uint64, buf []byte) (int, error) { return len(buf) + 1, nil },
		"negative": func(addr uint64, buf []byte) (int, error) { return -1, nil },
		"nothing":  func(addr uint64, buf []byte) (int, error) { return 0, nil },
	} {
		if _, err := Decode(r, b.at(blobBase)); err == nil {
			t.Errorf("a reader returning %s: no error", name)
		} else if name == "nothing" && !errors.Is(err, errNoProgress) {
			t.Errorf("a reader returning nothing: %v", err)
		}
	}
}

func TestTablesFrom(t *testing.T) {
	vm := map[string]uint64{
		"kallsyms_names": 1, "kallsyms_num_syms": 2, "kallsyms_token_table": 3, "kallsyms_token_index": 4,
		"kallsyms_offsets": 5, "kallsyms_relative_base": 6, "_stext": 7,
	}
	lookup := func(name string) (uint64, bool) { v, ok := vm[name]; return v, ok }
	got, err := TablesFrom(lookup)
	want := Tables{Names: 1, NumSyms: 2, TokenTable: 3, TokenIndex: 4, Offsets: 5, RelativeBase: 6, Stext: 7}
	if err != nil || got != want {
		t.Errorf("TablesFrom = %+v, %v", got, err)
	}
	delete(vm, "kallsyms_relative_base")
	delete(vm, "kallsyms_names")
	if _, err := TablesFrom(lookup); err == nil || !strings.Contains(err.Error(), "[kallsyms_names kallsyms_relative_base]") {
		t.Errorf("missing tables: %v", err)
	}
	vm["kallsyms_names"], vm["kallsyms_addresses"] = 1, 9
	if got, err := TablesFrom(lookup); err != nil || got.Addresses != 9 || got.Offsets != 0 {
		t.Errorf("absolute addresses: %+v, %v", got, err)
	}
}

func TestSizes(t *testing.T) {
	syms := []Symbol{
		{"pcpu_a", 0x0, 'A'},
		{"pcpu_b", 0x40, 'A'},
		{"_text", 0x1000, 'T'},
		{"startup_64", 0x1000, 'T'},
		{"f", 0x1010, 't'},
		{"pcpu_c", 0x100, 'A'}, // out of order on purpose: SortByAddr
		{"g", 0x1080, 'T'},
		{"far", 0x900000, 'D'},
	}
	SortByAddr(syms)
	names := []string{}
	for _, s := range syms {
		names = append(names, s.Name)
	}
	if strings.Join(names, " ") != "pcpu_a pcpu_b pcpu_c _text startup_64 f g far" {
		t.Fatalf("sorted: %v", names)
	}
	got := Sizes(syms, 0x10000)
	want := []uint64{0x40, 0xc0, 0, 0x10, 0x10, 0x70, 0, 0}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Sizes = %#x, want %#x", got, want)
	}
	if !syms[3].Text() || syms[7].Text() || !syms[0].Absolute() || syms[3].Absolute() {
		t.Error("Text/Absolute wrong")
	}
}

func TestPercpuModeString(t *testing.T) {
	for m, want := range map[PercpuMode]string{PercpuAuto: "auto", PercpuAbsolute: "absolute per-CPU", PercpuRelative: "relative", 7: "PercpuMode(7)"} {
		if m.String() != want {
			t.Errorf("%d: %q", int(m), m.String())
		}
	}
}

// FuzzDecode decodes a valid table with bytes overwritten: whatever the
// damage, Decode returns symbols or an error.
func FuzzDecode(f *testing.F) {
	good := build(testSymbols(300, true), layout61, absolutePercpu)
	f.Add(uint16(0), []byte{0})
	f.Add(uint16(good.t.Names), []byte{0x81, 0x05})
	f.Add(uint16(good.t.TokenIndex+10), []byte{0xff, 0xff})
	f.Add(uint16(good.t.NumSyms), []byte{0xff, 0xff, 0xff, 0x00})
	f.Add(uint16(good.t.Offsets+8), []byte{0x00, 0x00, 0x00, 0x80})
	f.Fuzz(func(t *testing.T, at uint16, patch []byte) {
		blob := append([]byte(nil), good.blob...)
		copy(blob[int(at)%len(blob):], patch)
		tt := good.at(blobBase)
		tt.Stext = textBase
		syms, err := Decode(readerOf(blob, blobBase), tt)
		if err == nil && len(syms) == 0 {
			t.Fatal("no symbols and no error")
		}
	})
}
