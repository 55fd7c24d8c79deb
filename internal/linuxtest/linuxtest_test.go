package linuxtest

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"vmapstack/internal/testtool"
)

// TestFloatLinesMatchC pins the float section to what busybox awk and
// glibc's printf printed under QEMU 7.2 (Debian's busybox-static 1.35.0,
// kernel 6.1.0-57-cloud-amd64): C's formatting, recorded, against Go's
// computation of the same IEEE operations.
func TestFloatLinesMatchC(t *testing.T) {
	want := []string{
		"sum 0.1 x1000: 99.999999999998593",
		"harmonic 2000: 8.1783681036102838 8.178368e+00 8.178368",
		"product: 8.8817713074186764e+25 8.881771e+25",
		"third^60: 2.3589824875925728e-29 2.358982e-29",
		"subnormal: 9.9999999999999694e-311 1.000000e-310 1e-300",
		"div: 0.33333333333333331 0.66666666666666663 3.1428571428571428 -0.14285714285714285",
		"fmt: 3.141593 2.001    -1.5000 1.23457e+04 | 0.0001 1E+20 0 2 2",
		"recurrence: 59.195426439847957",
		"big: 9.2233720325598085e+18 1e+308",
		"compare: 0 1 1",
		"int: 7 -7 142857142",
		"print: 0.3 0.333333 1000000000000 12.5",
		"fields: -10.546875 -0.47999999999999998",
		"column: 71500 333833.50000000012",
	}
	if got := floatLines(); !reflect.DeepEqual(got, want) {
		t.Errorf("float lines:\n%s\nwant (recorded from busybox awk):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestExpected(t *testing.T) {
	ls := Expected("6.1.0-57-cloud-amd64")
	var sections []string
	for _, l := range ls {
		if strings.HasPrefix(l.Text, "--- ") {
			sections = append(sections, l.Text[4:])
		}
	}
	if want := []string{"float", "hash", "gzip", "fork", "proc", "shell", "status"}; !reflect.DeepEqual(sections, want) {
		t.Errorf("sections %v, want %v", sections, want)
	}
	// Every section of the script is in the expectations and vice versa.
	for _, s := range sections {
		if s != "status" && !strings.Contains(InitScript, "section "+s+"\n") {
			t.Errorf("section %s is not in init.sh", s)
		}
	}
	if got := len(WorkloadData()); got != 90448 {
		t.Errorf("workload data is %d bytes; busybox wc said 90448", got)
	}
}

func TestCheckWorkload(t *testing.T) {
	const rel = "6.1.0-57-cloud-amd64"
	var good []string
	for _, l := range Expected(rel) {
		switch {
		case l.Re == nil:
			good = append(good, l.Text)
		case strings.Contains(l.Re.String(), "bytes"):
			good = append(good, "gzip -6 bytes: 23094")
		case strings.Contains(l.Re.String(), "md5"):
			good = append(good, "gzip -6 md5: 3f0a5bbc7d83911930b443e8294f7284  -")
		case strings.Contains(l.Re.String(), "MemTotal"):
			good = append(good, "MemTotal: 218 MiB")
		default:
			t.Fatalf("no sample for %s", l)
		}
	}
	if d := CheckWorkload(good, rel); len(d) != 0 {
		t.Fatalf("differences in the expected block itself: %v", d)
	}
	bad := append([]string(nil), good...)
	bad[1] = "sum 0.1 x1000: 100"
	bad = bad[:len(bad)-1]
	d := CheckWorkload(bad, rel)
	if len(d) != 2 || !strings.Contains(d[0], "line 2") || !strings.Contains(d[1], "missing") {
		t.Errorf("differences %q", d)
	}
	if d := CheckWorkload(append(good, "extra"), rel); len(d) != 1 || !strings.Contains(d[0], "extra") {
		t.Errorf("differences %q", d)
	}
}

func TestBlock(t *testing.T) {
	console := "noise\r\n" + WorkloadBegin + "\r\na\r\n\r\nb\r\n" + WorkloadEnd + "\r\n[ 1.0] reboot\r\n"
	got, ok := Block(console, WorkloadBegin, WorkloadEnd)
	if !ok || !reflect.DeepEqual(got, []string{"a", "", "b"}) {
		t.Errorf("Block = %q, %v", got, ok)
	}
	if _, ok := Block("x\n"+WorkloadBegin+"\na\n", WorkloadBegin, WorkloadEnd); ok {
		t.Error("Block found a block without its end marker")
	}
}

// cpioEntries lists an archive's members by the newc headers: name, mode
// and the file data.
func cpioEntries(t *testing.T, b []byte) map[string][2]string {
	t.Helper()
	out := map[string][2]string{}
	for off := 0; ; {
		h := string(b[off : off+110])
		field := func(i int) int {
			var v int
			for _, c := range h[6+8*i : 14+8*i] {
				v = v*16 + strings.IndexRune("0123456789abcdef", c)
			}
			return v
		}
		nameEnd := off + 110 + field(11)
		name := string(b[off+110 : nameEnd-1])
		data := (nameEnd + 3) &^ 3
		size := field(6)
		if name == "TRAILER!!!" {
			return out
		}
		mode := strings.TrimLeft(h[14:22], "0")
		if field(9) != 0 || field(10) != 0 {
			mode += " " + h[78:86] + " " + h[86:94]
		}
		out[name] = [2]string{mode, string(b[data : data+size])}
		off = (data + size + 3) &^ 3
	}
}

// imageEntries lists the members of a gzipped newc image as cpioEntries does.
func imageEntries(t *testing.T, gz []byte) map[string][2]string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return cpioEntries(t, raw)
}

func TestInitramfs(t *testing.T) {
	busybox := []byte("\x7fELF busybox")
	gz, err := Initramfs(busybox)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Initramfs(busybox)
	if err != nil || !bytes.Equal(gz, again) {
		t.Fatalf("two builds differ (%v): the initramfs must be reproducible", err)
	}
	es := imageEntries(t, gz)
	check := func(name, mode, data string) {
		t.Helper()
		e, ok := es[name]
		if !ok {
			t.Errorf("%s missing", name)
			return
		}
		if e[0] != mode || (data != "" && e[1] != data) {
			t.Errorf("%s: mode %s data %.40q; want mode %s data %.40q", name, e[0], e[1], mode, data)
		}
	}
	check("init", "81ed", InitScript)
	check("bin/busybox", "81ed", string(busybox))
	check("dev/console", "2180 00000005 00000001", "")
	check("dev/null", "21b6 00000001 00000003", "")
	check("tmp", "43ff", "")
	check("proc", "416d", "")
	for _, a := range Applets {
		check("bin/"+a, "a1ff", "busybox")
	}
	zr, err := gzip.NewReader(strings.NewReader(es["data/go.gz"][1]))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(payload, GoPayload()) {
		t.Errorf("data/go.gz does not hold GoPayload (%v)", err)
	}
	for name, script := range map[string]string{"init.sh": InitScript, "shell.sh": ShellInitScript, "overflow.sh": OverflowInitScript} {
		if !strings.HasPrefix(script, "#!/bin/busybox sh\n") {
			t.Errorf("%s does not start with #!/bin/busybox sh", name)
		}
	}
	if !strings.Contains(ShellInitScript, "echo \""+ShellReady+"\"\n") {
		t.Errorf("shell.sh does not print %q", ShellReady)
	}
	sh, err := ShellInitramfs(busybox)
	if err != nil {
		t.Fatal(err)
	}
	if got := imageEntries(t, sh)["init"]; got != [2]string{"81ed", ShellInitScript} {
		t.Errorf("ShellInitramfs /init: %.60q", got)
	}
}

// TestInitScriptSyntax parses init.sh, shell.sh and overflow.sh with the host's POSIX shell: busybox
// ash accepts what dash does here (no bashisms), and a syntax error would
// otherwise show only as a kernel panic in the boot tests.
func TestInitScriptSyntax(t *testing.T) {
	sh := testtool.Require(t, "sh")
	for name, script := range map[string]string{"init.sh": InitScript, "shell.sh": ShellInitScript, "overflow.sh": OverflowInitScript} {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(sh, "-n", p).CombinedOutput(); err != nil {
			t.Errorf("sh -n %s: %v\n%s", name, err, out)
		}
	}
}

func TestNormalizeKernelLog(t *testing.T) {
	log := "[    0.000000] Linux version 6.1.0\r\n[    0.006393] x86/PAT: Configuration [0-7]: WB  WC  UC- UC  WB  WP  UC- WT  \r\n\r\n[12345.123456] Run /init as init process\n[    1.306293]   with arguments:\nplain line\n"
	want := []string{
		"Linux version 6.1.0",
		"x86/PAT: Configuration [0-7]: WB  WC  UC- UC  WB  WP  UC- WT  ",
		"Run /init as init process",
		"  with arguments:",
		"plain line",
	}
	if got := NormalizeKernelLog(log); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// qemuSamples are lines of QEMU 7.2's log of the cloud kernel that the
// allowed list must cover, and oursSamples what our machine prints instead.
var qemuSamples = []string{
	"DMI: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014",
	"tsc: Fast TSC calibration using PIT",
	"tsc: Detected 999.993 MHz processor",
	"clocksource: tsc-early: mask: 0xffffffffffffffff max_cycles: 0x1cd420e9bab, max_idle_ns: 881590482973 ns",
	"clocksource: tsc: mask: 0xffffffffffffffff max_cycles: 0x1cd420e9bab, max_idle_ns: 881590482973 ns",
	"Calibrating delay loop (skipped), value calculated using timer frequency.. 1999.98 BogoMIPS (lpj=3999972)",
	"smpboot: Total of 1 processors activated (1999.98 BogoMIPS)",
	"sched_clock: Marking stable (413777636, 853696)->(416827371, -2196039)",
	"audit: type=2000 audit(1735689600.044:1): state=initialized audit_enabled=0 res=1",
	"rtc_cmos rtc_cmos: setting system clock to 2025-01-01T00:00:00 UTC (1735689600)",
	"pci 0000:00:01.1: [8086:7010] type 00 class 0x010180",
	"pci 0000:00:01.1: BAR 0 [io  0x01f0-0x01f7]: legacy IDE quirk",
	"pci 0000:00:01.3: quirk: [io  0x0600-0x063f] claimed by PIIX4 ACPI",
	"pci 0000:00:02.0: vgaarb: setting as boot VGA device",
	"pci 0000:00:03.0: [8086:100e] type 00 class 0x020000",
	"pci 0000:00:01.0: PIIX/ICH IRQ router [8086:7000]",
	"Console: colour VGA+ 80x25",
	"Memory: 213696K/261624K available (14343K kernel code, 2327K rwdata, 8348K rodata, 2612K init, 5436K bss, 47668K reserved, 0K cma-reserved)",
}

var oursSamples = []string{
	"DMI: vmapstack Emulated PC (qemu64 CPU), BIOS none (direct kernel boot) 01/01/2025",
	"Console: colour dummy device 80x25",
	"tsc: Refined TSC clocksource calibration: 1000.000 MHz",
	"Calibrating delay loop... 418.30 BogoMIPS (lpj=836608)",
}

// mustMatch are lines that must be compared: what the loader and the CPU
// model must reproduce.
var mustMatch = []string{
	"Linux version 6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-11-26)",
	"Command line: console=ttyS0 acpi=off panic=-1",
	"SMBIOS 2.8 present.",
	"BIOS-e820: [mem 0x0000000000100000-0x000000000ffdffff] usable",
	"RAMDISK: [mem 0x0fed6000-0x0ffdffff]",
	"x86/fpu: x87 FPU will use FXSAVE",
	"process: using AMD E400 aware idle routine",
	"PCI: Probing PCI hardware",
	"PCI host bridge to bus 0000:00",
	"clocksource: Switched to clocksource tsc",
	"serial8250: ttyS0 at I/O 0x3f8 (irq = 4, base_baud = 115200) is a 16550A",
	"i8042: Probing ports directly.",
	"Freeing initrd memory: 1064K",
	"Run /init as init process",
	"NMI watchdog: Perf NMI watchdog permanently disabled",
	// Our machine's i440FX, PIIX3 ISA bridge and i8042.
	"pci 0000:00:00.0: [8086:1237] type 00 class 0x060000",
	"pci 0000:00:01.0: [8086:7000] type 00 class 0x060100",
	"pci 0000:00:01.0: PIIX3: Enabling Passive Release",
	"pci 0000:00:00.0: Limiting direct PCI/PCI transfers",
	"pci_bus 0000:00: busn_res: [bus 00-ff] end is updated to 00",
	"vgaarb: loaded",
	"serio: i8042 KBD port at 0x60,0x64 irq 1",
	"serio: i8042 AUX port at 0x60,0x64 irq 12",
	"input: AT Translated Set 2 keyboard as /devices/platform/i8042/serio0/input/input0",
}

func TestAllowedDifferences(t *testing.T) {
	used := map[*Allowed]bool{}
	for _, l := range append(append([]string(nil), qemuSamples...), oursSamples...) {
		a := AllowedFor(l)
		if a == nil {
			t.Errorf("not allowed to differ: %q", l)
			continue
		}
		used[a] = true
	}
	for i := range AllowedDifferences {
		a := &AllowedDifferences[i]
		if !used[a] {
			t.Errorf("entry %s matches no sample line: add the QEMU line it is for", a.Pattern)
		}
		if a.Why == "" {
			t.Errorf("entry %s says not why", a.Pattern)
		}
	}
	for _, l := range mustMatch {
		if a := AllowedFor(l); a != nil {
			t.Errorf("%q is excused by %s; it must be compared", l, a.Pattern)
		}
	}
}

func TestComparable(t *testing.T) {
	cases := []struct {
		line, form string
		ok         bool
	}{
		{"Run /init as init process", "Run /init as init process", true},
		{"DMI: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014", "", false},
		{"tsc: Detected 999.993 MHz processor", "", false},
		{"pci 0000:00:03.0: [8086:100e] type 00 class 0x020000", "", false},
		{"pci 0000:00:01.0: PIIX/ICH IRQ router [8086:7000]", "", false},
		{"Console: colour VGA+ 80x25", "", false},
		{"Memory: 213700K/261624K available (14343K kernel code, 2327K rwdata, 8348K rodata, 2612K init, 5436K bss, 47664K reserved, 0K cma-reserved)",
			"Memory: …K/261624K available (14343K kernel code, 2327K rwdata, 8348K rodata, 2612K init, 5436K bss, …K reserved, 0K cma-reserved)", true},
		{"sched_clock: Marking stable (413777636, 853696)->(416827371, -2196039)", "sched_clock: Marking stable (…, …)->(…, …)", true},
		{"clocksource: tsc-early: mask: 0xffffffffffffffff max_cycles: 0x1cd420e9bab, max_idle_ns: 881590482973 ns",
			"clocksource: tsc-early: mask: 0xffffffffffffffff max_cycles: …, max_idle_ns: … ns", true},
		{"rtc_cmos rtc_cmos: setting system clock to 2025-01-01T00:00:00 UTC (1735689600)", "rtc_cmos rtc_cmos: setting system clock to … UTC (…)", true},
	}
	for _, tc := range cases {
		if form, ok := Comparable(tc.line); form != tc.form || ok != tc.ok {
			t.Errorf("Comparable(%q) = %q, %v; want %q, %v", tc.line, form, ok, tc.form, tc.ok)
		}
	}
}

func TestCompareKernelLogs(t *testing.T) {
	qemu := []string{"Linux version 6.1.0", "DMI: QEMU Standard PC", "a", "b", "b", "tsc: Detected 999.993 MHz processor", "only qemu"}
	ours := []string{"Linux version 6.1.0", "DMI: vmapstack Emulated PC", "b", "a", "only ours", "tsc: Detected 1000.000 MHz processor", "b"}
	onlyQ, onlyO := CompareKernelLogs(qemu, ours)
	if !reflect.DeepEqual(onlyQ, []string{"only qemu"}) || !reflect.DeepEqual(onlyO, []string{"only ours"}) {
		t.Errorf("only QEMU %q, only ours %q", onlyQ, onlyO)
	}
	// A masked line must still be in both logs, and its unmasked part equal.
	memQ := "Memory: 213696K/261624K available (14343K kernel code, 2327K rwdata, 8348K rodata, 2612K init, 5436K bss, 47668K reserved, 0K cma-reserved)"
	memO := "Memory: 213700K/261624K available (14343K kernel code, 2327K rwdata, 8348K rodata, 2612K init, 5436K bss, 47664K reserved, 0K cma-reserved)"
	memBad := "Memory: 213700K/262144K available (14343K kernel code, 2327K rwdata, 8348K rodata, 2612K init, 5436K bss, 47664K reserved, 0K cma-reserved)"
	if q, o := CompareKernelLogs([]string{memQ}, []string{memO}); q != nil || o != nil {
		t.Errorf("Memory lines differing in the masked figures: only QEMU %q, only ours %q", q, o)
	}
	if q, o := CompareKernelLogs([]string{memQ}, []string{memBad}); len(q) != 1 || len(o) != 1 {
		t.Errorf("Memory lines differing in the total: only QEMU %q, only ours %q", q, o)
	}
	if q, o := CompareKernelLogs([]string{memQ}, nil); len(q) != 1 || o != nil {
		t.Errorf("Memory line missing in ours: only QEMU %q, only ours %q", q, o)
	}
	onlyQ, onlyO = CompareKernelLogs([]string{"x", "x"}, []string{"x"})
	if !reflect.DeepEqual(onlyQ, []string{"x"}) || onlyO != nil {
		t.Errorf("multiplicity: only QEMU %q, only ours %q", onlyQ, onlyO)
	}
}

func TestProblems(t *testing.T) {
	bad := []string{
		"BUG: kernel NULL pointer dereference, address: 0000000000000000",
		"Oops: 0002 [#1] PREEMPT SMP NOPTI",
		"WARNING: CPU: 0 PID: 1 at arch/x86/kernel/fpu/core.c:100",
		"awk[75]: segfault at 0 ip 0000000000401000 sp 00007ffc error 4 in busybox[401000+1000]",
		"traps: sh[80] trap invalid opcode ip:4a3f2c sp:7ffd error:0 in busybox[401000+186000]",
		"Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100",
	}
	log := strings.Join(append(append([]string(nil), mustMatch...), qemuSamples...), "\n") + "\n"
	if p := Problems(log); len(p) != 0 {
		t.Errorf("benign lines reported: %q", p)
	}
	if p := Problems(log + strings.Join(bad, "\r\n")); !reflect.DeepEqual(p, bad) {
		t.Errorf("Problems = %q, want %q", p, bad)
	}
}
