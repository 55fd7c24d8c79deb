package dwarfcfi_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"vmapstack/internal/testtool"
	"vmapstack/kernelsym/dwarfcfi"
)

// TestToolchainCFIMatchesReadelf builds testdata/cfi.S, CFI in the
// forms gas writes (personality and LSDA, signal frame, remember and
// restore, register, same value, val_offset, expressions, the long
// advances), into .eh_frame and into .debug_frame, and compares every
// row with readelf's.
func TestToolchainCFIMatchesReadelf(t *testing.T) {
	gcc := testtool.Require(t, "gcc")
	testtool.Require(t, "readelf")
	src, err := os.ReadFile("testdata/cfi.S")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, v := range []struct {
		name, section, prefix string
	}{
		{"eh_frame", ".eh_frame", ""},
		{"debug_frame", ".debug_frame", "\t.cfi_sections .debug_frame\n"},
	} {
		t.Run(v.name, func(t *testing.T) {
			s, exe := filepath.Join(dir, v.name+".S"), filepath.Join(dir, v.name)
			if err := os.WriteFile(s, append([]byte(v.prefix), src...), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(gcc, "-nostdlib", "-static", "-no-pie", "-Wl,--build-id=none", "-o", exe, s).CombinedOutput(); err != nil {
				t.Fatalf("gcc: %v\n%s", err, out)
			}
			image, err := os.ReadFile(exe)
			if err != nil {
				t.Fatal(err)
			}
			tab, err := dwarfcfi.Load(image)
			if err != nil {
				t.Fatal(err)
			}
			signal := 0
			for _, f := range tab.FDEs() {
				if f.CIE.Section != v.section {
					t.Errorf("%v: from %s", f, f.CIE.Section)
				}
				if f.CIE.Signal {
					signal++
				}
			}
			if n := len(tab.FDEs()); n != 5 || signal != 1 {
				t.Errorf("%d FDEs, %d of them signal frames; want 5 and 1", n, signal)
			}
			compareReadelf(t, exe, tab)
		})
	}
}
