package kernelimg_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

func fmtSscan(s string, v *uint64) (int, error) {
	return fmt.Sscanf(strings.TrimSpace(s), "0x%x", v)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkToolVersions skips the reproducibility check when this machine's
// compiler or assembler is not the one that built the committed image
// (recorded in .comment and in the assembler's DW_AT_producer): another
// version legitimately emits other bytes.
func checkToolVersions(t *testing.T) {
	t.Helper()
	f := openELF(t)
	var comment []byte
	if s := f.Section(".comment"); s != nil {
		comment, _ = s.Data()
	}
	gccOut, err := exec.Command("gcc", "--version").Output()
	if err != nil {
		t.Fatalf("gcc --version: %v", err)
	}
	// "gcc (Debian 12.2.0-14+deb12u1) 12.2.0" vs "GCC: (Debian 12.2.0-14+deb12u1) 12.2.0"
	first, _, _ := strings.Cut(string(gccOut), "\n")
	if i := strings.Index(first, "("); i >= 0 {
		first = first[i:]
	}
	if !bytes.Contains(comment, []byte("GCC: "+first)) {
		skipUnlessRequired(t, "committed kernel.elf was built by %q, this machine has gcc %q", bytes.Trim(comment, "\x00"), first)
	}
	asOut, err := exec.Command("as", "--version").Output()
	if err != nil {
		t.Fatalf("as --version: %v", err)
	}
	m := regexp.MustCompile(`(\d+\.\d+(\.\d+)?)\s*$`).FindStringSubmatch(strings.SplitN(string(asOut), "\n", 2)[0])
	if m == nil {
		skipUnlessRequired(t, "cannot read the assembler version from %q", asOut)
	}
	var dbgStr []byte
	if s := f.Section(".debug_str"); s != nil {
		dbgStr, _ = s.Data()
	}
	if !bytes.Contains(dbgStr, []byte("GNU AS "+m[1]+"\x00")) {
		skipUnlessRequired(t, "committed kernel.elf was assembled by another GNU as than %s", m[1])
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// skipUnlessRequired skips a reproducibility check that cannot be made with
// this machine's toolchain (another gcc or as emits other bytes), except in
// CI (VMAPSTACK_REQUIRE_TOOLS=1), whose toolchain is the one the committed
// image must come from: there the mismatch fails.
func skipUnlessRequired(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("VMAPSTACK_REQUIRE_TOOLS") == "1" {
		t.Fatalf(format+" (VMAPSTACK_REQUIRE_TOOLS=1: rebuild with make -C kernelimg using this toolchain)", args...)
	}
	t.Skipf(format, args...)
}
