package linuxtest

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// timestamp is printk's time prefix, "[    1.234567] ".
var timestamp = regexp.MustCompile(`^\[ *[0-9]+\.[0-9]+\] ?`)

// NormalizeKernelLog returns the lines of a kernel log (dmesg output or a
// console capture) in a form two machines' logs can be compared in:
// carriage returns and printk timestamps dropped, trailing blanks kept
// (the kernel prints some, e.g. the PAT line), empty lines dropped.
func NormalizeKernelLog(log string) []string {
	var out []string
	for _, l := range strings.Split(strings.ReplaceAll(log, "\r", ""), "\n") {
		l = timestamp.ReplaceAllString(l, "")
		if strings.TrimSpace(l) == "" {
			continue
		}
		out = append(out, l)
	}
	return out
}

// Allowed is one kind of kernel log line that may legitimately differ
// between QEMU 7.2 and our machine booting the same kernel, initramfs and
// command line. A line matching Pattern is compared with the text of
// Pattern's capturing groups masked, so the rest of it must still match
// and the line must be in both logs; a pattern without groups leaves the
// line out of the comparison on both sides (for lines one machine may
// print and the other not).
type Allowed struct {
	Pattern *regexp.Regexp
	Why     string
}

func allow(pattern, why string) Allowed {
	return Allowed{Pattern: regexp.MustCompile(pattern), Why: why}
}

// AllowedDifferences is the documented list of kernel log lines that may
// differ. Each entry is what QEMU 7.2 (SeaBIOS firmware, i440FX board,
// -icount shift=0) prints for Debian's cloud kernel that our machine will
// legitimately not print the same way. Everything else must match: the
// e820 map, the memory figures and the initrd placement included, since
// the loader reproduces what QEMU and its firmware hand the kernel.
var AllowedDifferences = []Allowed{
	// Firmware. QEMU boots through SeaBIOS, which publishes QEMU's SMBIOS
	// tables; our machine publishes its own (boot.WriteSMBIOS), so "SMBIOS
	// 2.8 present." is the same but the identity differs.
	allow(`^DMI: `, "the DMI identity: QEMU's board and SeaBIOS's version and date there, this machine's name here"),

	// Time. The kernel measures the TSC against the PIT and derives
	// BogoMIPS and the clocksource parameters from it; QEMU's TCG and our
	// interpreter execute a different number of instructions during the
	// measurement, so the figures differ slightly even on instruction clocks.
	allow(`^tsc: `, "TSC calibration against the PIT: a measurement, slightly different per machine (e.g. 999.993 MHz under QEMU -icount shift=0)"),
	allow(`^clocksource: tsc(?:-early)?: mask: 0xffffffffffffffff max_cycles: (0x[0-9a-f]+), max_idle_ns: ([0-9]+) ns$`, "max_cycles and max_idle_ns follow from the calibrated TSC frequency"),
	allow(`^Calibrating delay loop.* [0-9.]+ BogoMIPS \(lpj=[0-9]+\)$`, "BogoMIPS and loops_per_jiffy: derived from the calibrated TSC frequency, or measured with the delay loop when the TSC could not be calibrated"),
	allow(`^smpboot: Total of 1 processors activated \(([0-9.]+) BogoMIPS\)$`, "BogoMIPS again"),
	allow(`^sched_clock: Marking stable \((-?[0-9]+), (-?[0-9]+)\)->\((-?[0-9]+), (-?[0-9]+)\)$`, "sched_clock and ktime readings: timings"),
	allow(`^audit: type=2000 audit\(([0-9]+\.[0-9]+):1\): state=initialized audit_enabled=0 res=1$`, "the audit record carries the wall-clock time of its creation"),
	allow(`^rtc_cmos rtc_cmos: setting system clock to ([0-9T:-]+) UTC \(([0-9]+)\)$`, "the RTC is read at a virtual time that depends on how many instructions ran before (SeaBIOS runs first under QEMU)"),

	// Placement. Debian's kernel is built with CONFIG_RANDOMIZE_BASE: its
	// decompressor chooses the kernel's physical and virtual addresses from
	// the TSC and the i8254 counter (qemu64 has no RDRAND), which differ
	// between QEMU (SeaBIOS ran first) and ours. Where the image lands
	// changes, by a page or two, how much memory early boot leaves free
	// (QEMU 213696K, ours 213700K for 6.1.0-57 and the workload; QEMU
	// itself gives 213704K with nokaslr). The total is still compared.
	allow(`^Memory: ([0-9]+)K/[0-9]+K available \([0-9]+K kernel code, [0-9]+K rwdata, [0-9]+K rodata, [0-9]+K init, [0-9]+K bss, ([0-9]+)K reserved, 0K cma-reserved\)$`,
		"free memory after early boot depends on where KASLR put the kernel, which depends on the TSC at boot"),

	// Devices of QEMU's pc machine that our machine does not have. It has
	// the i440FX host bridge (00:00.0), the PIIX3 ISA bridge (00:01.0) and
	// the i8042 with its keyboard and mouse, so their lines are compared;
	// not the PIIX3 IDE (01.1) and ACPI/SMBus (01.3) functions, the VGA
	// card (02.0) or the e1000 NIC (03.0), nor SeaBIOS's $PIR table.
	allow(`^pci 0000:00:(?:01\.[1-7]|0[2-9a-f]\.[0-7]|[1-9a-f][0-9a-f]\.[0-7]): `, "PCI functions QEMU adds beside the i440FX and the PIIX3 ISA bridge: IDE, ACPI/SMBus, VGA, e1000"),
	allow(`^pci 0000:00:01\.0: PIIX/ICH IRQ router \[8086:7000\]$`, "Linux finds the PCI interrupt router through SeaBIOS's $PIR routing table; our machine has no firmware tables"),
	allow(`^Console: colour `, "QEMU's VGA text mode gives the VGA+ console; without a VGA card the kernel uses the dummy console"),
}

// AllowedFor returns the entry that lets line differ, or nil.
func AllowedFor(line string) *Allowed {
	for i := range AllowedDifferences {
		if AllowedDifferences[i].Pattern.MatchString(line) {
			return &AllowedDifferences[i]
		}
	}
	return nil
}

// Comparable returns the form in which line is compared: line itself,
// or with the capturing groups of its AllowedDifferences entry masked as
// "…"; ok is false when the entry leaves the line out.
func Comparable(line string) (form string, ok bool) {
	a := AllowedFor(line)
	if a == nil {
		return line, true
	}
	if a.Pattern.NumSubexp() == 0 {
		return "", false
	}
	m := a.Pattern.FindStringSubmatchIndex(line)
	var b strings.Builder
	last := 0
	for g := 1; g <= a.Pattern.NumSubexp(); g++ {
		start, end := m[2*g], m[2*g+1]
		if start < 0 || start < last {
			continue
		}
		b.WriteString(line[last:start])
		b.WriteString("…")
		last = end
	}
	b.WriteString(line[last:])
	return b.String(), true
}

// CompareKernelLogs compares two normalised kernel logs in their
// Comparable forms and returns the lines only QEMU's log has and the
// lines only ours has (with their multiplicity: a line printed twice in
// one log and once in the other is reported once).
//
// The order of lines is not compared: asynchronous initcalls (the
// initramfs unpacking, the i8042 probe, the clocksource switch) land in
// the log when they finish, which depends on timing even between two QEMU
// runs with and without -icount.
func CompareKernelLogs(qemu, ours []string) (onlyQEMU, onlyOurs []string) {
	count := map[string]int{}
	for _, l := range qemu {
		if f, ok := Comparable(l); ok {
			count[f]++
		}
	}
	for _, l := range ours {
		if f, ok := Comparable(l); ok {
			count[f]--
		}
	}
	for _, l := range qemu {
		if f, ok := Comparable(l); ok && count[f] > 0 {
			onlyQEMU = append(onlyQEMU, l)
			count[f]--
		}
	}
	for _, l := range ours {
		if f, ok := Comparable(l); ok && count[f] < 0 {
			onlyOurs = append(onlyOurs, l)
			count[f]++
		}
	}
	return onlyQEMU, onlyOurs
}

// problemMarkers are what the kernel prints when it or a user-space
// program goes wrong.
var problemMarkers = []string{
	"Oops", "WARNING:", "BUG:", "segfault", "Kernel panic", "general protection fault",
	"traps: ", "invalid opcode", "Call Trace:", "Unable to handle", "double fault",
	"unhandled", "Unknown NMI", "soft lockup", "hard LOCKUP", "self-detected stall",
	"blocked for more than",
}

// Problems returns the lines of a console log or kernel log that report a
// kernel oops, warning or panic or a crashed user-space program.
func Problems(log string) []string {
	var out []string
	for _, l := range strings.Split(strings.ReplaceAll(log, "\r", ""), "\n") {
		for _, m := range problemMarkers {
			if strings.Contains(l, m) {
				out = append(out, l)
				break
			}
		}
	}
	return out
}

// DescribeAllowed lists AllowedDifferences, one "pattern: why" line each,
// sorted, for test logs.
func DescribeAllowed() string {
	var ls []string
	for _, a := range AllowedDifferences {
		ls = append(ls, fmt.Sprintf("%s: %s", a.Pattern, a.Why))
	}
	sort.Strings(ls)
	return strings.Join(ls, "\n")
}
