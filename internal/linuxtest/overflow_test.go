package linuxtest

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"vmapstack/internal/testtool"
)

// overflowConsole is the end of QEMU 7.2's console for the overflow boot
// of Debian's 6.1.0-57-cloud-amd64 with OverflowAppend (61 frames of the
// recursion, 58 of them cut here).
const overflowConsole = "=== vmapstack overflow insmod\r\n" +
	"[    1.311543] overflow: loading out-of-tree module taints kernel.\r\n" +
	"[    1.311810] vmapstack overflow: recursing on the stack of insmod\r\n" +
	"[    1.311821] BUG: TASK stack guard page was hit at ffffc90000007fc8 (stack is ffffc90000008000..ffffc9000000c000)\r\n" +
	"[    1.311827] stack guard page: 0000 [#1] PREEMPT SMP NOPTI\r\n" +
	"[    1.311832] CPU: 0 PID: 1 Comm: insmod Tainted: G           OE      6.1.0-57-cloud-amd64 #1  Debian 6.1.192-3\r\n" +
	"[    1.311840] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014\r\n" +
	"[    1.311843] RIP: 0010:vmapstack_recurse+0x2d/0x8a [overflow]\r\n" +
	"[    1.311865] RSP: 0018:ffffc90000007fd8 EFLAGS: 00000246\r\n" +
	"[    1.311905] CR2: ffffc90000007fc8 CR3: 000000000568e000 CR4: 00000000000006b0\r\n" +
	"[    1.311910] Call Trace:\r\n" +
	"[    1.311912]  <TASK>\r\n" +
	"[    1.311920]  vmapstack_recurse+0x51/0x8a [overflow]\r\n" +
	"[    1.311943]  vmapstack_recurse+0x51/0x8a [overflow]\r\n" +
	"[    1.311966]  vmapstack_recurse+0x51/0x8a [overflow]\r\n" +
	"[    1.313324]  overflow_init+0x28/0x1000 [overflow]\r\n" +
	"[    1.313340]  do_one_initcall+0x59/0x220\r\n" +
	"[    1.313352]  do_init_module+0x4a/0x1f0\r\n" +
	"[    1.313362]  __do_sys_finit_module+0xac/0x120\r\n" +
	"[    1.313377]  do_syscall_64+0x5d/0x90\r\n" +
	"[    1.313383]  ? do_user_addr_fault+0x1b0/0x560\r\n" +
	"[    1.313385]  entry_SYSCALL_64_after_hwframe+0x6e/0xd8\r\n" +
	"[    1.313396] RIP: 0033:0x47fbe9\r\n" +
	"[    1.313407] RSP: 002b:00007ffe41c9f0f8 EFLAGS: 00000246 ORIG_RAX: 0000000000000139\r\n" +
	"[    1.313413] RAX: ffffffffffffffda RBX: 0000000013c26820 RCX: 000000000047fbe9\r\n" +
	"[    1.313431] R13: 0000000013c25b38 R14: 0000000000000000 R15: 0000000000000000\r\n" +
	"[    1.313440]  </TASK>\r\n" +
	"[    1.313442] Modules linked in: overflow(OE+)\r\n" +
	"[    1.313820] ---[ end trace 0000000000000000 ]---\r\n" +
	"[    1.313822] RIP: 0010:vmapstack_recurse+0x2d/0x8a [overflow]\r\n" +
	"[    1.313889] Kernel panic - not syncing: Fatal exception in interrupt\r\n" +
	"[    1.313892] Kernel Offset: disabled\r\n"

func TestParseStackOverflow(t *testing.T) {
	r, err := ParseStackOverflow(overflowConsole)
	if err != nil {
		t.Fatal(err)
	}
	if r.BUG != "BUG: TASK stack guard page was hit at ffffc90000007fc8 (stack is ffffc90000008000..ffffc9000000c000)" {
		t.Errorf("BUG %q", r.BUG)
	}
	if r.Stack != "TASK" || r.Fault != 0xffffc90000007fc8 || r.Begin != 0xffffc90000008000 || r.End != 0xffffc9000000c000 {
		t.Errorf("stack %q fault %#x begin %#x end %#x", r.Stack, r.Fault, r.Begin, r.End)
	}
	if r.Oops != "stack guard page: 0000 [#1] PREEMPT SMP NOPTI" || r.RIP != "RIP: 0010:vmapstack_recurse+0x2d/0x8a [overflow]" ||
		r.Panic != "Kernel panic - not syncing: Fatal exception in interrupt" || !strings.HasPrefix(r.CPU, "CPU: 0 PID: 1 Comm: insmod ") {
		t.Errorf("oops %q CPU %q RIP %q panic %q", r.Oops, r.CPU, r.RIP, r.Panic)
	}
	trace := []string{"<TASK>", "vmapstack_recurse", "vmapstack_recurse", "vmapstack_recurse", "overflow_init", "do_one_initcall",
		"do_init_module", "__do_sys_finit_module", "do_syscall_64", "? do_user_addr_fault", "entry_SYSCALL_64_after_hwframe", "</TASK>"}
	if !reflect.DeepEqual(r.Trace, trace) {
		t.Errorf("Trace %q,\nwant %q", r.Trace, trace)
	}
	if len(r.TraceLines) != len(trace) || r.TraceLines[1] != " vmapstack_recurse+0x51/0x8a [overflow]" {
		t.Errorf("TraceLines %q", r.TraceLines)
	}
	collapsed := []string{"vmapstack_recurse", "overflow_init", "do_one_initcall", "do_init_module", "__do_sys_finit_module", "do_syscall_64", "entry_SYSCALL_64_after_hwframe"}
	if got := r.Functions(true); !reflect.DeepEqual(got, collapsed) {
		t.Errorf("Functions(true) %q", got)
	}
	if got := r.Functions(false); len(got) != len(collapsed)+2 {
		t.Errorf("Functions(false) %q", got)
	}
	if r.Depth() != 3 {
		t.Errorf("Depth %d, want 3", r.Depth())
	}
	if bad := r.Check(); bad != nil {
		t.Errorf("Check of QEMU's report: %q", bad)
	}

	if _, err := ParseStackOverflow("BUG: kernel NULL pointer dereference, address: 0000000000000000\n"); err == nil {
		t.Error("a report without the guard page line parsed")
	}
}

// TestStackOverflowCheck: each way a report can be wrong is said.
func TestStackOverflowCheck(t *testing.T) {
	cases := []struct {
		name, old, new, want string
	}{
		{"fault above the guard page", "hit at ffffc90000007fc8", "hit at ffffc90000008010", "not in the page below"},
		{"fault two pages below", "hit at ffffc90000007fc8", "hit at ffffc90000006fc8", "not in the page below"},
		{"8 KiB stack", "..ffffc9000000c000", "..ffffc9000000a000", "want THREAD_SIZE 16384"},
		{"unaligned", "hit at ffffc90000007fc8 (stack is ffffc90000008000..ffffc9000000c000)", "hit at ffffc90000008fc8 (stack is ffffc90000009000..ffffc9000000d000)", "not THREAD_SIZE-aligned"},
		{"IRQ stack", "BUG: TASK", "BUG: IRQ", `want TASK`},
		{"other task", "Comm: insmod", "Comm: sh", "not insmod"},
		{"fault elsewhere", "RIP: 0010:vmapstack_recurse+0x2d", "RIP: 0010:memset+0x2d", "not in vmapstack_recurse"},
		{"no oops", "stack guard page: 0000 [#1]", "double fault: 0000 [#1]", "oops line"},
		{"no panic", "Kernel panic - not syncing", "Kernel not syncing", "no \"Kernel panic"},
		{"no initcall", " do_one_initcall+0x59/0x220", " ? do_one_initcall+0x59/0x220", "want [\"vmapstack_recurse\""},
		{"no recursion", "[    1.311943]  vmapstack_recurse+0x51/0x8a [overflow]\r\n[    1.311966]  vmapstack_recurse+0x51/0x8a [overflow]\r\n", "", "1 frames of vmapstack_recurse"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			console := strings.ReplaceAll(overflowConsole, c.old, c.new)
			if console == overflowConsole {
				t.Fatalf("%q is not in the sample", c.old)
			}
			r, err := ParseStackOverflow(console)
			if err != nil {
				t.Fatal(err)
			}
			bad := r.Check()
			if len(bad) != 1 || !strings.Contains(bad[0], c.want) {
				t.Errorf("Check = %q, want one complaint containing %q", bad, c.want)
			}
		})
	}
}

func TestOverflowAppend(t *testing.T) {
	for _, a := range []string{OverflowAppend, OverflowAppendKASLR} {
		if !strings.HasPrefix(a, Append+" ") || !strings.Contains(a, " no_hash_pointers") || !strings.Contains(a, "panic=-1") {
			t.Errorf("%q: want Append's line with no_hash_pointers", a)
		}
	}
	if !strings.Contains(OverflowAppend, " nokaslr") || !strings.Contains(OverflowAppend, " randomize_kstack_offset=off") {
		t.Errorf("OverflowAppend %q randomizes", OverflowAppend)
	}
	if strings.Contains(OverflowAppendKASLR, "nokaslr") || strings.Contains(OverflowAppendKASLR, "randomize_kstack_offset") {
		t.Errorf("OverflowAppendKASLR %q does not randomize", OverflowAppendKASLR)
	}
}

func TestOverflowInitramfs(t *testing.T) {
	busybox, ko := []byte("\x7fELF busybox"), []byte("\x7fELF overflow.ko")
	gz, err := OverflowInitramfs(busybox, ko)
	if err != nil {
		t.Fatal(err)
	}
	es := imageEntries(t, gz)
	for name, want := range map[string][2]string{
		"init":        {"81ed", OverflowInitScript},
		"overflow.ko": {"81a4", string(ko)},
		"bin/insmod":  {"a1ff", "busybox"},
		"bin/busybox": {"81ed", string(busybox)},
		"dev/console": {"2180 00000005 00000001", ""},
	} {
		if got := es[name]; got != want {
			t.Errorf("%s: %.60q, want %.60q", name, got, want)
		}
	}
	if !strings.Contains(OverflowInitScript, "echo \""+OverflowInsmod+"\"\n") || !strings.Contains(OverflowInitScript, "\nexec insmod /overflow.ko\n") {
		t.Errorf("overflow.sh does not print %q and exec insmod /overflow.ko", OverflowInsmod)
	}
}

// TestOverflowModuleSource: the module is GPL (it links against the
// kernel), and its recursion is the function the tests look for.
func TestOverflowModuleSource(t *testing.T) {
	src, err := overflowSource.ReadFile("overflowmod/overflow.c")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"// SPDX-License-Identifier: GPL-2.0\n",
		`MODULE_LICENSE("GPL");`,
		"static noinline unsigned long " + OverflowFunction + "(unsigned long n)",
		"volatile unsigned char frame[",
		"module_init(overflow_init);",
	} {
		if !bytes.Contains(src, []byte(want)) {
			t.Errorf("overflow.c lacks %q", want)
		}
	}
	kbuild, err := overflowSource.ReadFile("overflowmod/Kbuild")
	if err != nil || !bytes.Contains(kbuild, []byte("obj-m := "+OverflowModuleName+".o\n")) {
		t.Errorf("Kbuild (%v): %q", err, kbuild)
	}
}

func TestOverflowNoHeaders(t *testing.T) {
	ctx := context.Background()
	const release = "0.0.0-0-none-amd64"
	_, err := BuildOverflowModule(ctx, release, t.TempDir())
	if !errors.Is(err, ErrNoHeaders) || !strings.Contains(err.Error(), "/usr/src/linux-headers-"+release) {
		t.Errorf("BuildOverflowModule: %v; want ErrNoHeaders naming the directory", err)
	}
	if err := CheckHeaders(ctx, release, "1.0-1"); !errors.Is(err, ErrNoHeaders) {
		t.Errorf("CheckHeaders: %v; want ErrNoHeaders", err)
	}
}

// TestBuildOverflowModule builds overflow.ko against the kernel headers
// installed under /usr/src (whichever release: this is about the build,
// not the kernel under test) and checks the module: its recursive
// function, its license and the release it is for.
func TestBuildOverflowModule(t *testing.T) {
	testtool.Require(t, "make")
	configs, _ := filepath.Glob("/usr/src/linux-headers-*/.config")
	if len(configs) == 0 {
		testtool.Unavailable(t, "no kernel headers in /usr/src (apt-get install linux-headers-cloud-amd64)")
	}
	release := strings.TrimPrefix(filepath.Base(filepath.Dir(configs[0])), "linux-headers-")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "build")
	ko, err := BuildOverflowModule(ctx, release, dir)
	if err != nil {
		t.Fatal(err)
	}
	if ko != filepath.Join(dir, "overflow.ko") {
		t.Errorf("module at %s", ko)
	}
	f, err := elf.Open(ko)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range syms {
		if s.Name == OverflowFunction && elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Size > 0 {
			found = true
		}
	}
	if !found {
		t.Errorf("%s has no function %s", ko, OverflowFunction)
	}
	modinfo := f.Section(".modinfo")
	if modinfo == nil {
		t.Fatalf("%s has no .modinfo", ko)
	}
	info, err := modinfo.Data()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"license=GPL\x00", "vermagic=" + release + " "} {
		if !bytes.Contains(info, []byte(want)) {
			t.Errorf(".modinfo lacks %q: %q", want, info)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "overflow.c")); err != nil {
		t.Errorf("the source was not copied into the build directory: %v", err)
	}
	// A second build in the same directory (cmd/mkinitramfs -overflow
	// run twice) writes the source over the first and runs make again.
	if again, err := BuildOverflowModule(ctx, release, dir); err != nil || again != ko {
		t.Errorf("second build in %s: %s, %v", dir, again, err)
	}
	// A build elsewhere gives the same module: the directory's name is
	// not in it.
	other, err := BuildOverflowModule(ctx, release, filepath.Join(t.TempDir(), "another", "directory"))
	if err != nil {
		t.Fatal(err)
	}
	a, errA := os.ReadFile(ko)
	b, errB := os.ReadFile(other)
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Errorf("the builds in %s and %s differ (%v, %v)", ko, other, errA, errB)
	}
}
