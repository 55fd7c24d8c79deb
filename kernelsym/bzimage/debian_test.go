package bzimage_test

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"vmapstack/internal/linuxtest"
	"vmapstack/internal/testtool"
	"vmapstack/kernelsym/bzimage"
)

// debianVmlinux returns Debian's bzImage (fetched as the Linux boot tests
// fetch it) and the vmlinux in it as linuxtest.ExtractVmlinux unpacks it
// with the lz4 program. (These tests are package bzimage_test: linuxtest
// imports bzimage.)
func debianVmlinux(t *testing.T) (img, vmlinux []byte) {
	t.Helper()
	f := linuxtest.Require(t)
	testtool.Require(t, "lz4")
	img, err := os.ReadFile(f.Kernel)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "vmlinux")
	if err := linuxtest.ExtractVmlinux(f.Kernel, dst); err != nil {
		t.Fatal(err)
	}
	if vmlinux, err = os.ReadFile(dst); err != nil {
		t.Fatal(err)
	}
	return img, vmlinux
}

// TestDebianKernel unpacks Debian's kernel (LZ4) and requires the bytes
// the lz4 program gives.
func TestDebianKernel(t *testing.T) {
	img, want := debianVmlinux(t)
	start := time.Now()
	got, err := bzimage.Vmlinux(img)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d-byte bzImage to a %d-byte vmlinux in %v", len(img), len(got), time.Since(start).Round(time.Millisecond))
	if !bytes.Equal(got, want) {
		t.Fatalf("%d bytes unpacked, differing from lz4's %d", len(got), len(want))
	}
	f, err := elf.NewFile(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	if f.Section(".text") == nil || f.Section("__ksymtab") == nil {
		t.Errorf("no .text or __ksymtab section: not a kernel")
	}
}

// TestDebianKernelRecompressed packs Debian's vmlinux again as the
// kernel's build does for CONFIG_KERNEL_XZ (scripts/xz_wrap.sh, with the
// x86 BCJ filter over real kernel code) and CONFIG_KERNEL_ZSTD (zstd -22
// --ultra, a 128 MiB window), with the programs, and requires the same
// vmlinux back. The presets are lower than the build's to keep the test
// quick; the formats and filters are the same.
func TestDebianKernelRecompressed(t *testing.T) {
	_, vmlinux := debianVmlinux(t)
	for _, tc := range []struct {
		name string
		cmd  []string
	}{
		// One block, no sizes in its header, as xz -T1 (the build's) writes.
		{"xz", []string{"xz", "-T1", "--check=crc32", "--x86", "--lzma2=preset=1,dict=32MiB"}},
		// Many blocks, each with its sizes and its own BCJ state.
		{"xz-blocks", []string{"xz", "-T2", "--block-size=4MiB", "--check=crc32", "--x86", "--lzma2=preset=1,dict=1MiB"}},
		{"zstd", []string{"zstd", "-q", "-3", "--long=27", "-c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testtool.Require(t, tc.cmd[0])
			cmd := exec.Command(tc.cmd[0], tc.cmd[1:]...)
			cmd.Stdin = bytes.NewReader(vmlinux)
			c, err := cmd.Output()
			if err != nil {
				t.Fatalf("%v: %v", tc.cmd, err)
			}
			start := time.Now()
			got, err := bzimage.Vmlinux(bzimage.FakeBzImage(0, bzimage.WithSize(c, len(vmlinux))))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d compressed bytes unpacked in %v", len(c), time.Since(start).Round(time.Millisecond))
			if !bytes.Equal(got, vmlinux) {
				t.Fatalf("%d bytes unpacked, differing from the %d-byte vmlinux", len(got), len(vmlinux))
			}
		})
	}
}
