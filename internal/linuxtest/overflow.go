package linuxtest

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"vmapstack/internal/initramfs"
	"vmapstack/internal/testtool"
)

// overflowSource is overflowmod/: overflow.c and its Kbuild and Makefile,
// the out-of-tree module whose init function overflows its task's stack.
//
//go:embed overflowmod/overflow.c overflowmod/Kbuild overflowmod/Makefile
var overflowSource embed.FS

// OverflowInitScript is the /init of OverflowInitramfs: it prints
// OverflowInsmod and loads /overflow.ko.
//
//go:embed overflow.sh
var OverflowInitScript string

// OverflowInsmod is the line OverflowInitScript prints before it
// becomes insmod.
const OverflowInsmod = "=== vmapstack overflow insmod"

// OverflowFunction is overflow.ko's recursive function: the name the
// kernel's Call Trace (and the stub's `monitor bt`) shows for every frame
// of the recursion.
const OverflowFunction = "vmapstack_recurse"

// OverflowModuleName is the module's name as the kernel prints it in a
// Call Trace ("[overflow]") and in its list of loaded modules.
const OverflowModuleName = "overflow"

// The kernel command lines of the overflow boots. Both are Append (whose
// panic=-1 turns the overflow's panic into a reboot, and so into the end
// of the run) plus no_hash_pointers, without which the kernel prints
// hashed values instead of the addresses the tests check.
//
// OverflowAppend also turns off what Debian's kernel randomizes from the
// TSC, which differs between QEMU and ours as it differs between two
// PCs: nokaslr (the kernel image and, CONFIG_RANDOMIZE_MEMORY, the bases
// of the direct map and the vmalloc area: stacks are then at
// 0xffffc90000000000 and up) and randomize_kstack_offset=off (by default
// each syscall's stack starts up to 1 KiB lower, by an amount drawn from
// RDTSC: CONFIG_RANDOMIZE_KSTACK_OFFSET_DEFAULT). With it the overflow is
// reported with the same addresses in both machines.
//
// OverflowAppendKASLR keeps both randomizations, as Debian boots.
const (
	OverflowAppend      = Append + " no_hash_pointers nokaslr randomize_kstack_offset=off"
	OverflowAppendKASLR = Append + " no_hash_pointers"
)

// HeadersDir returns where Debian's linux-headers-<release> package puts
// the kernel's build tree, the KDIR of an out-of-tree module build.
func HeadersDir(release string) string {
	return filepath.Join("/usr/src", "linux-headers-"+release)
}

// HeadersPackage is the Debian package holding HeadersDir(release).
func HeadersPackage(release string) string { return "linux-headers-" + release }

// ErrNoHeaders is wrapped by the errors that mean this host cannot build
// a module for the kernel under test: its headers are not installed, or
// are of another package version than the kernel.
var ErrNoHeaders = errors.New("no matching kernel headers")

// CheckHeaders returns nil when HeadersDir(release) holds the headers of
// the kernel package version (e.g. 6.1.192-3) that the boots use. Debian
// keeps the release (6.1.0-57-cloud-amd64) across some package versions,
// so a matching directory is not enough: the installed headers package
// must have the kernel's version too (dpkg-query), or the module may be
// built against another kernel's symbol versions.
func CheckHeaders(ctx context.Context, release, version string) error {
	dir := HeadersDir(release)
	if fi, err := os.Stat(filepath.Join(dir, "Makefile")); err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not there: apt-get install %s (or linux-headers-cloud-amd64, from the same package lists as the kernel)", ErrNoHeaders, dir, HeadersPackage(release))
	}
	if version == "" {
		return nil
	}
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		return fmt.Errorf("%w: cannot check the version of %s: %w", ErrNoHeaders, dir, err)
	}
	out, err := exec.CommandContext(ctx, "dpkg-query", "-W", "-f", "${Version}", "--", HeadersPackage(release)).Output()
	if err != nil {
		return fmt.Errorf("%w: dpkg-query %s: %w", ErrNoHeaders, HeadersPackage(release), err)
	}
	if got := strings.TrimSpace(string(out)); got != version {
		return fmt.Errorf("%w: %s is version %s but the kernel under test is %s: apt-get update && apt-get install linux-headers-cloud-amd64", ErrNoHeaders, HeadersPackage(release), got, version)
	}
	return nil
}

// BuildOverflowModule copies overflowmod/ into dir and builds overflow.ko
// there against the headers of the kernel release (`make -C
// /usr/src/linux-headers-<release> M=dir modules`, as for any out-of-tree
// module), and returns the module's path. The module is the same, byte
// for byte, whatever dir is. Missing headers are an error wrapping
// ErrNoHeaders.
func BuildOverflowModule(ctx context.Context, release, dir string) (string, error) {
	kdir := HeadersDir(release)
	if _, err := os.Stat(kdir); err != nil {
		return "", fmt.Errorf("linuxtest: %w: %s is not there: apt-get install %s", ErrNoHeaders, kdir, HeadersPackage(release))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("linuxtest: %w", err)
	}
	// The source is written over what dir holds, so that a second build
	// in the same directory (cmd/mkinitramfs -overflow) is an ordinary
	// make run.
	srcs, err := fs.ReadDir(overflowSource, "overflowmod")
	if err != nil {
		return "", fmt.Errorf("linuxtest: %w", err)
	}
	for _, e := range srcs {
		b, err := overflowSource.ReadFile("overflowmod/" + e.Name())
		if err != nil {
			return "", fmt.Errorf("linuxtest: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			return "", fmt.Errorf("linuxtest: copy the module source into %s: %w", dir, err)
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("linuxtest: %w", err)
	}
	// The build directory's name stays out of the module's DWARF, so
	// that the module, the initramfs holding it and the boot (the
	// kernel's KASLR seed hashes boot_params, the initrd's size included)
	// are the same whatever temporary directory the build ran in.
	cmd := exec.CommandContext(ctx, "make", "-C", kdir, "M="+abs, "KCFLAGS=-ffile-prefix-map="+abs+"="+OverflowModuleName+"mod", "modules")
	// The compiler's messages in English, whatever the user's locale.
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("linuxtest: make -C %s M=%s modules: %w\n%s", kdir, abs, err, out)
	}
	ko := filepath.Join(abs, OverflowModuleName+".ko")
	if _, err := os.Stat(ko); err != nil {
		return "", fmt.Errorf("linuxtest: make -C %s M=%s modules left no module: %w", kdir, abs, err)
	}
	return ko, nil
}

// OverflowInitramfs returns Initramfs's busybox and devices with
// OverflowInitScript as /init, the insmod applet, and the module ko as
// /overflow.ko.
func OverflowInitramfs(busybox, ko []byte) ([]byte, error) {
	return initramfsWith(busybox, OverflowInitScript,
		initramfs.Entry{Name: "bin/insmod", Type: initramfs.TypeSymlink, Perm: 0o777, Linkname: "busybox"},
		initramfs.Entry{Name: "overflow.ko", Type: initramfs.TypeRegular, Perm: 0o644, Data: ko},
	)
}

// OverflowFiles are the files of an overflow boot beside Files' kernel.
type OverflowFiles struct {
	Module string // overflow.ko, built against the kernel's headers
	Initrd string // OverflowInitramfs with it
}

// PrepareOverflow builds overflow.ko for f's kernel in dir and writes the
// overflow initramfs there.
func PrepareOverflow(ctx context.Context, f *Files, dir string) (*OverflowFiles, error) {
	if err := CheckHeaders(ctx, f.Release, f.KernelVersion); err != nil {
		return nil, fmt.Errorf("linuxtest: %w", err)
	}
	ko, err := BuildOverflowModule(ctx, f.Release, filepath.Join(dir, "overflowmod"))
	if err != nil {
		return nil, err
	}
	bb, err := os.ReadFile(f.Busybox)
	if err != nil {
		return nil, fmt.Errorf("linuxtest: %w", err)
	}
	mod, err := os.ReadFile(ko)
	if err != nil {
		return nil, fmt.Errorf("linuxtest: %w", err)
	}
	initrd, err := writeImage(dir, bb, func(bb []byte) ([]byte, error) { return OverflowInitramfs(bb, mod) })
	if err != nil {
		return nil, err
	}
	return &OverflowFiles{Module: ko, Initrd: initrd}, nil
}

// RequireOverflow builds the overflow files for f in the test's temporary
// directory. Without make, or without the kernel's headers of the same
// version (CheckHeaders), the test skips, or fails under
// VMAPSTACK_REQUIRE_TOOLS=1.
func RequireOverflow(t testing.TB, f *Files) *OverflowFiles {
	t.Helper()
	testtool.Require(t, "make")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	o, err := PrepareOverflow(ctx, f, t.TempDir())
	if errors.Is(err, ErrNoHeaders) {
		testtool.Unavailable(t, "the overflow module: %v", err)
	}
	if err != nil {
		t.Fatalf("the overflow module: %v", err)
	}
	return o
}

// ThreadSize is x86-64 Linux's THREAD_SIZE with KASAN off, as in Debian's
// kernels: 16 KiB of task stack.
const ThreadSize = 16 << 10

// StackOverflow is what the kernel reported about a stack overflow on
// the console: the BUG line of handle_stack_overflow
// (arch/x86/kernel/traps.c) and the oops that die("stack guard page")
// prints after it.
type StackOverflow struct {
	BUG        string // the line, printk timestamp dropped
	Stack      string // the stack's kind: TASK, IRQ, NMI, #DF, …
	Fault      uint64 // CR2: the address that hit the guard page
	Begin, End uint64 // the stack, End exclusive
	Oops       string // "stack guard page: 0000 [#1] PREEMPT SMP NOPTI"
	CPU        string // "CPU: 0 PID: 1 Comm: insmod Tainted: …"
	RIP        string // the first "RIP: 0010:…" line: where the fault was
	// Trace is the oops's Call Trace, one entry per line from "Call
	// Trace:" to the end of the dump: a frame as "name" or, for an
	// address the unwinder found on the stack but not in its unwind, "?
	// name"; a stack marker as printed ("<TASK>", "</TASK>", "<#DF>").
	Trace []string
	// TraceLines are the same lines in full (offsets, sizes, modules).
	TraceLines []string
	Panic      string // "Kernel panic - not syncing: …"
}

var (
	// handle_stack_overflow's line; %p prints the address itself with
	// no_hash_pointers.
	stackBUG = regexp.MustCompile(`BUG: (\S+) stack guard page was hit at ([0-9a-f]{16}) \(stack is ([0-9a-f]{16})\.\.([0-9a-f]{16})\)$`)
	// One frame of a Call Trace: " ? name+0x12/0x40 [module]".
	traceFrame = regexp.MustCompile(`^ (\? )?([A-Za-z0-9_.$]+)\+0x[0-9a-f]+/0x[0-9a-f]+(?: \[[A-Za-z0-9_]+\])?$`)
	// A stack marker of a Call Trace: " <TASK>", " </#DF>".
	traceMarker = regexp.MustCompile(`^ </?[A-Z#]+>$`)
	// The user-space registers the trace shows at its syscall entry.
	traceRegs = regexp.MustCompile(`^(RIP|Code|RSP|RAX|RDX|RBP|R10|R13): `)
)

// ParseStackOverflow finds the stack overflow report in a console log.
func ParseStackOverflow(console string) (*StackOverflow, error) {
	lines := NormalizeKernelLog(console)
	r := &StackOverflow{}
	at := -1
	for i, l := range lines {
		if m := stackBUG.FindStringSubmatch(l); m != nil {
			r.BUG = l[strings.Index(l, "BUG: "):]
			r.Stack = m[1]
			r.Fault, _ = strconv.ParseUint(m[2], 16, 64)
			r.Begin, _ = strconv.ParseUint(m[3], 16, 64)
			r.End, _ = strconv.ParseUint(m[4], 16, 64)
			at = i
			break
		}
	}
	if at < 0 {
		return nil, errors.New("no \"BUG: … stack guard page was hit at …\" line")
	}
	for i := at + 1; i < len(lines); i++ {
		l := lines[i]
		switch {
		case r.Oops == "" && strings.Contains(l, ": 0000 [#"):
			r.Oops = l
		case r.CPU == "" && strings.HasPrefix(l, "CPU: "):
			r.CPU = l
		case r.RIP == "" && strings.HasPrefix(l, "RIP: "):
			r.RIP = l
		case l == "Call Trace:" && r.Trace == nil:
			r.Trace = []string{}
			for _, t := range lines[i+1:] {
				if m := traceFrame.FindStringSubmatch(t); m != nil {
					r.Trace = append(r.Trace, m[1]+m[2])
				} else if traceMarker.MatchString(t) {
					r.Trace = append(r.Trace, strings.TrimSpace(t))
				} else if !traceRegs.MatchString(t) {
					break
				} else {
					continue
				}
				r.TraceLines = append(r.TraceLines, t)
			}
		case r.Panic == "" && strings.HasPrefix(l, "Kernel panic - not syncing: "):
			r.Panic = l
		}
	}
	return r, nil
}

// Functions returns the Call Trace's reliable frames: the function names
// the unwinder followed, without its guesses ("? name") and the stack
// markers. With collapse, a run of frames of one function is one entry.
func (r *StackOverflow) Functions(collapse bool) []string {
	var fs []string
	for _, f := range r.Trace {
		if strings.HasPrefix(f, "? ") || strings.HasPrefix(f, "<") {
			continue
		}
		if collapse && len(fs) > 0 && fs[len(fs)-1] == f {
			continue
		}
		fs = append(fs, f)
	}
	return fs
}

// Depth returns how many reliable frames of OverflowFunction the Call
// Trace shows.
func (r *StackOverflow) Depth() int {
	n := 0
	for _, f := range r.Functions(false) {
		if f == OverflowFunction {
			n++
		}
	}
	return n
}

// Check returns what is wrong with the report, as Linux 6.1 prints it
// for an overflow of the task stack of insmod by OverflowFunction: the
// fault in the guard page just below the stack, a THREAD_SIZE-aligned
// stack of THREAD_SIZE bytes, the oops at the recursion, and a Call
// Trace through the recursion down to do_one_initcall and the
// finit_module syscall, and the panic (nil: all as expected).
func (r *StackOverflow) Check() []string {
	var bad []string
	if r.Stack != "TASK" {
		bad = append(bad, fmt.Sprintf("the overflowed stack is %q, want TASK", r.Stack))
	}
	if r.End-r.Begin != ThreadSize {
		bad = append(bad, fmt.Sprintf("the stack %016x..%016x is %d bytes, want THREAD_SIZE %d", r.Begin, r.End, r.End-r.Begin, ThreadSize))
	}
	if r.Begin%ThreadSize != 0 {
		bad = append(bad, fmt.Sprintf("the stack's start %016x is not THREAD_SIZE-aligned", r.Begin))
	}
	if r.Fault >= r.Begin || r.Fault < r.Begin-4096 {
		bad = append(bad, fmt.Sprintf("the fault address %016x is not in the page below the stack's start %016x (its guard page)", r.Fault, r.Begin))
	}
	if !strings.HasPrefix(r.Oops, "stack guard page: 0000 [#1] ") {
		bad = append(bad, fmt.Sprintf("oops line %q, want \"stack guard page: 0000 [#1] …\"", r.Oops))
	}
	if !strings.Contains(r.CPU, " Comm: insmod ") {
		bad = append(bad, fmt.Sprintf("CPU line %q: the task is not insmod", r.CPU))
	}
	if !strings.HasPrefix(r.RIP, "RIP: 0010:"+OverflowFunction+"+") {
		bad = append(bad, fmt.Sprintf("%q: the fault is not in %s", r.RIP, OverflowFunction))
	}
	if !strings.HasPrefix(r.Panic, "Kernel panic - not syncing: ") {
		bad = append(bad, "no \"Kernel panic - not syncing\" line")
	}
	// The path from the syscall: insmod's finit_module (or init_module)
	// loads the module and runs its init function through
	// do_one_initcall. Above __do_sys_*init_module the frames depend on
	// the kernel's syscall entry, which the test need not pin.
	want := []string{OverflowFunction, "overflow_init", "do_one_initcall", "do_init_module"}
	got := r.Functions(true)
	if len(got) < len(want)+1 || strings.Join(got[:len(want)], " ") != strings.Join(want, " ") || !strings.HasSuffix(got[len(want)], "init_module") {
		bad = append(bad, fmt.Sprintf("the Call Trace's functions (runs collapsed) are %q, want %q and then the init_module syscall", got, want))
	}
	if n := r.Depth(); n < 2 {
		bad = append(bad, fmt.Sprintf("the Call Trace has %d frames of %s, want the recursion", n, OverflowFunction))
	}
	return bad
}
