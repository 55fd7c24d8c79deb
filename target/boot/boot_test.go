package boot

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"vmapstack/target/cpu"
	"vmapstack/target/x86"
)

type fakeLoader struct {
	name  string
	magic string
}

func (l fakeLoader) Name() string        { return l.name }
func (l fakeLoader) Probe(k []byte) bool { return strings.HasPrefix(string(k), l.magic) }
func (l fakeLoader) Load(ram []byte, f Files) (*Image, error) {
	if len(f.Kernel) < 3 {
		return nil, errors.New(f.KernelName + ": truncated")
	}
	return &Image{Protocol: l.name, EntryState: func(s cpu.State) cpu.State { return s }}, nil
}

func TestLoadProbes(t *testing.T) {
	loaders := []Loader{fakeLoader{"A", "AA"}, fakeLoader{"B", "B"}}
	for _, tc := range []struct {
		kernel, want, err string
	}{
		{"AAx", "A", ""},
		{"Bxx", "B", ""},
		{"BAA", "B", ""},
		{"AA", "", "k: truncated"},
		{"zzz", "", "k: not a kernel this machine can boot (want A or B)"},
	} {
		img, err := Load(nil, Files{Kernel: []byte(tc.kernel), KernelName: "k"}, loaders...)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: error %v, want %q", tc.kernel, err, tc.err)
			}
			continue
		}
		if err != nil || img.Protocol != tc.want {
			t.Errorf("%q: loaded by %v (%v), want %s", tc.kernel, img, err, tc.want)
		}
	}
}

// TestFirmwareMSRs: SeaBIOS' MTRR setup for a 256 MiB pc machine with
// qemu64's 40 physical address bits.
func TestFirmwareMSRs(t *testing.T) {
	m := FirmwareMSRs(256<<20, 40)
	want := map[uint32]uint64{
		x86.MSRMTRRDefType:        0xc06,
		x86.MSRMTRRFix64K:         0x0606060606060606,
		x86.MSRMTRRFix16K80000:    0x0606060606060606,
		x86.MSRMTRRFix16KA0000:    0,
		x86.MSRMTRRFix4KC0000:     0x0505050505050505,
		x86.MSRMTRRFix4KC0000 + 7: 0x0505050505050505,
		x86.MSRMTRRPhysBase0:      0xe0000000,
		x86.MSRMTRRPhysBase0 + 1:  0xffe0000800,
		x86.MSRMTRRPhysBase0 + 2:  0,
		x86.MSRMTRRPhysBase0 + 15: 0,
	}
	for n, v := range want {
		if got, ok := m[n]; !ok || got != v {
			t.Errorf("MSR %#x = %#x (set: %v), want %#x", n, got, ok, v)
		}
	}
	if len(m) != 3+8+16+1 {
		t.Errorf("%d MSRs, want the 28 MTRRs", len(m))
	}
}

// TestSMBIOS reads the tables back the way Linux's dmi_scan does: the
// entry point on a 16-byte boundary of the BIOS area with both checksums
// right, then the structures, each formatted part and its strings.
func TestSMBIOS(t *testing.T) {
	ram := make([]byte, 2<<20)
	WriteSMBIOS(ram)
	var ep []byte
	for a := 0xf0000; a < 0x100000; a += 16 {
		if string(ram[a:a+4]) == "_SM_" {
			ep = ram[a : a+0x1f]
			break
		}
	}
	if ep == nil {
		t.Fatal("no _SM_ entry point in 0xf0000-0xfffff")
	}
	if checksum(ep) != 0 || checksum(ep[0x10:]) != 0 || string(ep[0x10:0x15]) != "_DMI_" || ep[6] != 2 || ep[7] != 8 {
		t.Fatalf("entry point % x", ep)
	}
	le := binary.LittleEndian
	table := ram[le.Uint32(ep[0x18:]):][:le.Uint16(ep[0x16:])]
	var types []byte
	strs := map[byte][]string{}
	for i := 0; i < len(table); {
		typ, k := table[i], i+int(table[i+1])
		types = append(types, typ)
		if table[k] == 0 && table[k+1] == 0 { // no strings
			i = k + 2
			continue
		}
		for table[k] != 0 {
			e := k
			for table[e] != 0 {
				e++
			}
			strs[typ] = append(strs[typ], string(table[k:e]))
			k = e + 1
		}
		i = k + 1
	}
	if string(types) != "\x00\x01\x7f" || int(le.Uint16(ep[0x1c:])) != len(types) {
		t.Errorf("structure types % x (count %d)", types, le.Uint16(ep[0x1c:]))
	}
	if got := strings.Join(strs[0], "|"); got != smbiosVendor+"|"+smbiosBIOS+"|"+smbiosDate {
		t.Errorf("BIOS strings %q", got)
	}
	if got := strings.Join(strs[1], "|"); got != smbiosVendor+"|"+smbiosProduct {
		t.Errorf("system strings %q", got)
	}
}
