//go:build !(linux && amd64)

package hostdiff

import (
	"runtime"
	"testing"
)

// TestHostDiff needs an x86-64 processor to compare against and the
// Linux mmap/ABI details of native_test.go. On any other host there is
// nothing to compare with: this is not a missing tool, so the test skips
// (the encoder and emulator-only tests still run).
func TestHostDiff(t *testing.T) {
	t.Skipf("host differential test needs linux/amd64, this is %s/%s", runtime.GOOS, runtime.GOARCH)
}
