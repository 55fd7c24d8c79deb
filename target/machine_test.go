package target

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"vmapstack/internal/testtool"
	"vmapstack/kernelimg"
	"vmapstack/target/cpu"
	"vmapstack/target/pvh"
)

// echoCmdline is 32-bit code that writes the command line found through
// start_info (EBX) to COM1, then writes exitCode to isa-debug-exit.
func echoCmdline(exitCode byte) []byte {
	return []byte{
		0x8b, 0x73, 0x18, // mov esi, [ebx+24]   ; cmdline_paddr
		0x66, 0xba, 0xf8, 0x03, // mov dx, 0x3f8
		0x8a, 0x06, // loop: mov al, [esi]
		0x84, 0xc0, // test al, al
		0x74, 0x04, // jz done
		0xee,       // out dx, al
		0x46,       // inc esi
		0xeb, 0xf6, // jmp loop
		0x66, 0xba, 0x01, 0x05, // done: mov dx, 0x501
		0xb0, exitCode, // mov al, code
		0xee, // out dx, al
		0xf4, // hlt (not reached: the exit stops the machine)
	}
}

func TestMachineBootsPVH(t *testing.T) {
	var serial bytes.Buffer
	var logs []string
	m, err := New(Config{
		Kernel:      testtool.PVHKernel(echoCmdline(1)),
		KernelPath:  "tiny.elf",
		Append:      "scenario=tasks nosync",
		MemoryBytes: 4 << 20,
		Serial:      &serial,
		Log:         func(s string) { logs = append(logs, s) },
	})
	if err != nil {
		t.Fatal(err)
	}
	s := m.CPU().State()
	if s.RIP != 0x100000 || s.GPR[cpu.RBX] != pvh.StartInfoAddr || s.CR0&1 == 0 || s.Seg[cpu.CS].Sel != 0x08 {
		t.Fatalf("entry state: rip %#x rbx %#x cr0 %#x cs %#x", s.RIP, s.GPR[cpu.RBX], s.CR0, s.Seg[cpu.CS].Sel)
	}
	st := m.Run(context.Background())
	if st.Kind != StopDebugExit || st.Code != 1 {
		t.Fatalf("stop = %v (%s), want debug-exit 1", st.Kind, st)
	}
	if got := serial.String(); got != "scenario=tasks nosync" {
		t.Errorf("serial = %q", got)
	}
	if got := string(m.Console()); got != "scenario=tasks nosync" {
		t.Errorf("console = %q", got)
	}
	if code, ok := m.Exited(); !ok || code != 1 {
		t.Errorf("Exited = %d %v", code, ok)
	}
	// The instruction count is exact: 3 setup, 8 per loop over 21 bytes,
	// the last test/jz (3 instructions), then 3 to exit.
	if want := uint64(2 + 21*6 + 3 + 3); st.Instret != want {
		t.Errorf("instret = %d, want %d", st.Instret, want)
	}
	// Running again after the exit reports the exit again, without running.
	if st2 := m.Run(context.Background()); st2.Kind != StopDebugExit || st2.Instret != st.Instret {
		t.Errorf("second run: %v at %d", st2.Kind, st2.Instret)
	}
	if len(logs) != 0 {
		t.Errorf("unexpected logs: %q", logs)
	}
}

func TestMachineStops(t *testing.T) {
	tests := []struct {
		name string
		code []byte
		want StopKind
		log  string
	}{
		{"cli hlt hangs", []byte{0xfa, 0xf4}, StopHaltedForever, ""},
		// ud2 with the IDT of the PVH entry (the real-mode IVT at 0, all
		// zero): no gate can be delivered, so the CPU shuts down.
		{"ud2 without an IDT triple-faults", []byte{0x0f, 0x0b}, StopTripleFault, ""},
		{"unknown port logged once", []byte{
			0xe4, 0x99, // in al, 0x99
			0xe4, 0x99, // in al, 0x99
			0xe6, 0x9a, // out 0x9a, al
			0x3c, 0xff, // cmp al, 0xff
			0x75, 0x02, // jne fail
			0xfa, 0xf4, // cli; hlt
			0x0f, 0x0b, // fail: ud2
		}, StopHaltedForever, "unhandled port read: in 0x99"},
		// A guest reset ends the run (QEMU -no-reboot); the code after
		// the OUT never runs.
		{"port 0x92 reset", []byte{0xb0, 0x01, 0xe6, 0x92, 0x0f, 0x0b}, StopReset, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs []string
			m, err := New(Config{Kernel: testtool.PVHKernel(tc.code), MemoryBytes: 2 << 20, Log: func(s string) { logs = append(logs, s) }})
			if err != nil {
				t.Fatal(err)
			}
			st := m.Run(context.Background())
			if st.Kind != tc.want {
				t.Fatalf("stop = %v (%s), want %v", st.Kind, st, tc.want)
			}
			if tc.want == StopReset {
				if st.String() != "the guest reset the machine (port 0x92)" {
					t.Errorf("message %q", st)
				}
				if again := m.Run(context.Background()); again.Kind != StopReset {
					t.Errorf("Run after the reset: %v, want the reset again", again.Kind)
				}
			}
			if tc.want == StopTripleFault {
				if len(st.Chain) < 2 || st.Chain[0].Vector != 6 || !strings.HasPrefix(st.String(), "triple fault: #UD") {
					t.Errorf("chain %+v, message %q", st.Chain, st)
				}
			}
			if tc.log != "" {
				if len(logs) != 2 || !strings.Contains(logs[0], tc.log) || !strings.Contains(logs[1], "out 0x9a") {
					t.Errorf("logs = %q", logs)
				}
			}
		})
	}
}

func TestMachineRunUntilAndStep(t *testing.T) {
	m, err := New(Config{Kernel: testtool.PVHKernel(echoCmdline(0)), Append: "abc", MemoryBytes: 2 << 20})
	if err != nil {
		t.Fatal(err)
	}
	st := m.RunUntil(context.Background(), 5)
	if st.Kind != StopLimit || st.Instret != 5 {
		t.Fatalf("RunUntil: %v at %d", st.Kind, st.Instret)
	}
	st = m.Step(context.Background())
	if st.Kind != StopStep || st.Instret != 6 {
		t.Fatalf("Step: %v at %d", st.Kind, st.Instret)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if st := m.Run(ctx); st.Kind != StopRequested {
		t.Fatalf("cancelled Run: %v", st.Kind)
	}
	// A stale stop request does not stop the next run.
	st = m.Run(context.Background())
	if st.Kind != StopDebugExit || st.Code != 0 {
		t.Fatalf("final run: %s", st)
	}
	if got := string(m.Console()); got != "abc" {
		t.Errorf("console %q", got)
	}
}

func TestMachineRequestStop(t *testing.T) {
	// jmp $ forever: only a stop request ends the run.
	m, err := New(Config{Kernel: testtool.PVHKernel([]byte{0xeb, 0xfe}), MemoryBytes: 2 << 20})
	if err != nil {
		t.Fatal(err)
	}
	st := m.RunUntil(context.Background(), 1000)
	if st.Kind != StopLimit {
		t.Fatalf("%v", st.Kind)
	}
	m.RequestStop()
	if st := m.Run(context.Background()); st.Kind != StopRequested {
		t.Fatalf("after RequestStop: %v", st.Kind)
	}
	// The next run is not stopped by the consumed request.
	if st := m.RunUntil(context.Background(), 5000); st.Kind != StopLimit || st.Instret != 5000 {
		t.Fatalf("next run: %v at %d", st.Kind, st.Instret)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no note", Config{Kernel: testtool.PVHKernel(nil)[:0], KernelPath: "x.elf"}, "boot: x.elf: not a kernel this machine can boot (want an ELF kernel with a PVH entry note or a Linux bzImage)"},
		{"odd memory", Config{Kernel: testtool.PVHKernel([]byte{0xf4}), MemoryBytes: 3<<20 + 1}, "not a multiple of 4 KiB"},
		{"too much memory", Config{Kernel: testtool.PVHKernel([]byte{0xf4}), MemoryBytes: 4 << 30}, "above the supported"},
		{"RAM of another size", Config{Kernel: testtool.PVHKernel([]byte{0xf4}), MemoryBytes: 2 << 20, RAM: make([]byte, 1<<20)},
			"guest RAM of 1048576 bytes given for a memory size of 2097152"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestMachineMappedRAM: a machine runs in the RAM it is given, here
// MapRAM's, which starts zeroed (and stays mapped: 4 MiB of address
// space a run).
func TestMachineMappedRAM(t *testing.T) {
	ram, err := MapRAM(2 << 20)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range ram {
		if b != 0 {
			t.Fatalf("MapRAM: byte %#x is %#x", i, b)
		}
	}
	// mov byte [0x1000], 0x5a; hlt
	m, err := New(Config{Kernel: testtool.PVHKernel([]byte{0xc6, 0x05, 0x00, 0x10, 0x00, 0x00, 0x5a, 0xf4}), MemoryBytes: 2 << 20, RAM: ram})
	if err != nil {
		t.Fatal(err)
	}
	if &m.RAM()[0] != &ram[0] {
		t.Fatal("the machine did not take the RAM it was given")
	}
	if st := m.RunUntil(context.Background(), 100); st.Kind == StopTripleFault {
		t.Fatalf("stop %s", st)
	}
	if ram[0x1000] != 0x5a {
		t.Errorf("the guest's store is not in the given RAM: %#x", ram[0x1000])
	}
	if _, err := MapRAM(0); err == nil {
		t.Error("MapRAM(0) gave no error")
	}
}

func TestMachineTraceInt(t *testing.T) {
	var trace bytes.Buffer
	m, err := New(Config{Kernel: testtool.PVHKernel([]byte{0x0f, 0x0b}), MemoryBytes: 2 << 20, TraceInt: &trace})
	if err != nil {
		t.Fatal(err)
	}
	st := m.Run(context.Background())
	if st.Kind != StopTripleFault {
		t.Fatalf("stop %s", st)
	}
	lines := strings.Split(strings.TrimSuffix(trace.String(), "\n"), "\n")
	// Every delivery but the fault raised while delivering #DF has a line.
	evs := m.Events()
	if n := len(evs); n > 0 && evs[n-1].Nested != 0 && evs[n-2].Vector == 8 {
		evs = evs[:n-1]
	}
	if len(lines) != len(evs) || len(lines) < 3 {
		t.Fatalf("%d trace lines for %d events:\n%s", len(lines), len(evs), trace.String())
	}
	// ud2 at the entry point, in 32-bit protected mode (CS 0x08, SS 0x10).
	want0 := "     0: v=06 e=0000 i=0 cpl=0 IP=0008:0000000000100000 pc=0000000000100000 SP=0010:0000000000000000 env->regs[R_EAX]="
	if !strings.HasPrefix(lines[0], want0) {
		t.Errorf("line 0 = %q, want prefix %q", lines[0], want0)
	}
	for i, l := range lines {
		if want := fmt.Sprintf("%6d: v=%02x ", i, evs[i].Vector); !strings.HasPrefix(l, want) {
			t.Errorf("line %d = %q, want prefix %q", i, l, want)
		}
	}
}

// A guest that reprograms the PIT must get its first interrupt edge at
// the new period, not at the deadline computed from the reset state
// (18.2 Hz) before the run slice started.
func TestMachinePITReprogramEndsSlice(t *testing.T) {
	code := []byte{
		0xb0, 0x30, 0xe6, 0x43, // counter 0, lobyte/hibyte, mode 0
		0xb0, 0xa9, 0xe6, 0x40, // count 1193 = 0x04a9: 1 ms
		0xb0, 0x04, 0xe6, 0x40,
		0xb0, 0x0a, 0xe6, 0x20, // OCW3: read IRR
		0xe4, 0x20, // loop: in al, 0x20
		0xa8, 0x01, // test al, 1
		0x74, 0xfa, // jz loop
		0xb0, 0x00, 0x66, 0xba, 0x01, 0x05, 0xee, // exit 0
	}
	m, err := New(Config{Kernel: testtool.PVHKernel(code), MemoryBytes: 2 << 20})
	if err != nil {
		t.Fatal(err)
	}
	st := m.Run(context.Background())
	if st.Kind != StopDebugExit {
		t.Fatalf("stop %s", st)
	}
	// 1193 PIT ticks are 999,847 ns = instructions; the IRR poll loop is
	// 3 instructions long.
	if st.Instret < 999_000 || st.Instret > 1_001_000 {
		t.Errorf("IRQ0 seen at instruction %d, want about 1,000,000", st.Instret)
	}
}

// SerialIn reaches the guest through the UART's receive buffer.
func TestMachineSerialInput(t *testing.T) {
	code := []byte{
		0x66, 0xba, 0xfd, 0x03, // mov dx, 0x3fd (LSR)
		0xec,       // poll: in al, dx
		0xa8, 0x01, // test al, 1 (data ready)
		0x74, 0xfb, // jz poll
		0x66, 0xba, 0xf8, 0x03, // mov dx, 0x3f8
		0xec,       // in al, dx
		0xee,       // out dx, al   (echo)
		0x3c, 0x0a, // cmp al, '\n'
		0x75, 0xed, // jne start
		0x66, 0xba, 0x01, 0x05, 0xb0, 0x00, 0xee, // exit 0
	}
	var serial bytes.Buffer
	m, err := New(Config{Kernel: testtool.PVHKernel(code), MemoryBytes: 2 << 20, Serial: &serial, SerialIn: strings.NewReader("echo me\n")})
	if err != nil {
		t.Fatal(err)
	}
	// The input arrives from a goroutine: give the guest a generous
	// instruction budget rather than a time limit.
	st := m.RunUntil(context.Background(), 1<<32)
	if st.Kind != StopDebugExit {
		t.Fatalf("stop %s, console %q", st, serial.String())
	}
	if serial.String() != "echo me\n" {
		t.Errorf("echoed %q", serial.String())
	}
}

// TestMachineEndless: scenario=endless, which the attach and interrupt
// tests rely on, is still running when bench would long have ended (272 M
// instructions), and its tasks are switching.
func TestMachineEndless(t *testing.T) {
	if testtool.Short() {
		t.Skip("runs 300 M instructions; -short leaves it out")
	}
	m, err := New(Config{Kernel: kernelimg.ELF, KernelPath: "kernel.elf", Append: "scenario=endless"})
	if err != nil {
		t.Fatal(err)
	}
	const limit = 300_000_000
	st := m.RunUntil(context.Background(), limit)
	if st.Kind != StopLimit || st.Instret != limit {
		t.Fatalf("stop %s at %d instructions, want the limit %d\n%s", st, st.Instret, limit, m.Console())
	}
	if !strings.Contains(string(m.Console()), "endless: 4 tasks computing without end, yielding every 2048\n") {
		t.Errorf("no endless banner:\n%s", m.Console())
	}
	timer := 0
	for _, e := range m.Events() {
		if e.Kind == cpu.EventInterrupt {
			timer++
		}
	}
	if timer == 0 {
		t.Errorf("no timer interrupt in 300 M instructions")
	}
}

// The machine is deterministic: the same kernel and command line give the
// same instruction count, console and exception history, run after run
// (timer interrupts included: time is the instruction count).
// TestMachineDeterministic: the instruction count is the only clock, so
// two runs of the same image and command line retire the same number of
// instructions, print the same bytes and take every exception and timer
// interrupt at the same point (issue 3: two runs of scenario=bench). The
// second run interprets every instruction (Config.Interpret): the native
// tier changes nothing the guest can see.
func TestMachineDeterministic(t *testing.T) {
	type result struct {
		stop    Stop
		console string
		events  []cpu.Event
		stats   cpu.Stats
		native  bool // the CPU has the native tier on (linux/amd64 with LAHF in 64-bit mode)
	}
	for _, cmdline := range []string{"scenario=tasks", "scenario=bench"} {
		t.Run(cmdline, func(t *testing.T) {
			if cmdline == "scenario=bench" && testtool.Short() {
				t.Skip("bench runs 272 M instructions twice; -short leaves it out")
			}
			runOnce := func(interpret bool) result {
				m, err := New(Config{Kernel: kernelimg.ELF, KernelPath: "kernel.elf", Append: cmdline, Interpret: interpret})
				if err != nil {
					t.Fatal(err)
				}
				st := m.Run(context.Background())
				return result{st, string(m.Console()), m.Events(), m.Stats(), m.CPU().NativeTier()}
			}
			a, b := runOnce(false), runOnce(true)
			if b.stats.NativeRuns != 0 {
				t.Errorf("Interpret: %d blocks ran", b.stats.NativeRuns)
			}
			if a.native && cmdline == "scenario=bench" && a.stats.NativeRuns == 0 {
				t.Errorf("the native tier is on, and no block ran")
			}
			t.Logf("native tier: %d blocks, %d runs (%d chained), %d instructions", a.stats.NativeBlocks, a.stats.NativeRuns, a.stats.NativeChained, a.stats.NativeInstructions)
			if a.stop.Kind != StopDebugExit || a.stop.Code != 0 {
				t.Fatalf("%s: %s\n%s", cmdline, a.stop, a.console)
			}
			if a.stop.Instret != b.stop.Instret || a.console != b.console || len(a.events) != len(b.events) {
				t.Fatalf("runs differ: %d vs %d instructions, %d vs %d events", a.stop.Instret, b.stop.Instret, len(a.events), len(b.events))
			}
			t.Logf("%s: %d instructions, %d events in the history, both runs", cmdline, a.stop.Instret, len(a.events))
			timer := 0
			for i := range a.events {
				if a.events[i] != b.events[i] {
					t.Errorf("event %d differs: %+v vs %+v", i, a.events[i], b.events[i])
				}
				if a.events[i].Kind == cpu.EventInterrupt {
					timer++
				}
			}
			// tasks' spinner only finishes because the timer preempts it;
			// bench is preempted too.
			if timer == 0 {
				t.Errorf("no timer interrupt in %+v", a.events)
			}
		})
	}
}
