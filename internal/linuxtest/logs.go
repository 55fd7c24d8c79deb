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
// command line: a line matching Pattern is left out of the comparison on
// both sides.
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
	// Firmware. QEMU boots through SeaBIOS, which publishes SMBIOS tables;
	// our machine has no firmware ("DMI not present or invalid.").
	allow(`^SMBIOS [0-9.]+ present\.$`, "SMBIOS tables come from SeaBIOS; our machine has no firmware"),
	allow(`^DMI: |^DMI not present or invalid\.$`, "the DMI identity (board, BIOS version and date) comes from SeaBIOS's SMBIOS tables"),

	// Time. The kernel measures the TSC against the PIT and derives
	// BogoMIPS and the clocksource parameters from it; QEMU's TCG and our
	// interpreter execute a different number of instructions during the
	// measurement, so the figures differ slightly even on instruction clocks.
	allow(`^tsc: `, "TSC calibration against the PIT: a measurement, slightly different per machine (e.g. 999.993 MHz under QEMU -icount shift=0)"),
	allow(`^clocksource: tsc(-early)?: mask: 0x[0-9a-f]+ max_cycles: 0x[0-9a-f]+, max_idle_ns: [0-9]+ ns$`, "max_cycles and max_idle_ns follow from the calibrated TSC frequency"),
	allow(`^Calibrating delay loop.* [0-9.]+ BogoMIPS \(lpj=[0-9]+\)$`, "BogoMIPS and loops_per_jiffy: derived from the calibrated TSC frequency, or measured with the delay loop when the TSC could not be calibrated"),
	allow(`^smpboot: Total of 1 processors activated \([0-9.]+ BogoMIPS\)$`, "BogoMIPS again"),
	allow(`^sched_clock: Marking stable \(`, "prints sched_clock and ktime readings: timings"),
	allow(`^audit: type=2000 audit\([0-9]+\.[0-9]+:1\): `, "the audit record carries the wall-clock time of its creation"),
	allow(`^rtc_cmos rtc_cmos: setting system clock to `, "the RTC is read at a virtual time that depends on how many instructions ran before (SeaBIOS runs first under QEMU)"),

	// Devices of QEMU's i440FX board that our machine does not have: its
	// PCI configuration space answers "no device" (DESIGN.md §3).
	allow(`^pci 0000:00:`, "the i440FX host bridge, PIIX3 ISA/IDE/ACPI functions, the VGA card and the e1000 NIC QEMU puts on PCI bus 0"),
	allow(`^pci_bus 0000:00: busn_res: `, "bus-number bookkeeping after the scan of QEMU's PCI devices"),
	allow(`vgaarb: `, "the VGA arbiter registers QEMU's PCI VGA card"),
	allow(`^Console: colour `, "QEMU's VGA text mode gives the VGA+ console; without a VGA card the kernel uses the dummy console"),
	allow(`^serio: i8042 (KBD|AUX) port at 0x60,0x64 irq (1|12)$`, "QEMU's i8042 has a keyboard and a mouse port; ours implements the controller for its reset command only"),
	allow(`^input: AT Translated Set 2 keyboard as `, "the PS/2 keyboard behind QEMU's i8042"),
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

// CompareKernelLogs compares two normalised kernel logs, leaving out the
// lines AllowedDifferences names, and returns the lines only QEMU's log
// has and the lines only ours has (with their multiplicity: a line
// printed twice in one log and once in the other is reported once).
//
// The order of lines is not compared: asynchronous initcalls (the
// initramfs unpacking, the i8042 probe, the clocksource switch) land in
// the log when they finish, which depends on timing even between two QEMU
// runs with and without -icount.
func CompareKernelLogs(qemu, ours []string) (onlyQEMU, onlyOurs []string) {
	count := map[string]int{}
	for _, l := range qemu {
		if AllowedFor(l) == nil {
			count[l]++
		}
	}
	for _, l := range ours {
		if AllowedFor(l) == nil {
			count[l]--
		}
	}
	for _, l := range qemu {
		if count[l] > 0 {
			onlyQEMU = append(onlyQEMU, l)
			count[l]--
		}
	}
	for _, l := range ours {
		if count[l] < 0 {
			onlyOurs = append(onlyOurs, l)
			count[l]++
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
