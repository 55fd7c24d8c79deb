package kernelsym

// Kernel is what the monitor knows of the guest's kernel. Its methods
// are called while the machine is stopped; Sync first, then any of the
// others.
type Kernel interface {
	// Sync looks at the machine at a stop. A model that reads its
	// knowledge from guest memory (Linux) finds it here the first time
	// it is there; one that has it from a file does nothing.
	Sync(mem Memory)

	// Lookup, Symbolize and Describe name symbols (see SymbolTable).
	Lookup(name string) (Symbol, bool)
	Symbolize(addr uint64) (sym Symbol, off uint64, ok bool)
	Describe(addr uint64) string

	// TaskModel returns nil when Tasks and Current can work, or an
	// error that says what is missing (no symbols, no DWARF, no
	// VMCOREINFO yet…).
	TaskModel() error
	Tasks(mem Memory) ([]Task, error)
	Current(mem Memory) (Task, error)

	// StackSize is THREAD_SIZE, and where the value comes from.
	StackSize() (size uint64, source string)

	// Stacks returns the stacks other than the tasks': Linux's IRQ stack
	// and exception (IST) stacks, each with its guard page. None for the
	// mini kernel, whose #DF stack has no guard page of its own.
	Stacks(mem Memory) ([]Stack, error)
}

// Memory is how a Kernel reads the stopped machine.
type Memory struct {
	// Read reads linear addresses through the current page tables
	// (kernel addresses are mapped in every address space).
	Read ReadFunc
	// ReadPhys reads guest-physical memory; PhysSize is the RAM size.
	ReadPhys ReadFunc
	PhysSize uint64
	// Instret is the machine's instruction count: memory may have
	// changed only when it has.
	Instret uint64
}

// Stack is a stack that is not a task's: [Begin, End) with its guard
// page [Begin-4096, Begin) unmapped when Guard is set.
type Stack struct {
	Name       string // "IRQ", "#DF", "NMI", "#DB", "#MC" (CPU 0's)
	Begin, End uint64
	Guard      bool
}

// GuardPage returns the page below the stack.
func (s Stack) GuardPage() (start, end uint64) { return s.Begin - 4096, s.Begin }

// Interface checks.
var (
	_ Kernel   = (*ELFKernel)(nil)
	_ Kernel   = (*Linux)(nil)
	_ Unwinder = (*ELFKernel)(nil)
	_ Unwinder = (*Linux)(nil)
	_ Layout   = (*Linux)(nil)
)

// Frame is one frame of a kernel stack unwound by the stub (monitor bt),
// innermost first.
type Frame struct {
	PC, SP uint64
	// Exact: PC is the instruction itself (the stop's RIP, or the RIP an
	// exception frame saved); otherwise it is a return address, and the
	// caller is named by PC-1 (Linux's %pB).
	Exact bool
	// Stack names the stack the frame is on: "TASK", "IRQ", "#DF"… for
	// Linux (show_trace_log_lvl's names), "" when unknown.
	Stack string
	// Exception is set for the frame an exception or interrupt
	// interrupted: an entry pushed a frame (pt_regs, or the hardware's
	// frame the mini kernel's stubs describe) that holds its PC and SP.
	Exception bool
	// Reliable is false once the unwinder had to guess.
	Reliable bool
}

// UnwindStart is where an unwind begins: the registers of a stopped CPU
// (GPR in the CPU's order: rax rcx rdx rbx rsp rbp rsi rdi r8…r15), or
// those a switched-out task saved.
type UnwindStart struct {
	GPR          [16]uint64
	RIP, RFLAGS  uint64
	CS, SS       uint64
	FromSwitch   bool // the task is switched out: only RSP (thread.sp) is meaningful
	SwitchedTask Task
}

// Unwinder is implemented by models that can unwind their kernel's
// stacks: Linux with its ORC tables, the mini kernel with its DWARF CFI.
type Unwinder interface {
	// Unwind unwinds from start. It returns the frames it could unwind
	// and, when it stopped before the end of the stack, why.
	Unwind(mem Memory, start UnwindStart, max int) ([]Frame, error)
	// UnwindMethod names the unwinder for headers ("ORC", "DWARF CFI").
	UnwindMethod() string
}

// Region is a named part of the kernel's address space, from Start up
// to the next region's start (Linux's ptdump address markers).
type Region struct {
	Name  string
	Start uint64
}

// Layout is implemented by models that know where their kernel's
// address-space regions are (Linux: from its randomized bases).
type Layout interface {
	// Regions returns the regions in address order, or nil while the
	// layout is not known.
	Regions() []Region
}
