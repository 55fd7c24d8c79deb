package devices

import (
	"strings"
	"testing"
)

// recorder is a device that logs its accesses and answers port+size.
type recorder struct {
	log []string
}

func (r *recorder) In(port uint16, size int) uint32 {
	r.log = append(r.log, "in "+hex(port)+"/"+string(rune('0'+size)))
	return uint32(port&0xff) | 0xab00
}

func (r *recorder) Out(port uint16, size int, val uint32) {
	r.log = append(r.log, "out "+hex(port)+"/"+string(rune('0'+size))+"="+hex(uint16(val)))
}

func hex(v uint16) string {
	const d = "0123456789abcdef"
	return string([]byte{d[v>>12], d[v>>8&15], d[v>>4&15], d[v&15]})
}

func TestBus(t *testing.T) {
	b := NewBus()
	narrow, wide := &recorder{}, &recorder{}
	if err := b.Register(0x100, 0x101, narrow, false); err != nil {
		t.Fatal(err)
	}
	if err := b.Register(0x200, 0x203, wide, true); err != nil {
		t.Fatal(err)
	}
	if err := b.Register(0x101, 0x102, wide, true); err == nil || !strings.Contains(err.Error(), "0x101") {
		t.Errorf("overlap accepted: %v", err)
	}
	if err := b.Register(5, 4, wide, true); err == nil {
		t.Errorf("empty range accepted")
	}
	var unhandled []string
	b.Unhandled = func(port uint16, size int, write bool, val uint32) {
		unhandled = append(unhandled, hex(port))
	}
	tests := []struct {
		name       string
		in         bool
		port       uint16
		size       int
		val        uint32
		want       uint32
		narrowLog  []string
		wideLog    []string
		unhandledN int
	}{
		{"byte read", true, 0x100, 1, 0, 0x00, []string{"in 0100/1"}, nil, 0},
		{"word read split", true, 0x100, 2, 0, 0x0100, []string{"in 0100/1", "in 0101/1"}, nil, 0},
		{"word read past the end", true, 0x101, 2, 0, 0xff01, []string{"in 0101/1"}, nil, 1},
		{"wide dword read", true, 0x200, 4, 0, 0xab00, nil, []string{"in 0200/4"}, 0},
		{"unhandled read", true, 0x300, 4, 0, 0xffffffff, nil, nil, 1},
		{"unhandled byte", true, 0x300, 1, 0, 0xff, nil, nil, 1},
		{"word write split", false, 0x100, 2, 0x1234, 0, []string{"out 0100/1=0034", "out 0101/1=0012"}, nil, 0},
		{"wide write", false, 0x202, 2, 0x1234, 0, nil, []string{"out 0202/2=1234"}, 0},
		{"unhandled write", false, 0x300, 1, 7, 0, nil, nil, 1},
		{"write masked to size", false, 0x202, 1, 0x1234, 0, nil, []string{"out 0202/1=0034"}, 0},
	}
	for _, tc := range tests {
		narrow.log, wide.log, unhandled = nil, nil, nil
		var got uint32
		if tc.in {
			got = b.In(tc.port, tc.size)
		} else {
			b.Out(tc.port, tc.size, tc.val)
		}
		if tc.in && got != tc.want {
			t.Errorf("%s: read %#x, want %#x", tc.name, got, tc.want)
		}
		if strings.Join(narrow.log, ",") != strings.Join(tc.narrowLog, ",") ||
			strings.Join(wide.log, ",") != strings.Join(tc.wideLog, ",") {
			t.Errorf("%s: narrow %v wide %v, want %v %v", tc.name, narrow.log, wide.log, tc.narrowLog, tc.wideLog)
		}
		if len(unhandled) != tc.unhandledN {
			t.Errorf("%s: unhandled %v, want %d", tc.name, unhandled, tc.unhandledN)
		}
	}
}
