package kernelsym

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	"vmapstack/kernelsym/kallsyms"
	"vmapstack/kernelsym/orc"
	"vmapstack/kernelsym/vmcoreinfo"
)

// Linux is the model of a stock Linux kernel read from its own memory,
// with no vmlinux and no debug package (docs/design.md §4b):
//
//   - VMCOREINFO, which the kernel writes during boot (crash_core.c), is
//     found by scanning guest-physical memory; since Linux 6.0 it holds
//     the addresses of the kallsyms tables;
//   - kallsyms gives every symbol at its run-time address, so KASLR
//     needs no special case;
//   - BTF (__start_BTF..__stop_BTF) gives the layout of task_struct,
//     module and cea_exception_stacks;
//   - from these: the task list (init_task.tasks), current (the per-CPU
//     current_task), THREAD_SIZE (__end_init_task - __start_init_task),
//     the layout bases, the modules and their symbols, the IRQ and IST
//     stacks.
//
// Until the kernel has written VMCOREINFO (early boot), TaskModel says
// so and the monitor falls back to the page tables; nothing is guessed.
type Linux struct {
	// image is the kernel file (a bzImage, or a vmlinux booted through
	// PVH), for symbols before the kernel runs (symfile.go).
	image     []byte
	imageSyms *imageSymbols
	symFile   *symbolFile

	// missing says why the model is not ready ("" once it is).
	missing string
	// scannedAt is the instruction count of the last search for
	// VMCOREINFO, so that a stop with no progress does not scan again.
	scannedAt uint64
	scanned   bool

	info     *vmcoreinfo.Info
	infoAddr uint64

	kernelSyms []Symbol     // from kallsyms
	modules    []Module     // from the modules list, at the last Sync
	syms       *SymbolTable // kernelSyms + the modules' symbols
	modulesAt  uint64

	btf    *btfTypes
	layout linuxLayout

	orcKernel  *orc.Table            // the kernel's ORC table, loaded at the first unwind
	orcModules map[Module]*orc.Table // each module's, loaded at its first unwind

	threadSize       uint64
	threadSizeSource string
	perCPUOffset     uint64 // __per_cpu_offset[0]
	perCPUErr        error  // why perCPUOffset could not be read
	// percpu holds the per-CPU variables' offsets (kallsyms type 'A'),
	// kept apart from the address table: they number another space, and
	// would otherwise name small addresses (a NULL dereference's CR2).
	percpu map[string]uint64
	// pcpuHot is where 6.2+ keeps current_task and hardirq_stack_ptr
	// (struct pcpu_hot, a per-CPU variable), from BTF.
	pcpuHot map[string]Field
	// Bases are the layout bases (randomized unless nokaslr), for pt.
	Bases LinuxBases
}

// LinuxBases are the starts of Linux's memory regions, read from the
// kernel's variables (arch/x86/mm/kaslr.c randomizes them).
type LinuxBases struct {
	PageOffset, Vmalloc, Vmemmap uint64
	KernelOffset                 uint64 // KASLR offset of the kernel image (VMCOREINFO KERNELOFFSET)
}

// Module is one loaded module.
type Module struct {
	Name       string
	Addr       uint64 // struct module
	Base, Size uint64 // core_layout
	// init_layout: the init sections, while the module's init runs.
	InitBase, InitSize uint64
	// ORC tables of the module (mod->arch), for the unwinder.
	NumORC                 uint64
	ORCUnwindIP, ORCUnwind uint64
}

// linuxLayout is what BTF says of the structures the model reads.
type linuxLayout struct {
	taskSize                                          uint64
	tasks, pid, comm, state, exitState, stack, sp, mm Field
	modList, modName, modBase, modSize, modKallsyms   Field
	modInitBase, modInitSize                          Field
	modNumORC, modORCIP, modORC                       Field
	ksymtab, knumsym, kstrtab                         Field
	estacks                                           map[string]Field // cea_exception_stacks members
	mmPgd                                             Field
	inactiveFrame                                     struct{ size, bp, retAddr uint64 }
	signal, threadNode, signalThreadHead              Field // for_each_thread
	moduleSize, modKallsymsSize                       uint64
}

// NewLinux returns a Linux model that finds the kernel in memory at the
// first Sync where it is there. image is the kernel file, from which the
// symbol file served before that comes (nil: none).
func NewLinux(image []byte) *Linux {
	return &Linux{image: image, missing: "the kernel has not been looked at yet", threadSize: DefaultThreadSize, threadSizeSource: "default (the kernel is not set up yet)"}
}

// Sync finds the kernel's data the first time it is in memory, and
// re-reads the module list when the machine has run since.
func (l *Linux) Sync(mem Memory) {
	// Guest memory is the guest's to corrupt: a decoder bug it finds
	// must cost the model, not the stub (DescribeStop calls Sync with no
	// recover of its own).
	defer func() {
		if r := recover(); r != nil {
			l.missing = fmt.Sprintf("Linux: internal error reading the kernel's data: %v", r)
		}
	}()
	if l.missing == "" {
		if l.modulesAt != mem.Instret {
			l.modulesAt = mem.Instret
			l.loadModules(mem)
		}
		return
	}
	if l.scanned && l.scannedAt == mem.Instret {
		return
	}
	l.scanned, l.scannedAt = true, mem.Instret
	if err := l.discover(mem); err != nil {
		l.missing = err.Error()
		return
	}
	l.missing = ""
	l.modulesAt = mem.Instret
	l.loadModules(mem)
}

// discover reads VMCOREINFO, kallsyms and BTF.
func (l *Linux) discover(mem Memory) error {
	if mem.ReadPhys == nil || mem.Read == nil {
		return errors.New("Linux: no access to guest memory")
	}
	info, addr, err := vmcoreinfo.Find(mem.ReadPhys, mem.PhysSize)
	if err != nil {
		return fmt.Errorf("Linux: %w", err)
	}
	tables, err := kallsyms.TablesFrom(info.Symbol)
	if err != nil {
		return fmt.Errorf("Linux: VMCOREINFO at physical %#x: %w", addr, err)
	}
	ks, err := kallsyms.Decode(mem.Read, tables)
	if err != nil {
		return fmt.Errorf("Linux: kallsyms: %w", err)
	}
	syms, percpu := symbolsFromKallsyms(ks)
	st := NewSymbolTable(append([]Symbol(nil), syms...))

	need := func(name string) (uint64, error) {
		s, ok := st.Lookup(name)
		if !ok {
			return 0, fmt.Errorf("Linux: kallsyms has no %s", name)
		}
		return s.Addr, nil
	}
	start, err := need("__start_BTF")
	if err != nil {
		return fmt.Errorf("%w (the kernel has no BTF: CONFIG_DEBUG_INFO_BTF)", err)
	}
	stop, err := need("__stop_BTF")
	if err != nil {
		return err
	}
	if stop <= start || stop-start > maxBTF {
		return fmt.Errorf("Linux: BTF at %#x..%#x: implausible size", start, stop)
	}
	raw := make([]byte, stop-start)
	if err := readFull(mem.Read, start, raw, "BTF"); err != nil {
		return fmt.Errorf("Linux: %w", err)
	}
	b, err := parseBTF(raw)
	if err != nil {
		return fmt.Errorf("Linux: %w", err)
	}
	layout, err := linuxLayoutFrom(b)
	if err != nil {
		return fmt.Errorf("Linux: %w", err)
	}

	l.info, l.infoAddr = info, addr
	l.kernelSyms, l.syms, l.btf, l.layout, l.percpu = syms, st, b, layout, percpu
	l.pcpuHot = map[string]Field{}
	for _, n := range []string{"current_task", "hardirq_stack_ptr"} {
		if f, err := b.field("pcpu_hot", n); err == nil && f.Size == 8 {
			l.pcpuHot[n] = f
		}
	}
	if s, err1 := need("__start_init_task"); err1 == nil {
		if e, err2 := need("__end_init_task"); err2 == nil && e > s && e-s <= 1<<20 {
			l.threadSize, l.threadSizeSource = e-s, "kallsyms (__end_init_task - __start_init_task)"
		}
	}
	if a, err := need("__per_cpu_offset"); err != nil {
		l.perCPUErr = err
	} else {
		l.perCPUOffset, l.perCPUErr = readUint(mem.Read, a, 8, "__per_cpu_offset[0]")
	}
	readBase := func(name string) uint64 {
		a, err := need(name)
		if err != nil {
			return 0
		}
		v, _ := readUint(mem.Read, a, 8, name)
		return v
	}
	l.Bases.PageOffset = readBase("page_offset_base")
	l.Bases.Vmalloc = readBase("vmalloc_base")
	l.Bases.Vmemmap = readBase("vmemmap_base")
	l.Bases.KernelOffset, _ = info.KernelOffset()
	return nil
}

// maxBTF bounds the BTF read from guest memory (Debian's is 4 MB).
const maxBTF = 64 << 20

// symbolsFromKallsyms turns kallsyms entries into Symbols with the
// sizes kallsyms.Sizes infers (kallsyms stores none). Undefined and weak
// zero entries are dropped. The absolute symbols (type 'A': the per-CPU
// offsets under CONFIG_KALLSYMS_ABSOLUTE_PERCPU) come back apart, by
// name, for perCPU.
func symbolsFromKallsyms(ks []kallsyms.Symbol) (syms []Symbol, absolute map[string]uint64) {
	kallsyms.SortByAddr(ks)
	sizes := kallsyms.Sizes(ks, maxKallsymsSize)
	syms = make([]Symbol, 0, len(ks))
	absolute = map[string]uint64{}
	for i, s := range ks {
		if s.Type == 'U' || s.Type == 'u' || (s.Type == 'w' || s.Type == 'W' || s.Type == 'v' || s.Type == 'V') && s.Addr == 0 {
			continue
		}
		if s.Absolute() {
			if _, dup := absolute[s.Name]; !dup {
				absolute[s.Name] = s.Addr
			}
			continue
		}
		syms = append(syms, Symbol{Name: s.Name, Addr: s.Addr, Size: sizes[i], Func: s.Text(), Global: s.Type >= 'A' && s.Type <= 'Z'})
	}
	return syms, absolute
}

// maxKallsymsSize bounds a size inferred from the next symbol.
const maxKallsymsSize = 1 << 20

func linuxLayoutFrom(b *btfTypes) (linuxLayout, error) {
	var l linuxLayout
	var err error
	if l.taskSize, err = b.sizeof("task_struct"); err != nil {
		return l, err
	}
	if err := b.fields("task_struct", map[string]*Field{
		"tasks": &l.tasks, "pid": &l.pid, "comm": &l.comm, "__state": &l.state,
		"exit_state": &l.exitState, "stack": &l.stack, "thread.sp": &l.sp, "mm": &l.mm,
	}); err != nil {
		return l, err
	}
	// The rest is optional: a kernel whose module or exception-stack
	// layout differs still lists its tasks.
	if b.fields("module", map[string]*Field{
		"list": &l.modList, "name": &l.modName, "core_layout.base": &l.modBase,
		"core_layout.size": &l.modSize, "kallsyms": &l.modKallsyms,
	}) != nil {
		l.modList = Field{}
	}
	l.moduleSize, _ = b.sizeof("module")
	l.modKallsymsSize, _ = b.sizeof("mod_kallsyms")
	// for_each_thread: the threads of a process hang off its
	// signal_struct's thread_head, linked through task_struct.thread_node.
	if b.fields("task_struct", map[string]*Field{"signal": &l.signal, "thread_node": &l.threadNode}) != nil ||
		b.fields("signal_struct", map[string]*Field{"thread_head": &l.signalThreadHead}) != nil {
		l.signal, l.threadNode, l.signalThreadHead = Field{}, Field{}, Field{}
	}
	if b.fields("module", map[string]*Field{"init_layout.base": &l.modInitBase, "init_layout.size": &l.modInitSize}) != nil {
		l.modInitBase, l.modInitSize = Field{}, Field{}
	}
	if b.fields("module", map[string]*Field{"arch.num_orcs": &l.modNumORC, "arch.orc_unwind_ip": &l.modORCIP, "arch.orc_unwind": &l.modORC}) != nil {
		l.modNumORC = Field{}
	}
	if b.fields("mod_kallsyms", map[string]*Field{"symtab": &l.ksymtab, "num_symtab": &l.knumsym, "strtab": &l.kstrtab}) != nil {
		l.ksymtab = Field{}
	}
	l.estacks = map[string]Field{}
	for _, n := range []string{"DF", "NMI", "DB", "MCE"} {
		if f, err := b.field("cea_exception_stacks", n+"_stack"); err == nil {
			l.estacks[n] = f
		}
	}
	l.mmPgd, _ = b.field("mm_struct", "pgd")
	// arch/x86/include/asm/switch_to.h: what __switch_to_asm leaves at
	// thread.sp of a switched-out task.
	if size, err := b.sizeof("inactive_task_frame"); err == nil {
		bp, err1 := b.field("inactive_task_frame", "bp")
		ret, err2 := b.field("inactive_task_frame", "ret_addr")
		if err1 == nil && err2 == nil {
			l.inactiveFrame.size, l.inactiveFrame.bp, l.inactiveFrame.retAddr = size, bp.Offset, ret.Offset
		}
	}
	return l, l.check()
}

// Bounds of a layout read from the guest's BTF, which the guest may have
// corrupted: every structure the model reads is allocated at the size
// BTF gives, and every field must lie inside its structure.
const (
	maxStructSize = 64 << 10 // Debian's task_struct is 9.5K, module 896 bytes
	maxCommSize   = 64       // TASK_COMM_LEN is 16
	maxNameSize   = 256      // MODULE_NAME_LEN is 56
)

// check refuses a layout whose structures are implausibly large or whose
// fields do not fit their structures, and drops optional parts that are
// broken (the task list does not need them).
func (l *linuxLayout) check() error {
	if l.taskSize == 0 || l.taskSize > maxStructSize {
		return fmt.Errorf("BTF: sizeof(struct task_struct) is %d", l.taskSize)
	}
	fits := func(f Field, size, maxField uint64) bool {
		return f.Size != 0 && f.Size <= maxField && f.Offset <= size && f.Size <= size-f.Offset
	}
	for name, f := range map[string]struct {
		f   Field
		max uint64
	}{"tasks": {l.tasks, 16}, "pid": {l.pid, 8}, "comm": {l.comm, maxCommSize}, "__state": {l.state, 8},
		"exit_state": {l.exitState, 8}, "stack": {l.stack, 8}, "thread.sp": {l.sp, 8}, "mm": {l.mm, 8}} {
		if !fits(f.f, l.taskSize, f.max) {
			return fmt.Errorf("BTF: task_struct.%s (%d bytes at %d) does not fit a %d-byte task_struct", name, f.f.Size, f.f.Offset, l.taskSize)
		}
	}
	if l.tasks.Size != 16 || l.stack.Size != 8 || l.sp.Size != 8 || l.mm.Size != 8 {
		return errors.New("BTF: task_struct.tasks, stack, thread.sp or mm does not have a pointer's size")
	}
	if !fits(l.signal, l.taskSize, 8) || !fits(l.threadNode, l.taskSize, 16) || l.signalThreadHead.Size != 16 || l.signalThreadHead.Offset > maxStructSize {
		l.signal, l.threadNode, l.signalThreadHead = Field{}, Field{}, Field{}
	}
	if l.moduleSize == 0 || l.moduleSize > maxStructSize ||
		!fits(l.modList, l.moduleSize, 16) || !fits(l.modName, l.moduleSize, maxNameSize) || !fits(l.modBase, l.moduleSize, 8) ||
		!fits(l.modSize, l.moduleSize, 8) || !fits(l.modKallsyms, l.moduleSize, 8) {
		l.modList = Field{}
	}
	if !fits(l.modInitBase, l.moduleSize, 8) || !fits(l.modInitSize, l.moduleSize, 8) {
		l.modInitBase, l.modInitSize = Field{}, Field{}
	}
	if !fits(l.modNumORC, l.moduleSize, 8) || !fits(l.modORCIP, l.moduleSize, 8) || !fits(l.modORC, l.moduleSize, 8) {
		l.modNumORC = Field{}
	}
	if l.modKallsymsSize == 0 || l.modKallsymsSize > 256 || !fits(l.ksymtab, l.modKallsymsSize, 8) ||
		!fits(l.knumsym, l.modKallsymsSize, 8) || !fits(l.kstrtab, l.modKallsymsSize, 8) {
		l.ksymtab = Field{}
	}
	for n, f := range l.estacks {
		if f.Offset > 1<<20 || f.Size == 0 || f.Size > 1<<20 {
			delete(l.estacks, n)
		}
	}
	if l.mmPgd.Offset > maxStructSize {
		l.mmPgd = Field{}
	}
	if f := l.inactiveFrame; f.size > 256 || f.bp+8 > f.size || f.retAddr+8 > f.size {
		l.inactiveFrame.size = 0
	}
	return nil
}

// ---- the Kernel interface ----

// Lookup finds a symbol by name.
func (l *Linux) Lookup(name string) (Symbol, bool) { return l.syms.Lookup(name) }

// Symbolize names an address.
func (l *Linux) Symbolize(addr uint64) (Symbol, uint64, bool) { return l.syms.Symbolize(addr) }

// Describe names an address for messages.
func (l *Linux) Describe(addr uint64) string { return l.syms.Describe(addr) }

// Symbols returns all symbols, the modules' included, in address order.
func (l *Linux) Symbols() []Symbol { return l.syms.Symbols() }

// TaskModel says why tasks cannot be read yet, or nil.
func (l *Linux) TaskModel() error {
	if l.missing != "" {
		return errors.New(l.missing)
	}
	return nil
}

// StackSize returns THREAD_SIZE.
func (l *Linux) StackSize() (uint64, string) { return l.threadSize, l.threadSizeSource }

// Info returns VMCOREINFO and its physical address (nil before it is
// found).
func (l *Linux) Info() (*vmcoreinfo.Info, uint64) { return l.info, l.infoAddr }

// Modules returns the modules seen at the last Sync.
func (l *Linux) Modules() []Module { return append([]Module(nil), l.modules...) }

// perCPU returns the address of CPU 0's copy of a per-CPU variable.
// Debian's x86-64 kernel links per-CPU variables at small offsets
// (CONFIG_KALLSYMS_ABSOLUTE_PERCPU): the copy is at the offset plus
// __per_cpu_offset[cpu]. Linux 6.2 moved current_task and
// hardirq_stack_ptr into struct pcpu_hot, itself per-CPU.
func (l *Linux) perCPU(name string) (uint64, error) {
	if l.perCPUErr != nil {
		return 0, fmt.Errorf("per-CPU %s: %w", name, l.perCPUErr)
	}
	if off, ok := l.percpu[name]; ok {
		return off + l.perCPUOffset, nil
	}
	if f, ok := l.pcpuHot[name]; ok {
		if hot, ok := l.percpu["pcpu_hot"]; ok {
			return hot + f.Offset + l.perCPUOffset, nil
		}
	}
	return 0, fmt.Errorf("kallsyms has no per-CPU %s (nor pcpu_hot.%s)", name, name)
}

// Current reads CPU 0's current_task.
func (l *Linux) Current(mem Memory) (Task, error) {
	if err := l.TaskModel(); err != nil {
		return Task{}, err
	}
	a, err := l.perCPU("current_task")
	if err != nil {
		return Task{}, err
	}
	p, err := readUint(mem.Read, a, 8, "current_task")
	if err != nil {
		return Task{}, err
	}
	if p == 0 {
		return Task{}, errors.New("kernelsym: current_task is NULL")
	}
	t, err := l.readTask(mem.Read, p)
	t.Current = true
	return t, err
}

// maxTasks bounds the walk of a task list in guest memory.
const maxTasks = 1 << 15

// Tasks walks init_task.tasks (the thread-group leaders, as
// for_each_process does), init_task (the idle task, pid 0) first, and
// after each leader its other threads (for_each_thread: the leader's
// signal->thread_head, linked through thread_node), so that the task
// running on a multi-threaded program's behalf is there too.
func (l *Linux) Tasks(mem Memory) ([]Task, error) {
	if err := l.TaskModel(); err != nil {
		return nil, err
	}
	initTask, ok := l.syms.Lookup("init_task")
	if !ok {
		return nil, errors.New("kernelsym: kallsyms has no init_task")
	}
	var cur uint64
	if c, err := l.perCPU("current_task"); err == nil {
		cur, _ = readUint(mem.Read, c, 8, "current_task")
	}
	var tasks []Task
	seen := map[uint64]bool{}
	add := func(addr uint64) error {
		t, err := l.readTask(mem.Read, addr)
		if err != nil {
			return err
		}
		t.Current = addr == cur
		tasks = append(tasks, t)
		return nil
	}
	addr := initTask.Addr
	for len(tasks) < maxTasks {
		if seen[addr] {
			return tasks, fmt.Errorf("kernelsym: task list loops at task_struct %#x", addr)
		}
		seen[addr] = true
		if err := add(addr); err != nil {
			return tasks, err
		}
		for _, th := range l.threads(mem.Read, addr) {
			if !seen[th] && len(tasks) < maxTasks {
				seen[th] = true
				if err := add(th); err != nil {
					return tasks, err
				}
			}
		}
		next, err := readUint(mem.Read, addr+l.layout.tasks.Offset, 8, "task_struct.tasks.next")
		if err != nil {
			return tasks, err
		}
		addr = next - l.layout.tasks.Offset
		if addr == initTask.Addr {
			return tasks, nil
		}
	}
	return tasks, fmt.Errorf("kernelsym: more than %d tasks (a corrupt list?)", maxTasks)
}

// threads returns the other threads of the thread-group leader at addr
// (none when the layout lacks for_each_thread's fields, or on a read
// error: the leaders are listed anyway).
func (l *Linux) threads(read ReadFunc, leader uint64) []uint64 {
	ly := l.layout
	if ly.signal.Size == 0 {
		return nil
	}
	sig, err := readUint(read, leader+ly.signal.Offset, 8, "task_struct.signal")
	if err != nil || sig == 0 {
		return nil
	}
	head := sig + ly.signalThreadHead.Offset
	var out []uint64
	n, err := readUint(read, head, 8, "signal_struct.thread_head.next")
	for i := 0; err == nil && n != head && i < maxTasks; i++ {
		if t := n - ly.threadNode.Offset; t != leader {
			out = append(out, t)
		}
		n, err = readUint(read, n, 8, "task_struct.thread_node.next")
	}
	return out
}

func (l *Linux) readTask(read ReadFunc, addr uint64) (Task, error) {
	ly := l.layout
	b := make([]byte, ly.taskSize)
	if err := readFull(read, addr, b, "task_struct"); err != nil {
		return Task{}, err
	}
	t := Task{
		Addr:  addr,
		Pid:   signed(field(b, ly.pid), ly.pid.Size),
		Comm:  cString(b[ly.comm.Offset : ly.comm.Offset+ly.comm.Size]),
		State: int64(field(b, ly.state)),
		Stack: field(b, ly.stack),
		SP:    field(b, ly.sp),
		MM:    field(b, ly.mm),
	}
	t.StateName = linuxStateName(uint64(t.State), field(b, ly.exitState))
	t.StackEnd = t.Stack + l.threadSize
	if t.MM != 0 && ly.mmPgd.Size == 8 {
		t.PGD, _ = readUint(read, t.MM+ly.mmPgd.Offset, 8, "mm->pgd")
	}
	return t, nil
}

// linuxStateName names a task state as /proc/PID/status does
// (fs/proc/array.c task_state_array, indexed by fls of __state |
// exit_state masked with TASK_REPORT; TASK_IDLE, uninterruptible and
// no-load, is I).
func linuxStateName(state, exitState uint64) string {
	const (
		taskReport = 0x7f
		taskIdle   = 0x402 // TASK_UNINTERRUPTIBLE | TASK_NOLOAD
	)
	if state&taskIdle == taskIdle {
		return "I (idle)"
	}
	s := (state | exitState) & taskReport
	if s == 0 {
		return "R (running)"
	}
	names := []string{"S (sleeping)", "D (disk sleep)", "T (stopped)", "t (tracing stop)", "X (dead)", "Z (zombie)", "P (parked)"}
	return names[bits.Len64(s)-1]
}

// loadModules re-reads the module list and, when it changed, the
// modules' symbols (mod->kallsyms: an Elf64_Sym table and its strings,
// which cover the init sections too while a module's init runs).
func (l *Linux) loadModules(mem Memory) {
	ly := l.layout
	head, ok := l.syms.Lookup("modules")
	if !ok || ly.modList.Size == 0 {
		return
	}
	var mods []Module
	seen := map[uint64]bool{}
	addr, err := readUint(mem.Read, head.Addr, 8, "modules.next")
	for err == nil && addr != head.Addr && len(mods) < maxModules && !seen[addr] {
		seen[addr] = true
		m := addr - ly.modList.Offset
		b := make([]byte, ly.moduleSize)
		if readFull(mem.Read, m, b, "struct module") != nil {
			break
		}
		mods = append(mods, Module{
			Name: cString(b[ly.modName.Offset : ly.modName.Offset+ly.modName.Size]),
			Addr: m, Base: field(b, ly.modBase), Size: field(b, ly.modSize),
			InitBase: field(b, ly.modInitBase), InitSize: field(b, ly.modInitSize),
			NumORC: field(b, ly.modNumORC), ORCUnwindIP: field(b, ly.modORCIP), ORCUnwind: field(b, ly.modORC),
		})
		addr, err = readUint(mem.Read, addr, 8, "module.list.next")
	}
	if sameModules(mods, l.modules) {
		return
	}
	l.modules = mods
	syms := append([]Symbol(nil), l.kernelSyms...)
	total := 0
	for _, m := range mods {
		ms := l.moduleSymbols(mem.Read, m)
		if total += len(ms); total > maxModuleSymbols {
			break // a corrupt list repeating modules: the first ones keep their names
		}
		syms = append(syms, ms...)
	}
	l.syms = NewSymbolTable(syms)
}

const (
	maxModules       = 4096
	maxModuleSymbols = 1 << 18 // all modules' together
	maxModuleStrtab  = 8 << 20
)

func sameModules(a, b []Module) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// moduleSymbols reads a module's function and object symbols. Errors
// leave the module without names (its addresses still print).
func (l *Linux) moduleSymbols(read ReadFunc, m Module) []Symbol {
	ly := l.layout
	if ly.ksymtab.Size == 0 {
		return nil
	}
	ka, err := readUint(read, m.Addr+ly.modKallsyms.Offset, 8, "module.kallsyms")
	if err != nil || ka == 0 {
		return nil
	}
	kb := make([]byte, ly.modKallsymsSize)
	if readFull(read, ka, kb, "mod_kallsyms") != nil {
		return nil
	}
	symtab, n, strtab := field(kb, ly.ksymtab), field(kb, ly.knumsym), field(kb, ly.kstrtab)
	if n == 0 || n > maxModuleSymbols {
		return nil
	}
	raw := make([]byte, 24*n)
	if readFull(read, symtab, raw, "module symtab") != nil {
		return nil
	}
	var strMax uint64
	for i := uint64(0); i < n; i++ {
		strMax = max(strMax, uint64(binary.LittleEndian.Uint32(raw[24*i:])))
	}
	if strMax > maxModuleStrtab {
		return nil
	}
	strs := make([]byte, strMax+256)
	nr, _ := read(strtab, strs)
	strs = strs[:nr]
	var syms []Symbol
	for i := uint64(1); i < n; i++ {
		e := raw[24*i:]
		name, info, shndx := uint64(binary.LittleEndian.Uint32(e)), e[4], binary.LittleEndian.Uint16(e[6:])
		value, size := binary.LittleEndian.Uint64(e[8:]), binary.LittleEndian.Uint64(e[16:])
		typ := info & 0xf
		if shndx == 0 || (typ != 1 && typ != 2) || name >= uint64(len(strs)) {
			continue // undefined, or not STT_OBJECT/STT_FUNC
		}
		s := cString(strs[name:])
		if s == "" {
			continue
		}
		syms = append(syms, Symbol{Name: s, Addr: value, Size: size, Func: typ == 2, Module: m.Name, Global: info>>4 == 1})
	}
	return syms
}

// Stacks returns CPU 0's IRQ stack and exception stacks (the per-CPU
// hardirq_stack_ptr, and cea_exception_stacks in cpu_entry_area), each
// with the guard page below it.
func (l *Linux) Stacks(mem Memory) ([]Stack, error) {
	if err := l.TaskModel(); err != nil {
		return nil, err
	}
	var out []Stack
	var errs []error
	if a, err := l.perCPU("hardirq_stack_ptr"); err == nil {
		// arch/x86/kernel/irq_64.c: hardirq_stack_ptr = stack + IRQ_STACK_SIZE - 8,
		// IRQ_STACK_SIZE = THREAD_SIZE (without KASAN).
		if p, err := readUint(mem.Read, a, 8, "hardirq_stack_ptr"); err == nil && p != 0 {
			end := p + 8
			out = append(out, Stack{Name: "IRQ", Begin: end - l.threadSize, End: end, Guard: true})
		} else if err != nil {
			errs = append(errs, err)
		}
	}
	if a, err := l.perCPU("cea_exception_stacks"); err == nil && len(l.layout.estacks) > 0 {
		p, err := readUint(mem.Read, a, 8, "cea_exception_stacks")
		if err != nil {
			errs = append(errs, err)
		} else if p != 0 {
			for _, n := range []string{"DF", "NMI", "DB", "MCE"} {
				f, ok := l.layout.estacks[n]
				if !ok {
					continue
				}
				name := "#" + n
				if n == "NMI" {
					name = n
				} else if n == "MCE" {
					name = "#MC"
				}
				out = append(out, Stack{Name: name, Begin: p + f.Offset, End: p + f.Offset + f.Size, Guard: true})
			}
		}
	}
	return out, errors.Join(errs...)
}

// Regions returns Linux's x86-64 address-space layout with 4-level
// paging (Documentation/arch/x86/x86_64/mm.rst; ptdump's
// address_markers): the direct map, vmalloc and vmemmap at the bases the
// kernel chose (arch/x86/mm/kaslr.c randomizes them), the fixed regions
// at their fixed places.
func (l *Linux) Regions() []Region {
	b := l.Bases
	if l.missing != "" || b.PageOffset == 0 || b.Vmalloc == 0 || b.Vmemmap == 0 {
		return nil
	}
	rs := []Region{
		{"user space", 0},
		{"kernel (other)", 0xffff800000000000},
		{"direct map", b.PageOffset},
		{"vmalloc", b.Vmalloc},
		{"vmemmap", b.Vmemmap},
		{"cpu_entry_area", 0xfffffe0000000000}, // CPU_ENTRY_AREA_BASE
		{"espfix", 0xffffff0000000000},         // ESPFIX_BASE_ADDR
		{"kernel image", 0xffffffff80000000},   // __START_KERNEL_map
		{"modules", 0xffffffffc0000000},        // MODULES_VADDR
		{"fixmap", 0xffffffffff000000},         // MODULES_END
	}
	// Randomized bases stay in their order (kaslr.c places them in
	// sequence); a kernel whose values say otherwise gets no layout.
	for i := 1; i < len(rs); i++ {
		if rs[i].Start <= rs[i-1].Start {
			return nil
		}
	}
	return rs
}
