package debian

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"vmapstack/internal/testtool"
)

func TestParseKernelDepends(t *testing.T) {
	cases := []struct {
		name, out, want, err string
	}{
		{"bookworm", "linux-image-cloud-amd64\n  Depends: linux-image-6.1.0-57-cloud-amd64\n", "linux-image-6.1.0-57-cloud-amd64", ""},
		{"other relations", "linux-image-cloud-amd64\n  Depends: linux-image-6.12.9+bpo-cloud-amd64\n  Recommends: apparmor\n  Breaks: <linux-image-old>\n", "linux-image-6.12.9+bpo-cloud-amd64", ""},
		{"alternative ignored", "linux-image-cloud-amd64\n |Depends: linux-image-6.1.0-1-cloud-amd64\n  Depends: linux-image-6.1.0-2-cloud-amd64\n", "linux-image-6.1.0-2-cloud-amd64", ""},
		{"other flavour ignored", "linux-image-cloud-amd64\n  Depends: linux-image-6.1.0-57-amd64\n  Depends: linux-image-6.1.0-57-cloud-amd64\n", "linux-image-6.1.0-57-cloud-amd64", ""},
		{"unsigned variant", "linux-image-cloud-amd64\n  Depends: linux-image-6.1.0-57-cloud-amd64-unsigned\n", "", "no linux-image-*-cloud-amd64"},
		{"virtual", "linux-image-cloud-amd64\n  Depends: <linux-image-6.1.0-57-cloud-amd64>\n", "", "no linux-image"},
		{"none", "linux-image-cloud-amd64\n", "", "no linux-image"},
		{"two", "linux-image-cloud-amd64\n  Depends: linux-image-6.1.0-1-cloud-amd64\n  Depends: linux-image-6.1.0-2-cloud-amd64\n", "", "several kernel images"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseKernelDepends(tc.out, KernelMeta)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %q, %v; want an error containing %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestParseShowVersions(t *testing.T) {
	out := "Package: busybox-static\nSource: busybox (1:1.35.0-4+deb12u1)\nVersion: 1:1.35.0-4+deb12u1+b1\nInstalled-Size: 2001\n\n" +
		"Package: linux-image-6.1.0-57-cloud-amd64\nSource: linux-signed-amd64 (6.1.192+3)\nVersion: 6.1.192-3\nDescription: Linux 6.1\n Version: not a field\n\n"
	want := map[string]string{"busybox-static": "1:1.35.0-4+deb12u1+b1", "linux-image-6.1.0-57-cloud-amd64": "6.1.192-3"}
	if got := ParseShowVersions(out); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := ParseShowVersions("N: Unable to locate package nonesuch\n"); len(got) != 0 {
		t.Errorf("got %q, want nothing", got)
	}
}

func TestEntryName(t *testing.T) {
	cases := map[[2]string]string{
		{"busybox-static", "1:1.35.0-4+deb12u1+b1"}:       "busybox-static_1%3a1.35.0-4+deb12u1+b1",
		{"linux-image-6.1.0-57-cloud-amd64", "6.1.192-3"}: "linux-image-6.1.0-57-cloud-amd64_6.1.192-3",
	}
	for in, want := range cases {
		if got := EntryName(in[0], in[1]); got != want {
			t.Errorf("EntryName%q = %q, want %q", in, got, want)
		}
	}
}

func TestCacheDir(t *testing.T) {
	t.Setenv("VMAPSTACK_DEBIAN_CACHE", "/some/cache")
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	if d, err := CacheDir(); err != nil || d != "/some/cache" {
		t.Errorf("with VMAPSTACK_DEBIAN_CACHE: %q, %v", d, err)
	}
	t.Setenv("VMAPSTACK_DEBIAN_CACHE", "")
	if d, err := CacheDir(); err != nil || d != "/xdg/vmapstack/debian" {
		t.Errorf("with XDG_CACHE_HOME: %q, %v", d, err)
	}
	// The XDG spec: a relative XDG_CACHE_HOME is invalid and ignored.
	t.Setenv("XDG_CACHE_HOME", "relative")
	t.Setenv("HOME", "/home/dev")
	if d, err := CacheDir(); err != nil || d != "/home/dev/.cache/vmapstack/debian" {
		t.Errorf("with HOME only: %q, %v", d, err)
	}
	t.Setenv("HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	if d, err := CacheDir(); err != nil || d != filepath.Join(os.TempDir(), "vmapstack-debian-cache") {
		t.Errorf("with no HOME: %q, %v", d, err)
	}
}

// TestCacheLayout checks that a cache entry is found where the layout
// says, and only when complete.
func TestCacheLayout(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	const name, version = "linux-image-6.1.0-57-cloud-amd64", "1:6.1.192-3"
	if _, ok := c.Cached(name, version); ok {
		t.Fatal("empty cache has the package")
	}
	entry := filepath.Join(c.Dir, "linux-image-6.1.0-57-cloud-amd64_1%3a6.1.192-3")
	if err := os.MkdirAll(filepath.Join(entry, "root", "boot"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Cached(name, version); ok {
		t.Fatal("entry without its .deb counts as cached")
	}
	if err := os.WriteFile(filepath.Join(entry, name+".deb"), []byte("!<arch>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, ok := c.Cached(name, version)
	if !ok || p.Root != filepath.Join(entry, "root") || p.Deb != filepath.Join(entry, name+".deb") {
		t.Fatalf("Cached = %+v, %v", p, ok)
	}
	if _, _, err := FindKernel(p.Root); err == nil {
		t.Error("FindKernel found a kernel in an empty boot/")
	}
	k := filepath.Join(p.Root, "boot", "vmlinuz-6.1.0-57-cloud-amd64")
	if err := os.WriteFile(k, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if path, release, err := FindKernel(p.Root); err != nil || path != k || release != "6.1.0-57-cloud-amd64" {
		t.Errorf("FindKernel = %q, %q, %v", path, release, err)
	}
}

func TestFetchRejectsBadName(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	for _, name := range []string{"", "-o", "busybox static", "../x", "Busybox"} {
		if _, err := c.Fetch(context.Background(), name); err == nil || !strings.Contains(err.Error(), "invalid package name") {
			t.Errorf("Fetch(%q): %v", name, err)
		}
	}
	for _, v := range []string{"", "1.0/../x", "1.0 -o"} {
		if _, err := c.FetchVersion(context.Background(), Busybox, v); err == nil || !strings.Contains(err.Error(), "invalid version") {
			t.Errorf("FetchVersion(%q): %v", v, err)
		}
	}
}

// TestFetchBusybox fetches the smallest package the boot tests need, for
// real, into a fresh cache, then again to see the cache reused.
func TestFetchBusybox(t *testing.T) {
	testtool.Require(t, "apt-get")
	testtool.Require(t, "dpkg-deb")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := &Cache{Dir: t.TempDir()}
	p, err := c.Fetch(ctx, Busybox)
	if errors.Is(err, ErrUnavailable) {
		testtool.Unavailable(t, "%v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := checkELF(filepath.Join(p.Root, "bin", "busybox")); err != nil {
		t.Error(err)
	}
	fi, err := os.Stat(p.Deb)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Fetch(ctx, Busybox)
	if err != nil {
		t.Fatal(err)
	}
	fi2, err := os.Stat(again.Deb)
	if err != nil || *again != *p || !os.SameFile(fi, fi2) {
		t.Errorf("second fetch %+v, %v; want the cached %+v", again, err, p)
	}
	left, _ := filepath.Glob(filepath.Join(c.Dir, ".fetch-*"))
	if len(left) != 0 {
		t.Errorf("temporary directories left in the cache: %v", left)
	}
}
