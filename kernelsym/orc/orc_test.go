package orc

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

func TestDecodeEntry(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		want Entry
		str  string
	}{
		// What objtool writes at a C function's first instruction: the
		// return address is at SP, BP untouched.
		{"function entry", []byte{8, 0, 0, 0, 0x05, 0x00}, Entry{SPOffset: 8, SPReg: RegSP, Type: TypeCall}, "type:call sp:sp+8 bp:(und) end:0"},
		{"frame pointer", []byte{16, 0, 0xf0, 0xff, 0x14, 0x00}, Entry{SPOffset: 16, BPOffset: -16, SPReg: RegBP, BPReg: RegPrevSP, Type: TypeCall}, "type:call sp:bp+16 bp:prevsp-16 end:0"},
		{"pt_regs", []byte{0, 0, 0, 0, 0x05, 0x01}, Entry{SPReg: RegSP, Type: TypeRegs}, "type:regs sp:sp+0 bp:(und) end:0"},
		{"iret frame", []byte{8, 0, 0, 0, 0x05, 0x02}, Entry{SPOffset: 8, SPReg: RegSP, Type: TypeRegsPartial}, "type:regs (partial) sp:sp+8 bp:(und) end:0"},
		// UNWIND_HINT_EMPTY: entry_SYSCALL_64's first instruction.
		{"end", []byte{0, 0, 0, 0, 0x00, 0x04}, Entry{End: true}, "type:call sp:(und) bp:(und) end:1"},
		{"terminator", []byte{0, 0, 0, 0, 0, 0}, Entry{}, "type:call sp:(und) bp:(und) end:0"},
		{"irq stack switch", []byte{0x18, 0, 0, 0, 0x09, 0x00}, Entry{SPOffset: 0x18, SPReg: RegSPIndirect, Type: TypeCall}, "type:call sp:(sp)+24 bp:(und) end:0"},
		{"drap", []byte{0, 0, 0xf0, 0xff, 0x46, 0x00}, Entry{BPOffset: -16, SPReg: RegR10, BPReg: RegBP, Type: TypeCall}, "type:call sp:r10+0 bp:bp-16 end:0"},
		{"bp indirect", []byte{0xf8, 0xff, 0, 0, 0x08, 0x00}, Entry{SPOffset: -8, SPReg: RegBPIndirect, Type: TypeCall}, "type:call sp:(bp-8) bp:(und) end:0"},
		// The five bits above end are padding in 6.1.
		{"padding ignored", []byte{8, 0, 0, 0, 0x05, 0xf8}, Entry{SPOffset: 8, SPReg: RegSP, Type: TypeCall}, "type:call sp:sp+8 bp:(und) end:0"},
		{"type 3", []byte{0, 0, 0, 0, 0x0c, 0x03}, Entry{SPReg: 12, Type: 3}, "type:type3 sp:reg12+0 bp:(und) end:0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeEntry(tc.b)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("DecodeEntry(% x) = %+v, want %+v", tc.b, got, tc.want)
			}
			if s := got.String(); s != tc.str {
				t.Errorf("String() = %q, want %q", s, tc.str)
			}
			enc := got.Encode()
			back, _ := DecodeEntry(enc[:])
			if back != got {
				t.Errorf("Encode then DecodeEntry = %+v, want %+v", back, got)
			}
		})
	}
	if _, err := DecodeEntry(make([]byte, 5)); err == nil {
		t.Error("DecodeEntry of 5 bytes: no error")
	}
}

// row is one table entry for buildTable.
type row struct {
	ip uint64
	e  Entry
}

// tableBase is where buildTable's .orc_unwind_ip is "loaded".
const tableBase = 0xffffffff82c00000

// tableBytes lays rows out as .orc_unwind_ip at tableBase and .orc_unwind.
func tableBytes(rows []row) (ip, orc []byte) {
	ip = make([]byte, 4*len(rows))
	for i, r := range rows {
		binary.LittleEndian.PutUint32(ip[4*i:], uint32(int32(int64(r.ip-(tableBase+uint64(4*i))))))
		e := r.e.Encode()
		orc = append(orc, e[:]...)
	}
	return ip, orc
}

func buildTable(t testing.TB, rows ...row) *Table {
	t.Helper()
	ip, orc := tableBytes(rows)
	tab, err := NewTable(tableBase, ip, orc)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func TestTableFind(t *testing.T) {
	call8 := Entry{SPOffset: 8, SPReg: RegSP, Type: TypeCall}
	call16 := Entry{SPOffset: 16, SPReg: RegSP, Type: TypeCall}
	term := Entry{}
	end := Entry{End: true}
	tab := buildTable(t,
		row{0xffffffff81000000, call8},
		row{0xffffffff81000004, call16},
		row{0xffffffff81000010, term}, // a section's terminator …
		row{0xffffffff81000010, end},  // … and the next section's first entry
		row{0xffffffff81000020, call8},
		row{0xffffffff81000030, term},
	)
	if tab.Len() != 6 {
		t.Fatalf("Len = %d", tab.Len())
	}
	for _, tc := range []struct {
		ip   uint64
		want Entry
		ok   bool
	}{
		{0xffffffff80ffffff, Entry{}, false},
		{0xffffffff81000000, call8, true},
		{0xffffffff81000003, call8, true},
		{0xffffffff81000004, call16, true},
		{0xffffffff8100000f, call16, true},
		{0xffffffff81000010, end, true}, // the rightmost duplicate
		{0xffffffff8100001f, end, true},
		{0xffffffff81000020, call8, true},
		{0xffffffff81000030, term, true},
		{0xffffffff81000031, Entry{}, false},
		{0, Entry{}, false},
		{^uint64(0), Entry{}, false},
	} {
		got, ok := tab.Find(tc.ip)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Find(%#x) = %v, %v; want %v, %v", tc.ip, got, ok, tc.want, tc.ok)
		}
	}
	if i, ok := tab.Index(0xffffffff81000012); !ok || i != 3 {
		t.Errorf("Index = %d, %v; want 3, true", i, ok)
	}
	if ip, e := tab.At(1); ip != 0xffffffff81000004 || e != call16 {
		t.Errorf("At(1) = %#x, %v", ip, e)
	}

	// Text restricts the table, as orc_find does to the kernel's text.
	tab.Text = []Range{{0xffffffff81000000, 0xffffffff81000010}}
	if _, ok := tab.Find(0xffffffff81000020); ok {
		t.Error("Find outside Text answered")
	}
	if e, ok := tab.Find(0xffffffff81000004); !ok || e != call16 {
		t.Errorf("Find inside Text = %v, %v", e, ok)
	}

	// A TableSet asks its tables in order.
	mod := buildTable(t, row{0xffffffffc0000000, call16}, row{0xffffffffc0000100, term})
	set := TableSet{tab, mod}
	if e, ok := set.Find(0xffffffffc0000010); !ok || e != call16 {
		t.Errorf("TableSet.Find(module ip) = %v, %v", e, ok)
	}
	if e, ok := set.Find(0xffffffff81000000); !ok || e != call8 {
		t.Errorf("TableSet.Find(kernel ip) = %v, %v", e, ok)
	}
	if _, ok := set.Find(0xffffffffa0000000); ok {
		t.Error("TableSet.Find of an unknown ip answered")
	}
}

func TestNewTableErrors(t *testing.T) {
	ip, orc := tableBytes([]row{{0xffffffff81000010, Entry{}}, {0xffffffff81000000, Entry{}}})
	for _, tc := range []struct {
		name     string
		ip, orc  []byte
		contains string
	}{
		{"empty", nil, nil, "0 entries"},
		{"ragged ip", ip[:7], orc[:6], "not whole arrays"},
		{"ragged orc", ip[:4], orc[:5], "not whole arrays"},
		{"counts", ip, orc[:6], "2 ips for 1 entries"},
		{"unsorted", ip, orc, "not sorted: entry 1 (0xffffffff81000000) is below entry 0 (0xffffffff81000010)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewTable(tableBase, tc.ip, tc.orc)
			if err == nil || !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("error %v, want one containing %q", err, tc.contains)
			}
		})
	}
}

func TestLoadTable(t *testing.T) {
	// Enough entries for several of LoadTable's chunks.
	var rows []row
	for i := range 30000 {
		rows = append(rows, row{0xffffffff81000000 + uint64(16*i), Entry{SPOffset: int16(8 * (i%4 + 1)), SPReg: RegSP}})
	}
	ip, orc := tableBytes(rows)
	const orcBase = 0xffffffff82d00000
	mem := memory{{tableBase, ip}, {orcBase, orc}}
	tab, err := LoadTable(mem.read, tableBase, orcBase, len(rows))
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() != len(rows) {
		t.Fatalf("Len = %d, want %d", tab.Len(), len(rows))
	}
	for _, i := range []int{0, 1, 16383, 16384, 29999} {
		if gotIP, e := tab.At(i); gotIP != rows[i].ip || e != rows[i].e {
			t.Errorf("At(%d) = %#x %v, want %#x %v", i, gotIP, e, rows[i].ip, rows[i].e)
		}
	}

	// A table running off mapped memory says where.
	_, err = LoadTable(mem.read, tableBase, orcBase, len(rows)+1)
	if err == nil || !strings.Contains(err.Error(), "reading .orc_unwind_ip: at 0xffffffff82c1d4c0") {
		t.Errorf("error %v", err)
	}
	failing := func(addr uint64, buf []byte) (int, error) { return 0, errors.New("page not present") }
	_, err = LoadTable(failing, tableBase, orcBase, 10)
	if err == nil || !strings.Contains(err.Error(), "page not present") {
		t.Errorf("error %v", err)
	}
	for _, n := range []int{0, -1, MaxEntries + 1} {
		if _, err := LoadTable(mem.read, tableBase, orcBase, n); err == nil {
			t.Errorf("LoadTable of %d entries: no error", n)
		}
	}
}

// memory is guest memory made of byte regions.
type memory []region

type region struct {
	base uint64
	b    []byte
}

func (m memory) read(addr uint64, buf []byte) (int, error) {
	for _, r := range m {
		if addr >= r.base && addr-r.base < uint64(len(r.b)) {
			n := copy(buf, r.b[addr-r.base:])
			if n < len(buf) {
				return n, errors.New("past the end of the region")
			}
			return n, nil
		}
	}
	return 0, errors.New("unmapped")
}
