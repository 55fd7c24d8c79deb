package testtool

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// recorder is a testing.TB that records how a test would have ended.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Skipf(format string, args ...any) {
	r.skip = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls Require in its own goroutine, since Fatalf and Skipf end it.
func run(name string) *recorder {
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Require(r, name)
	}()
	<-done
	return r
}

func TestRequire(t *testing.T) {
	const missing = "vmapstack-no-such-tool"
	t.Setenv("VMAPSTACK_REQUIRE_TOOLS", "")
	if r := run(missing); r.skip == "" || r.fatal != "" {
		t.Errorf("missing tool without VMAPSTACK_REQUIRE_TOOLS: skip %q, fatal %q; want a skip", r.skip, r.fatal)
	}
	t.Setenv("VMAPSTACK_REQUIRE_TOOLS", "1")
	if r := run(missing); r.fatal == "" || r.skip != "" {
		t.Errorf("missing tool with VMAPSTACK_REQUIRE_TOOLS=1: skip %q, fatal %q; want a failure", r.skip, r.fatal)
	}
	if r := run("sh"); r.fatal != "" || r.skip != "" {
		t.Errorf("sh is on every machine: skip %q, fatal %q", r.skip, r.fatal)
	}
}

func TestShort(t *testing.T) {
	t.Setenv("VMAPSTACK_REQUIRE_TOOLS", "1")
	if Short() {
		t.Errorf("Short() with VMAPSTACK_REQUIRE_TOOLS=1: true, want false (CI runs every test in full)")
	}
	t.Setenv("VMAPSTACK_REQUIRE_TOOLS", "")
	if Short() != testing.Short() {
		t.Errorf("Short() without VMAPSTACK_REQUIRE_TOOLS = %v, want testing.Short() = %v", Short(), testing.Short())
	}
}

// TestSocketPath: the path fits sun_path, its directory exists for the
// test and is gone after it.
func TestSocketPath(t *testing.T) {
	var path string
	t.Run("user", func(t *testing.T) {
		path = SocketPath(t)
		if len(path) >= 108 {
			t.Errorf("%s: %d bytes, sun_path holds 107 and the NUL", path, len(path))
		}
		if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
			t.Errorf("directory of %s: %v", path, err)
		}
	})
	if _, err := os.Stat(filepath.Dir(path)); !os.IsNotExist(err) {
		t.Errorf("directory of %s left after the test: %v", path, err)
	}
}
