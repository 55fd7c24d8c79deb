package testtool

import (
	"fmt"
	"os"
	"testing"
)

// Unavailable ends a test whose real peer is there but cannot serve it
// (Debian packages with no network or no package lists, say): it skips,
// unless VMAPSTACK_REQUIRE_TOOLS=1, where it fails, as Require does for a
// missing tool.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("VMAPSTACK_REQUIRE_TOOLS") == "1" {
		t.Fatalf("%s (required: VMAPSTACK_REQUIRE_TOOLS=1)", msg)
	}
	t.Skipf("%s (VMAPSTACK_REQUIRE_TOOLS=1 makes this a failure)", msg)
}
