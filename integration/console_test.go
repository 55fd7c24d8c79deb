package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vmapstack/internal/testtool"
	"vmapstack/kernelimg/qemutest"
)

// runStandalone runs the stub with --listen none and returns the console,
// stderr and exit status.
func runStandalone(t *testing.T, ctx context.Context, flags ...string) (console, stderr string, status int) {
	t.Helper()
	p := startProc(t, ctx, stubBin, append([]string{"--listen", "none"}, flags...)...)
	status, err := p.wait(ctx)
	if err != nil {
		t.Fatalf("stub %q: %v", flags, err)
	}
	return p.stdout.String(), p.stderr.String(), status
}

// firstDiff describes where two console outputs first differ, by line.
func firstDiff(ours, theirs string) string {
	a, b := strings.SplitAfter(ours, "\n"), strings.SplitAfter(theirs, "\n")
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n  ours: %q\n  qemu: %q", i+1, x, y)
		}
	}
	return "no difference"
}

// TestConsoleMatchesQEMU boots every scenario/flag combination of
// qemutest.Cases under QEMU and under the stub with --listen none and
// compares the console byte for byte and the exit status: QEMU exits with
// (code<<1)|1 through isa-debug-exit, the stub with the code; a triple
// fault shuts QEMU down with status 0 (-no-reboot), the stub exits 3 and
// names the exceptions on stderr.
func TestConsoleMatchesQEMU(t *testing.T) {
	t.Parallel()
	testtool.Require(t, qemutest.QEMU)
	for _, c := range qemutest.Cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			acquireHeavy(t)
			ctx := testContext(t)
			q, err := qemutest.Run(ctx, kernelPath, c.Append, qemutest.Options{})
			if err != nil {
				t.Fatalf("qemu: %v", err)
			}
			if err := qemutest.CheckCase(c, q); err != nil {
				t.Fatalf("QEMU itself does not pass the case: %v", err)
			}
			console, stderr, status := runStandalone(t, ctx, "--append", c.Append)
			if console != string(q.Console) {
				t.Errorf("console differs from QEMU's (%d bytes ours, %d QEMU's) at %s",
					len(console), len(q.Console), firstDiff(console, string(q.Console)))
			}
			switch {
			case c.Triple:
				if q.Status != 0 || q.DebugExit {
					t.Errorf("QEMU status %d, want 0 (triple fault under -no-reboot)", q.Status)
				}
				if status != 3 {
					t.Errorf("stub status %d, want 3 (triple fault); stderr: %s", status, stderr)
				}
				for _, w := range []string{"triple fault", "#PF", "#DF"} {
					if !strings.Contains(stderr, w) {
						t.Errorf("stub's triple-fault message does not name %q: %s", w, stderr)
					}
				}
			default:
				if q.Status != c.ExitCode<<1|1 {
					t.Errorf("QEMU status %d, want %d", q.Status, c.ExitCode<<1|1)
				}
				if status != q.Code {
					t.Errorf("stub status %d, QEMU's debug-exit code %d; stderr: %s", status, q.Code, stderr)
				}
			}
		})
	}
}

// endlessBanner is what scenario=endless prints once its tasks are made;
// it prints nothing after it.
const endlessBanner = "endless: 4 tasks computing without end, yielding every 2048\n"

// TestConsoleMatchesQEMUEndless: scenario=endless never exits, so
// TestConsoleMatchesQEMU cannot wait for it. Its tasks print nothing once
// they run, so everything up to its banner is the whole console: QEMU and
// the stub must print it byte for byte, and neither may have exited when
// both have printed it.
func TestConsoleMatchesQEMUEndless(t *testing.T) {
	t.Parallel()
	testtool.Require(t, qemutest.QEMU)
	acquireHeavy(t)
	ctx := testContext(t)
	// One after the other: the heavy slot is one emulator's.
	var consoles [2]string
	for i, args := range [][]string{
		append([]string{qemutest.QEMU}, qemutest.Args(kernelPath, "scenario=endless")...),
		{stubBin, "--listen", "none", "--append", "scenario=endless"},
	} {
		p := startProc(t, ctx, args[0], args[1:]...)
		p.waitStdout(t, ctx, endlessBanner)
		consoles[i] = p.stdout.String()
		if p.exited() {
			t.Errorf("%s: endless ended", p.name)
		}
		p.cmd.Process.Kill()
		p.wait(ctx)
	}
	if consoles[1] != consoles[0] {
		t.Errorf("console differs from QEMU's at %s", firstDiff(consoles[1], consoles[0]))
	}
}

// TestDeterministic runs the same scenarios twice and requires identical
// console output and an identical interrupt trace: the instruction count
// is the machine's only clock, so every timer interrupt lands on the same
// instruction (same IP, same SP) in both runs. tasks and irq-overflow are
// the timer-driven scenarios; bench is too slow to run twice here.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	for _, scenario := range []string{"tasks", "irq-overflow"} {
		t.Run(scenario, func(t *testing.T) {
			t.Parallel()
			acquireHeavy(t)
			ctx := testContext(t)
			dir := t.TempDir()
			var consoles, traces [2]string
			var statuses [2]int
			for i := range 2 {
				trace := filepath.Join(dir, fmt.Sprintf("trace%d", i))
				consoles[i], _, statuses[i] = runStandalone(t, ctx, "--append", "scenario="+scenario, "--trace-int", trace)
				b, err := os.ReadFile(trace)
				if err != nil {
					t.Fatal(err)
				}
				traces[i] = string(b)
			}
			if consoles[0] != consoles[1] {
				t.Errorf("console differs between two runs at %s", firstDiff(consoles[0], consoles[1]))
			}
			if statuses[0] != statuses[1] {
				t.Errorf("exit status %d then %d", statuses[0], statuses[1])
			}
			if traces[0] != traces[1] {
				t.Errorf("interrupt trace differs between two runs at %s", firstDiff(traces[0], traces[1]))
			}
			timer := 0
			for _, r := range qemutest.ParseIntLog(traces[0]) {
				if r.Kind == "int" && r.Vector >= 32 {
					timer++
				}
			}
			if timer == 0 {
				t.Errorf("no external interrupt in the %s trace: the determinism check saw no timer", scenario)
			}
			if !bytes.Contains([]byte(consoles[0]), []byte("scenario: ")) {
				t.Errorf("no console output: %q", consoles[0])
			}
		})
	}
}
