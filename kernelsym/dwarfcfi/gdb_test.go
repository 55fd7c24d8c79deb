package dwarfcfi_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"vmapstack/gdbproto"
	"vmapstack/gdbtarget"
	"vmapstack/internal/testtool"
	"vmapstack/kernelimg"
	"vmapstack/kernelsym/dwarfcfi"
	"vmapstack/target"
)

// gdbDump prints gdb's frames one a line, "FRAME tag pc sp kind name",
// and the reason gdb stopped unwinding after the last one.
const gdbDump = `
import gdb

def dump(tag):
    f = gdb.newest_frame()
    last = f
    while f is not None:
        kind = "sig" if f.type() == gdb.SIGTRAMP_FRAME else "normal"
        sp = int(f.read_register("rsp")) & 0xffffffffffffffff
        print("FRAME %s %#x %#x %s %s" % (tag, f.pc(), sp, kind, f.name()))
        last = f
        f = f.older()
    print("STOP %s %s" % (tag, gdb.frame_stop_reason_string(last.unwind_stop_reason())))
`

// gdbFrame is one frame as gdb's Python API gives it.
type gdbFrame struct {
	pc, sp uint64
	signal bool
	name   string
}

// serveMachine serves m to debuggers on a loopback TCP port until the
// test ends.
func serveMachine(t *testing.T, m *target.Machine) string {
	t.Helper()
	l, err := gdbproto.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := gdbproto.NewServer(gdbtarget.New(m, gdbtarget.Config{ExecPath: "kernel.elf"}))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		select {
		case <-done:
		case <-time.After(30 * time.Second): // a safety net only
			t.Errorf("Serve did not return after Close")
		}
	})
	return l.Addr().String()
}

// TestKernelBacktraceMatchesGDB: real gdb, attached to the machine
// stopped where an exception is delivered, unwinds the same frames (PC,
// SP, signal frame or not, function) as Unwind, there and again at
// handle_stack_overflow: the #DF of scenario=overflow (IST 1 back onto
// the task stack), and the #PF of scenario=overflow-pf (on the task
// stack itself).
func TestKernelBacktraceMatchesGDB(t *testing.T) {
	gdbPath := testtool.Require(t, "gdb")
	syms := kernelSyms(t)
	dir := t.TempDir()
	kernel, script := filepath.Join(dir, "kernel.elf"), filepath.Join(dir, "dump.py")
	if err := os.WriteFile(kernel, kernelimg.ELF, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, []byte(gdbDump), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sc := range []struct {
		cmdline string
		vector  uint8
	}{{"scenario=overflow", 8}, {"scenario=overflow-pf", 14}} {
		t.Run(sc.cmdline, func(t *testing.T) {
			// Ours, on a machine of its own (the machine is
			// deterministic: gdb's, below, stops in the same states).
			m := bootTo(t, sc.cmdline, sc.vector)
			atEntry, err := unwindMachine(t, m)
			if err != nil {
				t.Fatal(err)
			}
			runTo(t, m, symAddr(t, syms, "handle_stack_overflow"))
			inHandler, err := unwindMachine(t, m)
			if err != nil {
				t.Fatal(err)
			}

			addr := serveMachine(t, bootTo(t, sc.cmdline, sc.vector))
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, gdbPath, "-batch", "-nx", "-ex", "set pagination off", "-ex", "set confirm off", kernel,
				"-ex", "target remote "+addr, "-x", script,
				"-ex", "python dump('ENTRY')", "-ex", "bt 3", "-ex", "bt -3",
				"-ex", "break handle_stack_overflow", "-ex", "continue",
				"-ex", "python dump('HANDLER')", "-ex", "bt 6", "-ex", "bt -3")
			cmd.WaitDelay = 5 * time.Second
			outb, err := cmd.CombinedOutput()
			out := string(outb)
			if err != nil {
				t.Fatalf("gdb: %v\n%s", err, out)
			}
			var bt []string
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(l, "#") || strings.HasPrefix(l, "STOP ") {
					bt = append(bt, l)
				}
			}
			t.Logf("gdb:\n%s", strings.Join(bt, "\n"))
			compareGDB(t, syms, out, "ENTRY", atEntry)
			compareGDB(t, syms, out, "HANDLER", inHandler)
		})
	}
}

// compareGDB compares the frames gdb's dump printed under tag with ours.
func compareGDB(t *testing.T, syms []ksym, out, tag string, ours []dwarfcfi.Frame) {
	t.Helper()
	theirs := parseGDBFrames(t, out, tag)
	if len(theirs) != len(ours) {
		t.Errorf("%s: gdb unwinds %d frames, Unwind %d:\ngdb:    %s\nUnwind: %s", tag, len(theirs), len(ours),
			squash(gdbNames(theirs)), squash(frameNames(syms, ours)))
	}
	for i := 0; i < len(theirs) && i < len(ours); i++ {
		g, o := theirs[i], ours[i]
		name := symbolize(syms, o.LookupPC)
		if g.pc != o.PC || g.sp != o.SP || g.signal != o.Signal || !g.signal && g.name != name {
			t.Errorf("%s frame #%d: gdb pc %#x sp %#x signal %v %s; Unwind pc %#x sp %#x signal %v %s",
				tag, i, g.pc, g.sp, g.signal, g.name, o.PC, o.SP, o.Signal, name)
			break
		}
	}
	// gdb ends where the CFI says the return address is undefined: the
	// outermost frame, as Unwind's EndUndefinedRA.
	m := regexp.MustCompile(`(?m)^STOP ` + tag + ` (.*)$`).FindStringSubmatch(out)
	if m == nil || m[1] != "outermost" || ours[len(ours)-1].End != dwarfcfi.EndUndefinedRA {
		t.Errorf("%s: gdb's last stop reason %q, ours %v; want outermost", tag, m, ours[len(ours)-1].End)
	}
}

func parseGDBFrames(t *testing.T, out, tag string) []gdbFrame {
	t.Helper()
	re := regexp.MustCompile(`(?m)^FRAME ` + tag + ` 0x([0-9a-f]+) 0x([0-9a-f]+) (sig|normal) (\S+)$`)
	var frames []gdbFrame
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		pc, _ := strconv.ParseUint(m[1], 16, 64)
		sp, _ := strconv.ParseUint(m[2], 16, 64)
		frames = append(frames, gdbFrame{pc: pc, sp: sp, signal: m[3] == "sig", name: m[4]})
	}
	if len(frames) == 0 {
		t.Fatalf("no %s frames in gdb's output:\n%s", tag, out)
	}
	return frames
}

func gdbNames(frames []gdbFrame) []string {
	var names []string
	for _, f := range frames {
		if f.signal {
			names = append(names, "<signal handler called>")
		} else {
			names = append(names, f.name)
		}
	}
	return names
}
