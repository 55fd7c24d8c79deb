package integration

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"vmapstack/internal/testtool"
	"vmapstack/kernelimg"
	"vmapstack/kernelimg/qemutest"
)

// Paths set up once by TestMain: the stub built from this tree and the
// embedded kernel written to a file (QEMU's -kernel, lldb's target).
var (
	stubBin    string
	kernelPath string
)

// testTimeout is the safety net of every test: nothing here should take
// more than a few seconds, but a wedged debugger must not hang the run.
// It bounds a whole test, and some run eight gdb sessions and as many
// boots one after another, each several seconds on a loaded 2-core host:
// so minutes, not the seconds a quiet machine needs.
const testTimeout = 3 * time.Minute

// heavy limits how many emulators (our stub or QEMU) run at once: the
// machine has 2 cores shared with other work.
var heavy = make(chan struct{}, 2)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "vmapstack-integration")
	if err != nil {
		fmt.Fprintf(os.Stderr, "integration: temp dir: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if stubBin, err = testtool.BuildStub(dir); err != nil {
		fmt.Fprintf(os.Stderr, "integration: %v\n", err)
		return 1
	}
	kernelPath = filepath.Join(dir, "kernel.elf")
	if err := os.WriteFile(kernelPath, kernelimg.ELF, 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "integration: write kernel: %v\n", err)
		return 1
	}
	return m.Run()
}

// acquireHeavy takes an emulator slot until the test ends.
func acquireHeavy(t *testing.T) {
	t.Helper()
	heavy <- struct{}{}
	t.Cleanup(func() { <-heavy })
}

// testContext is a context that ends with the test or after testTimeout.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// proc is a started process that the test's cleanup kills.
type proc struct {
	name           string
	cmd            *exec.Cmd
	stdout, stderr *testtool.SyncBuffer
	done           chan struct{}
	waitErr        error
}

func startProc(t *testing.T, ctx context.Context, name string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, stdout: &testtool.SyncBuffer{}, stderr: &testtool.SyncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, name, args...)
	p.cmd.Stdout = p.stdout
	p.cmd.Stderr = p.stderr
	p.cmd.WaitDelay = 5 * time.Second
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits for the process to end and returns its exit status (-1 when
// it was killed by a signal).
func (p *proc) wait(ctx context.Context) (int, error) {
	select {
	case <-p.done:
	case <-ctx.Done():
		return 0, fmt.Errorf("%s did not exit: %w (stderr: %s)", p.name, ctx.Err(), p.stderr.String())
	}
	var ee *exec.ExitError
	switch {
	case p.waitErr == nil:
		return 0, nil
	case errors.As(p.waitErr, &ee):
		return ee.ExitCode(), nil
	default:
		return 0, p.waitErr
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitStdout waits until the process has printed want on stdout: proof
// that it got that far, where a sleep would only hope so. It fails the
// test if the process exits first or ctx ends (the safety net).
func (p *proc) waitStdout(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	for !strings.Contains(p.stdout.String(), want) {
		if p.exited() {
			t.Fatalf("%s exited before printing %q: %s%s", p.name, want, p.stdout.String(), p.stderr.String())
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s did not print %q: %v\n%s", p.name, want, ctx.Err(), p.stdout.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// stub is a running stub serving a debugger.
type stub struct {
	*proc
	gdbAddr  string // what gdb's "target remote" takes
	lldbAddr string // what lldb's "gdb-remote" takes
}

// startStub starts the stub listening on a fresh unix socket (tcp: on a
// free loopback port, for clients that want host:port) with extra flags,
// and waits until it listens.
func startStub(t *testing.T, ctx context.Context, tcp bool, flags ...string) *stub {
	t.Helper()
	s := &stub{}
	var listen string
	if tcp {
		// Port 0: the stub binds a free port and its banner names it
		// (below), so no other process can take it between a probe and
		// the bind.
		listen = "127.0.0.1:0"
	} else {
		path := testtool.SocketPath(t)
		listen = "unix:" + path
		s.gdbAddr, s.lldbAddr = path, "unix-connect://"+path
	}
	args := append([]string{"--listen", listen}, flags...)
	s.proc = startProc(t, ctx, stubBin, args...)
	// The stub prints this line once its listener is open; probing the
	// socket instead would open a debugger session.
	for !strings.Contains(s.stderr.String(), "waiting for a debugger on") {
		if s.exited() {
			t.Fatalf("stub exited before listening: %s", s.stderr.String())
		}
		select {
		case <-ctx.Done():
			t.Fatalf("stub did not listen: %v (stderr: %s)", ctx.Err(), s.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	if tcp {
		m := regexp.MustCompile(`waiting for a debugger on (127\.0\.0\.1:[1-9][0-9]*)\n`).FindStringSubmatch(s.stderr.String())
		if m == nil {
			t.Fatalf("the banner names no bound port: %s", s.stderr.String())
		}
		s.gdbAddr, s.lldbAddr = m[1], m[1]
	}
	return s
}

// startQEMUGDB starts QEMU halted (-S) on the kernel with its gdb stub on
// a unix socket and returns the socket path.
func startQEMUGDB(t *testing.T, ctx context.Context, appendLine string) (*proc, string) {
	t.Helper()
	path := testtool.SocketPath(t)
	// The instruction clock keeps QEMU's ticks where a loaded host would
	// move them, so what gdb finds at a breakpoint does not depend on load.
	args := qemutest.Args(kernelPath, appendLine, append(qemutest.InstructionClock(), "-gdb", qemutest.GDBArg(path), "-S")...)
	// The console is not wanted here; -serial stdio from Args is kept so
	// nothing else changes compared with the console tests.
	p := startProc(t, ctx, qemutest.QEMU, args...)
	for {
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return p, path
		}
		if p.exited() {
			t.Fatalf("qemu exited: %s", p.stderr.String())
		}
		select {
		case <-ctx.Done():
			t.Fatalf("qemu gdb socket: %v", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// gdbArgs are the options every gdb run gets: batch mode, no init files,
// no debuginfod prompt, no confirmation.
func gdbArgs(extra ...string) []string {
	args := []string{"-batch", "-nx",
		"-iex", "set debuginfod enabled off",
		"-iex", "set confirm off",
		"-iex", "set pagination off",
		"-iex", "set width 0",
	}
	return append(args, extra...)
}

// runGDB runs a batch gdb to its end and returns stdout+stderr.
func runGDB(t *testing.T, ctx context.Context, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, "gdb", gdbArgs(args...)...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("gdb timed out: %v\n%s", ctx.Err(), out)
	}
	if err != nil {
		t.Logf("gdb exited with %v", err)
	}
	return string(out)
}

// exs turns commands into gdb -ex arguments.
func exs(cmds ...string) []string {
	var out []string
	for _, c := range cmds {
		out = append(out, "-ex", c)
	}
	return out
}
