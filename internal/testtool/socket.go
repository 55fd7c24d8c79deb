package testtool

import (
	"os"
	"path/filepath"
	"testing"
)

// SocketPath returns a path for a unix socket in a new directory that the
// test's cleanup removes. The directory is made directly under the system's
// temporary directory: sun_path holds 108 bytes (unix(7)), which
// t.TempDir's long names can exceed. A socket in a directory of the test's
// own, unlike a TCP port found free and bound later, is one no other
// process can take in between.
func SocketPath(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "vms")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "gdb.sock")
}
