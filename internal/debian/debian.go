// Package debian fetches Debian binary packages with the host's own apt
// and unpacks them, so that tests can boot Debian's stock kernel and
// busybox without the repository ever holding them. Packages land in a
// cache directory and are reused from there: a second run needs no
// network as long as apt still names the same version.
//
// Cache layout (see CacheDir for where it is):
//
//	<cache>/<package>_<version>/<package>.deb   the package, as apt-get download fetched it
//	<cache>/<package>_<version>/root/           its files, as dpkg-deb -x unpacked them
//
// The version's ':' (an epoch) is written "%3a", as apt names .deb files.
// A directory appears only complete: each is built under a temporary name
// and renamed into place, so concurrent fetches of the same package (two
// test binaries, a benchmark) are safe.
package debian

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// KernelMeta is the metapackage that always depends on Debian's current
// cloud kernel: small (no modules needed for a serial console and an
// initramfs), and built with CONFIG_VMAP_STACK like every Debian kernel.
const KernelMeta = "linux-image-cloud-amd64"

// Busybox is the package holding a statically linked busybox.
const Busybox = "busybox-static"

// ErrUnavailable is wrapped by the errors that mean "this host cannot
// fetch Debian packages" (no apt, no package lists, no network), as
// opposed to a package that was fetched but is not what we expect.
var ErrUnavailable = errors.New("cannot fetch Debian packages here")

// CacheDir returns where packages are cached: $VMAPSTACK_DEBIAN_CACHE,
// else $XDG_CACHE_HOME/vmapstack/debian, else ~/.cache/vmapstack/debian;
// with no home directory either (a bare CI environment), a directory
// under the system's temporary directory.
func CacheDir() (string, error) {
	if d := os.Getenv("VMAPSTACK_DEBIAN_CACHE"); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "vmapstack", "debian"), nil
	}
	if home, err := os.UserHomeDir(); err == nil && filepath.IsAbs(home) {
		return filepath.Join(home, ".cache", "vmapstack", "debian"), nil
	}
	return filepath.Join(os.TempDir(), "vmapstack-debian-cache"), nil
}

// Package is one fetched and unpacked package.
type Package struct {
	Name    string
	Version string
	Deb     string // the .deb file
	Root    string // the directory its files were unpacked into
}

// EntryName returns the cache directory name for a package version.
func EntryName(name, version string) string {
	return name + "_" + strings.ReplaceAll(version, ":", "%3a")
}

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)

// Cache fetches into and reuses a cache directory.
type Cache struct {
	Dir string
}

// Fetch returns the package name at the version apt would install now
// (its candidate), downloading and unpacking it unless the cache already
// holds it.
func (c *Cache) Fetch(ctx context.Context, name string) (*Package, error) {
	if !validName.MatchString(name) {
		return nil, fmt.Errorf("debian: invalid package name %q", name)
	}
	vs, err := CandidateVersions(ctx, name)
	if err != nil {
		return nil, err
	}
	return c.FetchVersion(ctx, name, vs[name])
}

// FetchVersion is Fetch of a version the caller already knows.
func (c *Cache) FetchVersion(ctx context.Context, name, version string) (*Package, error) {
	if !validName.MatchString(name) {
		return nil, fmt.Errorf("debian: invalid package name %q", name)
	}
	if version == "" || strings.ContainsAny(version, "/ \n") {
		return nil, fmt.Errorf("debian: invalid version %q of %s", version, name)
	}
	if p, ok := c.Cached(name, version); ok {
		return p, nil
	}
	p := c.entry(name, version)
	entry := filepath.Dir(p.Root)
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("debian: cache: %w", err)
	}
	tmp, err := os.MkdirTemp(c.Dir, ".fetch-"+name+"-")
	if err != nil {
		return nil, fmt.Errorf("debian: cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	// apt drops to the _apt user to download; a private temporary
	// directory is not writable for it. As root, say so instead of
	// letting apt warn; as any other user there is nothing to drop.
	// Options are the "-o" ones; "--" ends them.
	args := []string{"download", "-q"}
	if os.Geteuid() == 0 {
		args = append(args, "-o", "APT::Sandbox::User=root")
	}
	args = append(args, "--", name+"="+version)
	if out, err := run(ctx, tmp, "apt-get", args...); err != nil {
		return nil, fmt.Errorf("debian: apt-get download %s=%s (no network, or package lists older than the mirror: apt-get update): %w: %w\n%s", name, version, ErrUnavailable, err, out)
	}
	debs, err := filepath.Glob(filepath.Join(tmp, "*.deb"))
	if err != nil || len(debs) != 1 {
		return nil, fmt.Errorf("debian: apt-get download %s=%s left %d .deb files, want 1", name, version, len(debs))
	}
	tmpEntry := filepath.Join(tmp, "entry")
	if err := os.MkdirAll(filepath.Join(tmpEntry, "root"), 0o755); err != nil {
		return nil, fmt.Errorf("debian: cache: %w", err)
	}
	if err := os.Rename(debs[0], filepath.Join(tmpEntry, name+".deb")); err != nil {
		return nil, fmt.Errorf("debian: cache: %w", err)
	}
	if out, err := run(ctx, "", "dpkg-deb", "-x", filepath.Join(tmpEntry, name+".deb"), filepath.Join(tmpEntry, "root")); err != nil {
		return nil, fmt.Errorf("debian: dpkg-deb -x %s: %w\n%s", filepath.Base(debs[0]), err, out)
	}
	if err := os.Rename(tmpEntry, entry); err != nil {
		// Another fetch finished first: use its copy.
		if p, ok := c.Cached(name, version); ok {
			return p, nil
		}
		return nil, fmt.Errorf("debian: cache: %w", err)
	}
	return p, nil
}

// entry returns where name at version lives in the cache.
func (c *Cache) entry(name, version string) *Package {
	dir := filepath.Join(c.Dir, EntryName(name, version))
	return &Package{Name: name, Version: version, Deb: filepath.Join(dir, name+".deb"), Root: filepath.Join(dir, "root")}
}

// Cached returns name at version if the cache holds it unpacked.
func (c *Cache) Cached(name, version string) (*Package, bool) {
	p := c.entry(name, version)
	if fi, err := os.Stat(p.Root); err != nil || !fi.IsDir() {
		return nil, false
	}
	if fi, err := os.Stat(p.Deb); err != nil || !fi.Mode().IsRegular() {
		return nil, false
	}
	return p, true
}

// run runs a command and returns its combined output.
func run(ctx context.Context, dir, name string, args ...string) ([]byte, error) {
	if _, err := exec.LookPath(name); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	// apt's messages in English, whatever the user's locale: errors quote them.
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	return cmd.CombinedOutput()
}

// aptCache runs apt-cache and turns "no such package" into an error that
// says what to do.
func aptCache(ctx context.Context, args ...string) (string, error) {
	out, err := run(ctx, "", "apt-cache", args...)
	if err != nil {
		return "", fmt.Errorf("debian: apt-cache %s: %w: %w\n%s", strings.Join(args, " "), ErrUnavailable, err, out)
	}
	return string(out), nil
}

// CandidateVersions returns the versions apt would install now of the
// named packages (one apt-cache run: each costs a second of loading the
// package lists).
func CandidateVersions(ctx context.Context, names ...string) (map[string]string, error) {
	out, err := aptCache(ctx, append([]string{"show", "--no-all-versions", "--"}, names...)...)
	if err != nil {
		return nil, err
	}
	vs := ParseShowVersions(out)
	for _, n := range names {
		if vs[n] == "" {
			return nil, fmt.Errorf("debian: apt-cache show gave no version of %s (has apt-get update run?): %w", n, ErrUnavailable)
		}
	}
	return vs, nil
}

// ParseShowVersions returns the Version field of each Package record that
// `apt-cache show --no-all-versions` printed (the first, if a package
// appears twice).
func ParseShowVersions(out string) map[string]string {
	vs := map[string]string{}
	var pkg string
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if l == "" {
			pkg = ""
		} else if v, ok := strings.CutPrefix(l, "Package: "); ok {
			pkg = strings.TrimSpace(v)
		} else if v, ok := strings.CutPrefix(l, "Version: "); ok && pkg != "" && vs[pkg] == "" {
			vs[pkg] = strings.TrimSpace(v)
		}
	}
	return vs
}

// kernelImage matches the package a Debian kernel metapackage depends on:
// linux-image-<abi>-<flavour>, e.g. linux-image-6.1.0-57-cloud-amd64.
var kernelImage = regexp.MustCompile(`^linux-image-[0-9][0-9a-z.+~-]*-([a-z0-9]+-amd64)$`)

// ResolveKernel returns the versioned kernel package that the
// metapackage meta (such as KernelMeta) currently depends on.
func ResolveKernel(ctx context.Context, meta string) (string, error) {
	out, err := aptCache(ctx, "depends", "--", meta)
	if err != nil {
		return "", err
	}
	pkg, err := ParseKernelDepends(out, meta)
	if err != nil {
		return "", fmt.Errorf("debian: apt-cache depends %s: %w", meta, err)
	}
	return pkg, nil
}

// ParseKernelDepends picks, from `apt-cache depends META` output, the one
// versioned kernel image of META's flavour that META depends on:
//
//	linux-image-cloud-amd64
//	  Depends: linux-image-6.1.0-57-cloud-amd64
//
// Alternatives ("|Depends:"), virtual packages ("<...>") and other
// relations are ignored; more than one candidate is an error, not a guess.
func ParseKernelDepends(out, meta string) (string, error) {
	flavour := strings.TrimPrefix(meta, "linux-image-")
	var found []string
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		rel, pkg, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if !ok || rel != "Depends" {
			continue
		}
		pkg = strings.TrimSpace(pkg)
		if m := kernelImage.FindStringSubmatch(pkg); m != nil && m[1] == flavour && pkg != meta {
			found = append(found, pkg)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("no linux-image-*-%s dependency in %q", flavour, strings.TrimSpace(out))
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("several kernel images: %s", strings.Join(found, ", "))
}

// Linux is what a boot test needs from Debian.
type Linux struct {
	KernelPackage  *Package
	BusyboxPackage *Package
	Kernel         string // the bzImage, <root>/boot/vmlinuz-<release>
	Release        string // the kernel release, e.g. 6.1.0-57-cloud-amd64 (uname -r)
	Busybox        string // the static busybox binary
}

// FetchLinux fetches the current cloud kernel and busybox-static into c.
func (c *Cache) FetchLinux(ctx context.Context) (*Linux, error) {
	kpkg, err := ResolveKernel(ctx, KernelMeta)
	if err != nil {
		return nil, err
	}
	vs, err := CandidateVersions(ctx, kpkg, Busybox)
	if err != nil {
		return nil, err
	}
	l := &Linux{}
	if l.KernelPackage, err = c.FetchVersion(ctx, kpkg, vs[kpkg]); err != nil {
		return nil, err
	}
	if l.BusyboxPackage, err = c.FetchVersion(ctx, Busybox, vs[Busybox]); err != nil {
		return nil, err
	}
	if l.Kernel, l.Release, err = FindKernel(l.KernelPackage.Root); err != nil {
		return nil, fmt.Errorf("debian: %s: %w", kpkg, err)
	}
	l.Busybox = filepath.Join(l.BusyboxPackage.Root, "bin", "busybox")
	if err := checkELF(l.Busybox); err != nil {
		return nil, fmt.Errorf("debian: %s: %w", Busybox, err)
	}
	return l, nil
}

// FindKernel returns the one boot/vmlinuz-* under root and its release.
func FindKernel(root string) (path, release string, err error) {
	ks, err := filepath.Glob(filepath.Join(root, "boot", "vmlinuz-*"))
	if err != nil {
		return "", "", err
	}
	if len(ks) != 1 {
		return "", "", fmt.Errorf("%d boot/vmlinuz-* files in %s, want 1", len(ks), root)
	}
	return ks[0], strings.TrimPrefix(filepath.Base(ks[0]), "vmlinuz-"), nil
}

func checkELF(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var magic [4]byte
	if _, err := f.Read(magic[:]); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if !bytes.Equal(magic[:], []byte("\x7fELF")) {
		return fmt.Errorf("%s is not an ELF file", path)
	}
	return nil
}
