// Package linuxtest is the test support for booting Debian's stock Linux
// kernel: the workload the kernel runs as /init (init.sh), the initramfs
// that carries it with Debian's static busybox, the lines that workload
// must print (computed here in Go), the QEMU command line the boot is
// compared with, and the kernel-log normalisation and documented list of
// lines allowed to differ between QEMU and our machine. The integration
// tests and scripts/bench/linux-boot.sh share it; nothing in the stub
// imports it.
package linuxtest

import (
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	_ "embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math"
	"regexp"
	"strings"

	"vmapstack/internal/initramfs"
)

// InitScript is /init: busybox sh runs the workload, prints it between
// the markers, dumps the kernel log and reboots.
//
//go:embed init.sh
var InitScript string

// ShellInitScript is the /init of ShellInitramfs: an interactive busybox
// shell on the console, announced by ShellReady.
//
//go:embed shell.sh
var ShellInitScript string

// ShellReady is the line ShellInitScript prints before it starts the shell.
const ShellReady = "=== vmapstack shell ready"

// The marker lines around the workload's output and the kernel log dump.
const (
	WorkloadBegin = "=== vmapstack workload begin"
	WorkloadEnd   = "=== vmapstack workload end"
	DmesgBegin    = "=== vmapstack dmesg begin"
	DmesgEnd      = "=== vmapstack dmesg end"
)

// Append is the kernel command line of every boot: the serial console,
// no ACPI (our machine has none; QEMU's would change the boot), and a
// panic reboots at once, which -no-reboot turns into an exit.
const Append = "console=ttyS0 acpi=off panic=-1"

// MemoryMiB is the guest RAM of every boot.
const MemoryMiB = 256

// Applets are the busybox applets the workload calls by name, linked in
// /bin (the shell's builtins are linked too, for `busybox sh -c` users).
var Applets = []string{
	"[", "awk", "cat", "dmesg", "echo", "grep", "gunzip", "gzip", "md5sum",
	"mount", "printf", "reboot", "sed", "seq", "sh", "sha1sum", "sha256sum",
	"sha512sum", "test", "tr", "uname", "wc", "xargs",
}

// GoPayload is the uncompressed content of /data/go.gz: text that Go's
// compress/gzip deflates and busybox's gunzip must inflate.
func GoPayload() []byte {
	var b bytes.Buffer
	x := uint64(0x9e3779b97f4a7c15)
	words := []string{"stack", "guard", "page", "vmalloc", "fault", "double", "task", "frame", "cr2", "ist"}
	for i := 0; i < 8000; i++ {
		x = x*6364136223846793005 + 1442695040888963407
		fmt.Fprintf(&b, "%s-%d", words[x>>60%10], x>>48&0xff)
		if i%12 == 11 {
			b.WriteByte('\n')
		} else {
			b.WriteByte(' ')
		}
	}
	return b.Bytes()
}

// Initramfs returns the gzipped newc archive the boots use: busybox (the
// contents of Debian's busybox-static /bin/busybox) in /bin with the
// applets linked, the console and null devices, the workload as /init
// and its data.
func Initramfs(busybox []byte) ([]byte, error) {
	return initramfsWith(busybox, InitScript)
}

// ShellInitramfs is Initramfs with ShellInitScript as /init.
func ShellInitramfs(busybox []byte) ([]byte, error) {
	return initramfsWith(busybox, ShellInitScript)
}

// initramfsWith returns Initramfs's archive with init as /init and the
// extra entries added.
func initramfsWith(busybox []byte, init string, extra ...initramfs.Entry) ([]byte, error) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz) // no name, no time: the same bytes every time
	if _, err := zw.Write(GoPayload()); err != nil {
		return nil, fmt.Errorf("linuxtest: gzip payload: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("linuxtest: gzip payload: %w", err)
	}
	es := []initramfs.Entry{
		{Name: "bin", Type: initramfs.TypeDir, Perm: 0o755},
		{Name: "bin/busybox", Type: initramfs.TypeRegular, Perm: 0o755, Data: busybox},
	}
	for _, a := range Applets {
		es = append(es, initramfs.Entry{Name: "bin/" + a, Type: initramfs.TypeSymlink, Perm: 0o777, Linkname: "busybox"})
	}
	es = append(es,
		initramfs.Entry{Name: "data", Type: initramfs.TypeDir, Perm: 0o755},
		initramfs.Entry{Name: "data/go.gz", Type: initramfs.TypeRegular, Perm: 0o644, Data: gz.Bytes()},
		initramfs.Entry{Name: "dev", Type: initramfs.TypeDir, Perm: 0o755},
		// The kernel opens /dev/console for init's stdin/stdout/stderr
		// (console_on_rootfs); without it init runs with no output.
		initramfs.Entry{Name: "dev/console", Type: initramfs.TypeCharDev, Perm: 0o600, Major: 5, Minor: 1},
		initramfs.Entry{Name: "dev/null", Type: initramfs.TypeCharDev, Perm: 0o666, Major: 1, Minor: 3},
		initramfs.Entry{Name: "init", Type: initramfs.TypeRegular, Perm: 0o755, Data: []byte(init)},
		initramfs.Entry{Name: "proc", Type: initramfs.TypeDir, Perm: 0o555},
		initramfs.Entry{Name: "tmp", Type: initramfs.TypeDir, Perm: 0o777 | fs.ModeSticky},
	)
	es = append(es, extra...)
	b, err := initramfs.Archive(es, true)
	if err != nil {
		return nil, fmt.Errorf("linuxtest: initramfs: %w", err)
	}
	return b, nil
}

// Line is one expected line of the workload: exact text, or a pattern
// where the value is deterministic but not computable here (the size of
// busybox's gzip output, the kernel's MemTotal); the byte-for-byte
// comparison with QEMU covers those.
type Line struct {
	Text string
	Re   *regexp.Regexp
}

func (l Line) String() string {
	if l.Re != nil {
		return "/" + l.Re.String() + "/"
	}
	return l.Text
}

func (l Line) match(s string) bool {
	if l.Re != nil {
		return l.Re.MatchString(s)
	}
	return l.Text == s
}

// cg formats x as C's printf "%g" does (precision 6; Go's %g without a
// precision means "shortest", which C's never does).
func cg(x float64) string { return fmt.Sprintf("%.6g", x) }

// awkNum formats x as busybox awk's print does: an integral value as an
// integer, anything else with OFMT ("%.6g").
func awkNum(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
		return fmt.Sprintf("%d", int64(x))
	}
	return cg(x)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// WorkloadData is /tmp/data as gendata in init.sh writes it.
func WorkloadData() []byte {
	var b bytes.Buffer
	for i := int64(0); i < 3000; i++ {
		fmt.Fprintf(&b, "vmapstack line %d %d %d\n", i, (i*i)%9973, (i<<3)^0x5a5a)
	}
	return b.Bytes()
}

// floatLines computes the float section as IEEE doubles, in the order of
// operations awk uses. Operands are variables, never Go constants (whose
// arithmetic is exact), and every product is converted explicitly so that
// no compiler may fuse a multiply and an add.
func floatLines() []string {
	var out []string
	p := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	one, three, seven, tenth := 1.0, 3.0, 7.0, 0.1
	s := 0.0
	for i := 1; i <= 1000; i++ {
		s += tenth
	}
	p("sum 0.1 x1000: %.17g", s)
	h := 0.0
	for i := 1; i <= 2000; i++ {
		h += one / float64(i)
	}
	p("harmonic 2000: %.17g %e %f", h, h, h)
	prod := 1.0
	for i := 1; i <= 25; i++ {
		prod = float64(prod * (float64(i) + 0.5))
	}
	p("product: %.17g %e", prod, prod)
	q := 1.0
	for i := 0; i < 60; i++ {
		q /= three
	}
	p("third^60: %.17g %e", q, q)
	tiny, e10 := 1e-300, 1e10
	d := tiny / e10
	p("subnormal: %.17g %e %s", d, d, cg(float64(d*e10)))
	two, twentytwo := 2.0, 22.0
	p("div: %.17g %.17g %.17g %.17g", one/three, two/three, twentytwo/seven, -one/seven)
	p("fmt: %f %.3f %10.4f %-12.5e| %s %s %.0f %.0f %.0f", 3.14159265358979, 2.0005, -1.5, 12345.678, cg(0.0001), strings.ToUpper(cg(1e20)), 0.5, 1.5, 2.5)
	x := 1.0
	for i := 0; i < 50; i++ {
		x = float64(x*1.1) - 0.05
	}
	p("recurrence: %.17g", x)
	i32, u32, e300, e8 := 2147483647.0, 4294967296.0, 1e300, 1e8
	p("big: %.17g %.17g", float64(i32*u32), float64(e300*e8))
	a, b, c := 0.1, 0.2, 0.3
	p("compare: %d %d %d", b2i(a+b == c), b2i(a+b > c), b2i(float64(one/three*three) == one))
	e9 := 1e9
	p("int: %d %d %d", 7, -7, int(math.Trunc(e9/seven)))
	hundred, eight, e6 := 100.0, 8.0, 1e6
	p("print: %s %s %s %s", awkNum(a+b), awkNum(one/three), awkNum(float64(e6*e6)), awkNum(hundred/eight))
	f1, f2, f3 := 1.5, 2.25, -3.125
	p("fields: %.17g %.17g", float64(float64(f1*f2)*f3), f1/f3)
	cs, ct, milli := 0.0, 0.0, 0.001
	for i := 1; i <= 1000; i++ {
		v := float64(i)
		cs += v / seven
		ct += float64(float64(v*v) * milli)
	}
	p("column: %.17g %.17g", cs, ct)
	return out
}

func hexsum(h []byte) string { return hex.EncodeToString(h) }

// Expected returns the lines the workload prints between WorkloadBegin
// and WorkloadEnd when booted with Append on the kernel of release (uname
// -r), on a CPU that is QEMU's qemu64 model.
func Expected(release string) []Line {
	var ls []Line
	add := func(texts ...string) {
		for _, t := range texts {
			ls = append(ls, Line{Text: t})
		}
	}
	re := func(pattern string) { ls = append(ls, Line{Re: regexp.MustCompile("^" + pattern + "$")}) }

	add("--- float")
	add(floatLines()...)

	data := WorkloadData()
	md5d := md5.Sum(data)
	sha1d := sha1.Sum(data)
	sha256d := sha256.Sum256(data)
	sha512d := sha512.Sum512(data)
	add("--- hash",
		fmt.Sprintf("bytes: %d", len(data)),
		hexsum(md5d[:])+"  /tmp/data",
		hexsum(sha1d[:])+"  /tmp/data",
		hexsum(sha256d[:])+"  /tmp/data",
		hexsum(sha512d[:])+"  /tmp/data",
	)

	add("--- gzip")
	re(`gzip -6 bytes: [1-9][0-9]*`)
	re(`gzip -6 md5: [0-9a-f]{32}  -`)
	goSum := md5.Sum(GoPayload())
	add("round trip -6: "+hexsum(md5d[:])+"  -",
		"round trip -1: "+hexsum(md5d[:])+"  -",
		"round trip -9: "+hexsum(md5d[:])+"  -",
		"go.gz: intact",
		"go.gz: "+hexsum(goSum[:])+"  -",
	)

	add("--- fork",
		"subshells: 40 sum 2460",
		"pipeline: 200",
		"exec exit status: 7",
		"wait status: 3",
		"background 1", "background 2", "background 3", "background 4", "background 5",
		"nested exec: 42",
		"xargs: 1 2 3 4", "xargs: 5 6 7 8", "xargs: 9 10 11 12",
		"pid of init: 1",
	)

	// QEMU's qemu64 CPU model (target/i386/cpu.c), which our CPUID copies
	// leaf for leaf (docs/design.md §3).
	add("--- proc",
		"vendor_id\t: AuthenticAMD",
		"cpu family\t: 15",
		"model\t\t: 107",
		"model name\t: QEMU Virtual CPU version 2.5+",
		"stepping\t: 1",
		"fpu\t\t: yes",
		"fpu_exception\t: yes",
		"cpuid level\t: 13",
		"wp\t\t: yes",
		"address sizes\t: 40 bits physical, 48 bits virtual",
	)
	for _, f := range []string{"fpu", "tsc", "cx8", "cmov", "mmx", "fxsr", "sse", "sse2", "pni", "cx16", "syscall", "nx", "lm", "lahf_lm"} {
		add("flag " + f + ": yes")
	}
	// 256 MiB less the kernel's image, the firmware's reservations and
	// what early boot keeps: 218 MiB for 6.1 today.
	re(`MemTotal: (19[2-9]|2[0-4][0-9]|25[0-5]) MiB`)
	add("meminfo SwapTotal: 0", "meminfo HugePages_Total: 0", "meminfo Hugepagesize: 2048")
	add("cmdline: "+Append,
		"ostype: Linux",
		"osrelease: "+release,
		"machine: x86_64",
		"self stat: (awk) R 1 20 0 1",
		"proc /proc proc rw,relatime 0 0",
	)

	fact := int64(1)
	for i := int64(1); i <= 20; i++ {
		fact *= i
	}
	fa, fb := int64(0), int64(1)
	for i := 0; i < 90; i++ {
		fa, fb = fb, fa+fb
	}
	add("--- shell",
		fmt.Sprintf("20!: %d", fact),
		fmt.Sprintf("fib 90: %d", fa),
		"collatz 27: 111 steps",
		fmt.Sprintf("arith: %d %d %d %d %d %d", -17/5, -17%5, int64(1)<<62, 0xff^0x0f, 0, 0x7fffffff*3),
		"heredoc: alpha=2", "heredoc: beta=42", "heredoc: gamma=666",
		"strings: 24 vmapstack linux-workload vmapstack-linux",
		"recursion: 479001600",
		"printf: 00042|ab    |ff|10|a_b",
		"--- status",
		"exit status: 0",
	)
	return ls
}

// Block returns the lines between the begin and end markers in a console
// log (carriage returns dropped), and whether both markers were found.
func Block(console, begin, end string) ([]string, bool) {
	lines := strings.Split(strings.ReplaceAll(console, "\r", ""), "\n")
	start := -1
	for i, l := range lines {
		switch {
		case l == begin && start < 0:
			start = i + 1
		case l == end && start >= 0:
			return lines[start:i], true
		}
	}
	return nil, false
}

// CheckWorkload compares the workload block with Expected(release) and
// returns one description per difference (nil: all as expected).
func CheckWorkload(block []string, release string) []string {
	want := Expected(release)
	var diffs []string
	for i := 0; i < max(len(block), len(want)); i++ {
		switch {
		case i >= len(block):
			diffs = append(diffs, fmt.Sprintf("line %d missing: want %s", i+1, want[i]))
		case i >= len(want):
			diffs = append(diffs, fmt.Sprintf("line %d extra: %q", i+1, block[i]))
		case !want[i].match(block[i]):
			diffs = append(diffs, fmt.Sprintf("line %d: got %q, want %q", i+1, block[i], want[i].String()))
		}
	}
	return diffs
}
