package boot

import (
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
