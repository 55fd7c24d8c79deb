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
	Name       string // "IRQ", "#DF", "NMI", "#DB", "#MC"
	CPU        int
	Begin, End uint64
	Guard      bool
}

// GuardPage returns the page below the stack.
func (s Stack) GuardPage() (start, end uint64) { return s.Begin - 4096, s.Begin }

// Interface checks.
var (
	_ Kernel = (*ELFKernel)(nil)
)
