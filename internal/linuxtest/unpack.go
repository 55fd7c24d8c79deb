package linuxtest

import (
	"os"
	"sync"
	"testing"

	"vmapstack/kernelsym/bzimage"
)

var vmlinux struct {
	sync.Mutex
	data []byte
}

// RequireVmlinux returns the vmlinux inside Debian's bzImage (Require's
// Kernel), unpacked in Go by kernelsym/bzimage and kept for the other
// tests of the process: an ELF with section headers (.text, .rodata,
// .BTF, .orc_unwind…) and no symbol table. It is GPL data of Debian's
// package: tests read it, never commit it.
func RequireVmlinux(t testing.TB) []byte {
	t.Helper()
	f := Require(t)
	vmlinux.Lock()
	defer vmlinux.Unlock()
	if vmlinux.data == nil {
		img, err := os.ReadFile(f.Kernel)
		if err != nil {
			t.Fatal(err)
		}
		if vmlinux.data, err = bzimage.Vmlinux(img); err != nil {
			t.Fatalf("unpack %s: %v", f.Kernel, err)
		}
	}
	return vmlinux.data
}
