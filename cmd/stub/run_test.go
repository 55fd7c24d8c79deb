package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vmapstack/internal/testtool"
	"vmapstack/kernelimg"
	"vmapstack/kernelimg/qemutest"
	"vmapstack/target"
)

// standalone returns the options of `stub --listen none --append line`.
func standalone(t *testing.T, line string) options {
	t.Helper()
	o, err := parseArgs([]string{"--listen", "none", "--append", line}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// runStub runs the stub's main logic with a safety-net timeout.
func runStub(t *testing.T, o options) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code = run(ctx, o, stdio{in: strings.NewReader(""), out: &out, err: &errb})
	if ctx.Err() != nil {
		t.Fatalf("no exit within the safety timeout; console:\n%s", out.String())
	}
	return code, out.String(), errb.String()
}

// TestScenarios runs every kernel scenario with --listen none and checks
// the console and the exit status against the expectations the kernel's
// QEMU tests use (kernelimg/qemutest.Cases).
func TestScenarios(t *testing.T) {
	for _, c := range qemutest.Cases {
		t.Run(c.Name, func(t *testing.T) {
			if testtool.Short() && c.Name == "bench" {
				t.Skip("bench runs 272 million instructions; skipped in -short mode")
			}
			code, out, errs := runStub(t, standalone(t, c.Append))
			res := &qemutest.Result{Console: []byte(out), Status: code}
			switch code {
			case 0, 1:
				res.DebugExit, res.Code = true, code
			case exitTripleFault:
				res.IntLog = "Triple fault"
				if !strings.HasPrefix(errs, "stub: triple fault: ") {
					t.Errorf("stderr %q does not explain the triple fault", errs)
				}
			default:
				t.Fatalf("exit %d, stderr %q, console:\n%s", code, errs, out)
			}
			if err := qemutest.CheckCase(c, res); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestTripleFaultMessage(t *testing.T) {
	code, _, errs := runStub(t, standalone(t, "scenario=overflow noist"))
	if code != exitTripleFault {
		t.Fatalf("exit %d, want %d", code, exitTripleFault)
	}
	// The three exceptions: the #PF on the guard page, the #DF (no IST,
	// so on the same full stack), the #PF while pushing the #DF frame.
	for _, want := range []string{"#PF (error 0x2, CR2=0xffffc90000003ff8)", "#DF could not be delivered", "[#PF -> #DF -> #PF -> shutdown]"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr %q lacks %q", errs, want)
		}
	}
}

func TestBreakOnWithoutDebugger(t *testing.T) {
	o := standalone(t, "scenario=overflow")
	var err error
	if o.BreakOn, err = target.ParseBreakOn("pf,df"); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runStub(t, o)
	if code != 1 || !strings.Contains(out, "kernel stack overflow (double-fault)") {
		t.Fatalf("exit %d, console:\n%s", code, out)
	}
	// Each break-on stop is reported on stderr and the machine goes on.
	// The #PF on the guard page is never delivered (pushing its frame
	// faults), so only the #DF, delivered on IST 1, stops the machine.
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "stub: break-on: #DF (error 0x0) at RIP=0xffffffff") || !strings.Contains(lines[0], "on IST1, raised while delivering #PF (error 0x2, CR2=0xffffc90000003ff8)") {
		t.Errorf("stderr:\n%s", errs)
	}
	// overflow-pf: the #PF is delivered (RSP still had room).
	o = standalone(t, "scenario=overflow-pf")
	o.BreakOn, _ = target.ParseBreakOn("pf")
	code, _, errs = runStub(t, o)
	if code != 1 || !strings.HasPrefix(errs, "stub: break-on: #PF (error 0x2, CR2=0xffffc90000003") {
		t.Errorf("overflow-pf: exit %d, stderr %q", code, errs)
	}
}

func TestSerialAndTraceFiles(t *testing.T) {
	dir := t.TempDir()
	o := standalone(t, "scenario=overflow")
	o.Serial = filepath.Join(dir, "console.txt")
	o.TraceInt = filepath.Join(dir, "int.log")
	code, out, _ := runStub(t, o)
	if code != 1 || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	console, err := os.ReadFile(o.Serial)
	if err != nil || !bytes.Contains(console, []byte("BUG: stack guard page was hit at 0xffffc90000003ff8")) {
		t.Errorf("console file: %v\n%s", err, console)
	}
	trace, err := os.ReadFile(o.TraceInt)
	if err != nil {
		t.Fatal(err)
	}
	recs := qemutest.ParseIntLog(string(trace))
	pf, df := -1, -1
	for i, r := range recs {
		if r.Vector == 14 && pf < 0 {
			pf = i
		}
		if r.Vector == 8 && df < 0 {
			df = i
		}
	}
	if pf < 0 || df != pf+1 || recs[pf].CR2 != 0xffffc90000003ff8 || recs[df].IP != recs[pf].IP {
		t.Errorf("trace lacks #PF then #DF at the same IP:\n%s", trace)
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	notELF := filepath.Join(dir, "notelf")
	os.WriteFile(notELF, []byte("hello"), 0o644)
	fifo := filepath.Join(dir, "fifo")
	mkfifo(t, fifo)
	huge := filepath.Join(dir, "huge") // sparse: larger than the guest's RAM
	if err := os.WriteFile(huge, nil, 0o644); err != nil || os.Truncate(huge, 200<<20) != nil {
		t.Fatal("cannot make the sparse file")
	}
	// SYSENTER: an instruction qemu64 has and we do not implement.
	sysenter := filepath.Join(dir, "sysenter.elf")
	os.WriteFile(sysenter, testtool.PVHKernel([]byte{0x0f, 0x34}), 0o644)
	// A bzImage header of protocol 2.11: no 64-bit entry point.
	oldBz := filepath.Join(dir, "oldbz")
	bz := make([]byte, 8192)
	bz[0x1fe], bz[0x1ff] = 0x55, 0xaa
	copy(bz[0x202:], "HdrS")
	bz[0x206], bz[0x207] = 0x0b, 0x02
	os.WriteFile(oldBz, bz, 0o644)
	// An ELF with no symbol table: a PVH kernel testtool builds.
	stripped := filepath.Join(dir, "stripped")
	os.WriteFile(stripped, testtool.PVHKernel([]byte{0xf4}), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing kernel", []string{"--kernel", filepath.Join(dir, "nope.elf")}, "--kernel: stat "},
		{"not an ELF", []string{"--kernel", notELF}, "notelf: not a kernel this machine can boot"},
		{"unimplemented instruction", []string{"--kernel", sysenter}, "stub: internal error: cpu: at rip 0x100000: unimplemented instruction 0f 34 (sysenter)"},
		{"kernel is a device", []string{"--kernel", "/dev/zero"}, "--kernel: /dev/zero is not a regular file"},
		{"kernel is a FIFO", []string{"--kernel", fifo}, "fifo is not a regular file"},
		{"old bzImage", []string{"--kernel", oldBz}, "oldbz: boot protocol 2.11: this machine needs 2.12 or later"},
		{"missing initrd", []string{"--initrd", filepath.Join(dir, "nope.img")}, "--initrd: stat "},
		{"initrd larger than RAM", []string{"--memory", "128M", "--initrd", huge}, "huge is 200 MiB, more than the 128 MiB it may be"},
		{"serial dir missing", []string{"--serial", filepath.Join(dir, "no", "such", "file")}, "--serial: open"},
		{"unknown scenario", []string{"--append", "scenario=nonesuch"}, ""},
		{"symbols missing", []string{"--symbols", filepath.Join(dir, "nope")}, "--symbols: stat "},
		{"symbols not an ELF", []string{"--symbols", notELF}, "--symbols: " + notELF + " is not an ELF file"},
		{"symbols without a symbol table", []string{"--symbols", stripped}, "stripped has no symbol table"},
		{"symbols a device", []string{"--symbols", "/dev/zero"}, "--symbols: /dev/zero is not a regular file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseArgs(append([]string{"--listen", "none"}, tc.args...), &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			code, _, errs := runStub(t, o)
			if tc.want == "" {
				// The kernel panics: exit 1, nothing from the stub.
				if code != 1 || errs != "" {
					t.Errorf("exit %d, stderr %q", code, errs)
				}
				return
			}
			if code != exitFailure || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr %q, want %d and %q", code, errs, exitFailure, tc.want)
			}
		})
	}
}

// TestTraceIntMatchesQEMU compares --trace-int with QEMU's `-d int` log
// for the scenarios whose exceptions do not depend on timer timing: the
// same deliveries, vectors, error codes, CS:IP, SS:SP and CR2. QEMU's
// timer interrupts come at host-time moments, so external interrupts
// (vectors >= 32) and the line counter are left out of the comparison;
// so is EAX (see target/eventrax.go).
func TestTraceIntMatchesQEMU(t *testing.T) {
	testtool.Require(t, qemutest.QEMU)
	kernel := filepath.Join(t.TempDir(), "kernel.elf")
	if err := os.WriteFile(kernel, kernelimg.ELF, 0o644); err != nil {
		t.Fatal(err)
	}
	exceptions := func(log string) []string {
		var out []string
		for _, r := range qemutest.ParseIntLog(log) {
			if r.Kind == "int" && r.Vector < 32 {
				out = append(out, r.String())
			}
		}
		return out
	}
	for _, line := range []string{"scenario=overflow", "scenario=overflow-pf", "scenario=overflow noist",
		"scenario=lazy-pgd nosync", "scenario=lazy-pgd noprobe"} {
		t.Run(line, func(t *testing.T) {
			q, err := qemutest.Run(context.Background(), kernel, line, qemutest.Options{IntLog: true})
			if err != nil {
				t.Fatal(err)
			}
			o := standalone(t, line)
			o.Serial = "none"
			o.TraceInt = filepath.Join(t.TempDir(), "int.log")
			runStub(t, o)
			ours, err := os.ReadFile(o.TraceInt)
			if err != nil {
				t.Fatal(err)
			}
			want, got := exceptions(q.IntLog), exceptions(string(ours))
			if len(want) == 0 {
				t.Fatalf("QEMU logged no exception:\n%s", q.IntLog)
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("deliveries differ\nqemu:\n%s\nours:\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"))
			}
		})
	}
}

// TestGuestResetExitsZero: a guest reset ends a --listen none run with
// status 0 (QEMU -no-reboot) and one line saying how it happened.
func TestGuestResetExitsZero(t *testing.T) {
	kernel := filepath.Join(t.TempDir(), "reset.elf")
	if err := os.WriteFile(kernel, testtool.PVHKernel([]byte{0xb0, 0x01, 0xe6, 0x92, 0xf4}), 0o644); err != nil { // mov al,1; out 0x92,al; hlt
		t.Fatal(err)
	}
	o, err := parseArgs([]string{"--listen", "none", "--kernel", kernel}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	code, _, errs := runStub(t, o)
	if code != 0 || errs != "stub: the guest reset the machine (port 0x92): the run ends, as QEMU's with -no-reboot\n" {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}
