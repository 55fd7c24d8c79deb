// Package monitor implements the `monitor` commands of the debugger
// (docs/design.md §7): text views of the machine a kernel developer needs to see
// a vmapped stack catch an overflow — the page tables as ranges and as a
// walk, the stack bounds and guard page, CR2 and the exception history,
// the descriptor tables and control registers, the kernel's tasks.
//
// The commands read a *target.Machine (registers, memory, exception
// history) and what kernelsym knows of its kernel. They never run the
// machine and never change guest state, except `break-on`, which changes
// which exceptions stop it. Output is for people first (aligned columns,
// sizes as 16K/2M/1G, flags as words) and stable for scripts.
package monitor

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"vmapstack/kernelsym"
	"vmapstack/target"
	"vmapstack/target/cpu"
	"vmapstack/target/x86"
)

// Monitor runs monitor commands against one machine. It holds the
// little state the commands have (the phys mode flag). It is not safe
// for concurrent use; the debugger adapter calls it while the machine is
// stopped.
type Monitor struct {
	m *target.Machine
	k kernelsym.Kernel

	phys bool

	// OnPhys, when set, is called when `phys on|off` changes the mode.
	OnPhys func(on bool)
	// RunTime, when set, returns the host time spent running the machine
	// so far; stats divides the instruction count by it. The machine has
	// no host clock of its own (its only clock is the instruction count).
	RunTime func() time.Duration
}

// New returns a monitor for m. k is what is known of m's kernel; nil
// chooses the model from m's kernel file (kernelsym.ForImage): Linux's
// from its memory, the mini kernel's from its ELF (a kernel whose
// symbols cannot be read is then treated as one without symbols).
func New(m *target.Machine, k kernelsym.Kernel) *Monitor {
	if k == nil {
		_, image := m.Kernel()
		k = kernelsym.ForImage(image)
	}
	return &Monitor{m: m, k: k}
}

// Kernel returns what the monitor knows of the kernel, brought up to
// date with the stopped machine.
func (mon *Monitor) Kernel() kernelsym.Kernel {
	mon.k.Sync(mon.memory())
	return mon.k
}

// PhysMode reports whether memory packets address physical memory
// (`monitor phys on`, or Qqemu.PhyMemMode:1 through SetPhysMode).
func (mon *Monitor) PhysMode() bool { return mon.phys }

// SetPhysMode sets the mode (the adapter calls it for Qqemu.PhyMemMode).
// OnPhys is not called: the caller already knows.
func (mon *Monitor) SetPhysMode(on bool) { mon.phys = on }

type command struct {
	name  string
	usage string
	help  string
	run   func(mon *Monitor, args []string, out io.Writer) error
}

// commands is the command table; help prints it in this order. A function
// rather than a package variable: help refers back to the table, which a
// variable's initializer cannot do, and a table filled in by init would be
// package state anyone could change.
func commands() []command {
	return []command{
		{"help", "help", "list the commands", (*Monitor).cmdHelp},
		{"pt", "pt [CR3]", "address space as ranges, ptdump style, by section; holes and guard pages shown", (*Monitor).cmdPT},
		{"walk", "walk ADDR [CR3]", "page-table walk of ADDR: PML4E/PDPTE/PDE/PTE, physical address or where it stops", (*Monitor).cmdWalk},
		{"stack", "stack [TASK]", "stack of the current task (or TASK, a name or pid): bounds, RSP, used/left, guard page", (*Monitor).cmdStack},
		{"cr2", "cr2", "CR2, the last #PF's error code, RIP, and what CR2 points at", (*Monitor).cmdCR2},
		{"faults", "faults [N]", "the last N exception deliveries (default 16), nesting shown as #PF -> #DF", (*Monitor).cmdFaults},
		{"break-on", "break-on [LIST] [on|off]", "show or change the exceptions that stop the machine (" + target.BreakOnNames() + ", none)", (*Monitor).cmdBreakOn},
		{"idt", "idt", "decoded IDT gates: selector, target, type, DPL, IST", (*Monitor).cmdIDT},
		{"gdt", "gdt", "decoded GDT descriptors", (*Monitor).cmdGDT},
		{"tss", "tss", "the 64-bit TSS: RSP0-2, IST1-7, I/O map base", (*Monitor).cmdTSS},
		{"cregs", "cregs", "CR0 CR2 CR3 CR4 CR8 EFER decoded", (*Monitor).cmdCregs},
		{"tasks", "tasks", "the kernel's tasks: pid, name, state, stack, saved sp, mm (kernel symbols)", (*Monitor).cmdTasks},
		{"bt", "bt [TASK]", "the kernel stack of the current task (or TASK) unwound by the stub: Linux's ORC tables, the mini kernel's DWARF CFI", (*Monitor).cmdBT},
		{"phys", "phys [on|off]", "memory packets address physical (on) or virtual (off) memory", (*Monitor).cmdPhys},
		{"stats", "stats", "instructions executed, instructions/s, decode-cache and TLB figures", (*Monitor).cmdStats},
		{"info", "info mem|tlb|registers", "QEMU's info mem (runs of pages by u/r/w rights), info tlb (every present leaf), info registers, in QEMU's formats", (*Monitor).cmdInfo},
		{"xp", "xp /FMT ADDR", "QEMU's xp: dump physical memory; FMT = count, format x d u o c, size b h w g", (*Monitor).cmdXP},
		{"x", "x /FMT ADDR", "QEMU's x: dump virtual memory through the current page tables; FMT as for xp", (*Monitor).cmdX},
		{"gva2gpa", "gva2gpa ADDR", "QEMU's gva2gpa: the physical address ADDR maps to (\"gpa: 0x...\" or \"Unmapped\")", (*Monitor).cmdGVA2GPA},
	}
}

// Commands lists the command names, in help order.
func Commands() []string {
	table := commands()
	names := make([]string, len(table))
	for i, c := range table {
		names[i] = c.name
	}
	return names
}

// Run executes one command line and writes its output to out. The
// returned error is meant for the user as it is (the adapter sends it to
// the console); nothing a user types makes it panic.
func (mon *Monitor) Run(line string, out io.Writer) (err error) {
	defer func() {
		// A bug in a view must not take the debugger down with it.
		if r := recover(); r != nil {
			err = fmt.Errorf("monitor: internal error in %q: %v", line, r)
		}
	}()
	mon.k.Sync(mon.memory())
	f := strings.Fields(line)
	if len(f) == 0 {
		return mon.cmdHelp(nil, out)
	}
	// QEMU's monitor takes "xp/8xg ADDR" as well as "xp /8xg ADDR".
	if i := strings.IndexByte(f[0], '/'); i > 0 {
		f = append([]string{f[0][:i], f[0][i:]}, f[1:]...)
	}
	name := strings.ToLower(f[0])
	for _, c := range commands() {
		if c.name == name {
			return c.run(mon, f[1:], out)
		}
	}
	return fmt.Errorf("unknown command %q; try \"monitor help\"", f[0])
}

func (mon *Monitor) cmdHelp(args []string, out io.Writer) error {
	table := commands()
	w := 0
	for _, c := range table {
		w = max(w, len(c.usage))
	}
	for _, c := range table {
		fmt.Fprintf(out, "%-*s  %s\n", w, c.usage, c.help)
	}
	fmt.Fprintf(out, "%-*s  %s\n", w, "", "ADDR/CR3: 0x..., decimal, or a register ($rsp, $cr2, rip), with an optional +/- offset")
	return nil
}

// ---- helpers shared by the commands ----

func (mon *Monitor) cpu() *cpu.CPU    { return mon.m.CPU() }
func (mon *Monitor) state() cpu.State { return mon.m.CPU().State() }

// readPhys reads guest RAM at a physical address.
func (mon *Monitor) readPhys(addr uint64, buf []byte) (int, error) {
	ram := mon.m.RAM()
	if addr >= uint64(len(ram)) {
		return 0, fmt.Errorf("physical %#x: outside RAM (%#x bytes)", addr, len(ram))
	}
	n := copy(buf, ram[addr:])
	if n < len(buf) {
		return n, fmt.Errorf("physical %#x: outside RAM (%#x bytes)", addr+uint64(n), len(ram))
	}
	return n, nil
}

// memory is the stopped machine as the kernel models read it.
func (mon *Monitor) memory() kernelsym.Memory {
	return kernelsym.Memory{
		Read:     mon.m.CPU().ReadLinear,
		ReadPhys: mon.readPhys,
		PhysSize: mon.m.MemoryBytes(),
		Instret:  mon.m.Instret(),
	}
}

func tooMany(cmd string, args []string, n int) error {
	if len(args) > n {
		return fmt.Errorf("%s: too many arguments (%s); usage: %s", cmd, strings.Join(args[n:], " "), usage(cmd))
	}
	return nil
}

func usage(cmd string) string {
	for _, c := range commands() {
		if c.name == cmd {
			return c.usage
		}
	}
	return cmd
}

// regNames maps register names to a getter over the state.
var gprNames = [16]string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}

func register(name string, st *cpu.State) (uint64, bool) {
	for i, n := range gprNames {
		if n == name {
			return st.GPR[i], true
		}
	}
	switch name {
	case "rip", "pc":
		return st.RIP, true
	case "sp":
		return st.GPR[cpu.RSP], true
	case "eflags", "rflags":
		return st.RFLAGS, true
	case "cr0":
		return st.CR0, true
	case "cr2":
		return st.CR2, true
	case "cr3":
		return st.CR3, true
	case "cr4":
		return st.CR4, true
	case "cr8":
		return st.CR8, true
	case "efer":
		return st.EFER, true
	case "fs_base":
		return st.Seg[cpu.FS].Base, true
	case "gs_base":
		return st.Seg[cpu.GS].Base, true
	case "k_gs_base":
		return st.KernelGSBase, true
	}
	return 0, false
}

// parseAddr reads gdb-style input: 0x..., decimal, $reg or a bare
// register name, optionally followed by +N or -N.
func parseAddr(s string, st *cpu.State) (uint64, error) {
	in := s
	s = strings.TrimSpace(s)
	if i := strings.LastIndexAny(s, "+-"); i > 0 {
		base, err := parseAddr(s[:i], st)
		if err != nil {
			return 0, err
		}
		off, err := parseNumber(s[i+1:])
		if err != nil {
			return 0, fmt.Errorf("bad address %q: offset %q is not a number", in, s[i+1:])
		}
		if s[i] == '-' {
			return base - off, nil
		}
		return base + off, nil
	}
	name := strings.ToLower(strings.TrimPrefix(s, "$"))
	if v, ok := register(name, st); ok {
		return v, nil
	}
	v, err := parseNumber(s)
	if err != nil {
		return 0, fmt.Errorf("bad address %q: want 0x..., a decimal number or a register such as $rsp, $cr2", in)
	}
	return v, nil
}

func parseNumber(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty")
	}
	low := strings.ToLower(s)
	if strings.HasPrefix(low, "0x") {
		return strconv.ParseUint(low[2:], 16, 64)
	}
	return strconv.ParseUint(s, 10, 64)
}

// fmtSize writes a size the way ptdump does: 4K, 16K, 2M, 1G, 128M; a
// size that is not a whole number of KiB is written in bytes.
func fmtSize(n uint64) string {
	switch {
	case n == 0:
		return "0"
	case n%(1<<40) == 0:
		return fmt.Sprintf("%dT", n>>40)
	case n%(1<<30) == 0:
		return fmt.Sprintf("%dG", n>>30)
	case n%(1<<20) == 0:
		return fmt.Sprintf("%dM", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%dK", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

func hex16(v uint64) string { return fmt.Sprintf("0x%016x", v) }

// symbolized appends " <sym+off>" when the kernel's symbols name v.
func (mon *Monitor) symbolized(v uint64) string {
	if d := mon.k.Describe(v); d != "" {
		return hex16(v) + " <" + d + ">"
	}
	return hex16(v)
}

// flagWords names the set bits of v from a table of (bit, name).
func flagWords(v uint64, names []bitName) string {
	var w []string
	for _, n := range names {
		if v&(1<<n.bit) != 0 {
			w = append(w, n.name)
		}
	}
	if len(w) == 0 {
		return "-"
	}
	return strings.Join(w, " ")
}

type bitName struct {
	bit  uint
	name string
}

// tasks returns the kernel's tasks, or an error that says why they are
// unknown.
func (mon *Monitor) tasks() ([]kernelsym.Task, error) {
	if err := mon.k.TaskModel(); err != nil {
		return nil, mon.noSymbols()
	}
	if mon.state().CR0&x86.CR0PG == 0 {
		return nil, fmt.Errorf("paging is off (CR0.PG=0): the kernel's variables are not at their virtual addresses yet")
	}
	return mon.k.Tasks(mon.memory())
}

func (mon *Monitor) noSymbols() error {
	return fmt.Errorf("no kernel symbols for tasks: %w", mon.k.TaskModel())
}

// findTask finds a task by name or pid.
func (mon *Monitor) findTask(arg string) (kernelsym.Task, error) {
	tasks, err := mon.tasks()
	if err != nil {
		return kernelsym.Task{}, err
	}
	pid, perr := strconv.ParseInt(arg, 0, 64)
	for _, t := range tasks {
		if t.Comm == arg || (perr == nil && t.Pid == pid) {
			return t, nil
		}
	}
	var names []string
	for _, t := range tasks {
		names = append(names, fmt.Sprintf("%d %q", t.Pid, t.Comm))
	}
	sort.Strings(names)
	return kernelsym.Task{}, fmt.Errorf("no task %q (tasks: %s)", arg, strings.Join(names, ", "))
}
