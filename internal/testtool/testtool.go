// Package testtool holds what every package's tests share about the real
// peers they drive (gdb, lldb, QEMU, gcc, as): whether one is there, and
// what to do when it is not.
package testtool

import (
	"os"
	"os/exec"
	"testing"
)

// Require returns the path of the external tool name. When it is missing
// the test skips, unless VMAPSTACK_REQUIRE_TOOLS=1 (CI sets it), where a
// missing tool fails the test: a test skipped in CI is a test we do not
// have.
func Require(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("VMAPSTACK_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s is required (VMAPSTACK_REQUIRE_TOOLS=1) but not found: %v", name, err)
		}
		t.Skipf("%s not found (VMAPSTACK_REQUIRE_TOOLS=1 makes this a failure): %v", name, err)
	}
	return p
}

// Short is testing.Short unless VMAPSTACK_REQUIRE_TOOLS=1: CI runs every
// test in full even if -short is passed, since a test skipped in CI is a
// test we do not have.
func Short() bool {
	return testing.Short() && os.Getenv("VMAPSTACK_REQUIRE_TOOLS") != "1"
}
