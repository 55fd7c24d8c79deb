package kernelsym

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ReadFunc reads guest memory at a (linear) address, returning how many
// bytes it read; the machine's CPU().ReadLinear has this shape.
type ReadFunc func(addr uint64, buf []byte) (int, error)

// ErrNoTaskModel is returned by the task readers of an ELFKernel whose
// TasksOK is false.
var ErrNoTaskModel = errors.New("kernelsym: the kernel has no task model (symbols or DWARF missing)")

// Task is one struct task_struct as read from guest memory.
type Task struct {
	Addr      uint64 // address of the task_struct
	Pid       int64
	Comm      string
	State     int64
	StateName string // "TASK_RUNNING", or the number when DWARF has no name
	Stack     uint64 // lowest address of the stack (task->stack)
	StackEnd  uint64 // Stack + THREAD_SIZE (exclusive)
	SP        uint64 // thread.sp: saved RSP (stale for the running task)
	MM        uint64 // struct mm_struct *
	// From the mm_struct, when the layout has them and MM is readable.
	PGD    uint64 // mm->pgd: the top-level table's (direct-map) address
	MMName string
	// Current is set by Tasks for the task current_task points at.
	Current bool
}

// GuardPage returns the page below the stack, which a vmapped stack
// leaves unmapped: [start, end).
func (t Task) GuardPage() (start, end uint64) { return t.Stack - 4096, t.Stack }

func readFull(read ReadFunc, addr uint64, buf []byte, what string) error {
	n, err := read(addr, buf)
	if err == nil && n < len(buf) {
		err = fmt.Errorf("short read (%d of %d bytes)", n, len(buf))
	}
	if err != nil {
		return fmt.Errorf("kernelsym: read %s at %#x: %w", what, addr, err)
	}
	return nil
}

func readUint(read ReadFunc, addr, size uint64, what string) (uint64, error) {
	var buf [8]byte
	if size == 0 || size > 8 {
		return 0, fmt.Errorf("kernelsym: read %s: size %d", what, size)
	}
	if err := readFull(read, addr, buf[:size], what); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(buf[:]), nil
}

// field reads a little-endian field of up to 8 bytes from a structure's
// bytes; a field outside them (a layout that does not fit the structure)
// reads as 0.
func field(b []byte, f Field) uint64 {
	if f.Size > 8 || f.Offset > uint64(len(b)) || f.Size > uint64(len(b))-f.Offset {
		return 0
	}
	var buf [8]byte
	copy(buf[:], b[f.Offset:f.Offset+f.Size])
	return binary.LittleEndian.Uint64(buf[:])
}

func signed(v, size uint64) int64 {
	if size == 4 {
		return int64(int32(uint32(v)))
	}
	return int64(v)
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// ReadTask reads the task_struct at addr.
func (k *ELFKernel) ReadTask(read ReadFunc, addr uint64) (Task, error) {
	if k == nil || !k.TasksOK {
		return Task{}, ErrNoTaskModel
	}
	l := k.Task
	b := make([]byte, l.Size)
	if err := readFull(read, addr, b, "task_struct"); err != nil {
		return Task{}, err
	}
	t := Task{
		Addr:  addr,
		Pid:   signed(field(b, l.Pid), l.Pid.Size),
		Comm:  cString(b[l.Comm.Offset : l.Comm.Offset+l.Comm.Size]),
		State: signed(field(b, l.State), l.State.Size),
		Stack: field(b, l.Stack),
		SP:    field(b, l.ThreadSP),
		MM:    field(b, l.MM),
	}
	t.StackEnd = t.Stack + k.ThreadSize
	if name, ok := k.StateNames[t.State]; ok {
		t.StateName = name
	} else {
		t.StateName = fmt.Sprint(t.State)
	}
	if t.MM != 0 && l.MMSize != 0 {
		// The mm is optional detail: a task whose mm cannot be read is
		// still listed.
		if l.MMPgd.Size != 0 {
			t.PGD, _ = readUint(read, t.MM+l.MMPgd.Offset, 8, "mm->pgd")
		}
		if l.MMName.Size != 0 {
			if p, err := readUint(read, t.MM+l.MMName.Offset, 8, "mm->name"); err == nil && p != 0 {
				var nb [32]byte
				n, _ := read(p, nb[:])
				t.MMName = cString(nb[:n])
			}
		}
	}
	return t, nil
}

// CurrentTaskAddr reads current_task.
func (k *ELFKernel) CurrentTaskAddr(read ReadFunc) (uint64, error) {
	if k == nil || !k.TasksOK {
		return 0, ErrNoTaskModel
	}
	return readUint(read, k.CurrentTask, 8, "current_task")
}

// Current reads the task current_task points at.
func (k *ELFKernel) Current(mem Memory) (Task, error) {
	read := mem.Read
	a, err := k.CurrentTaskAddr(read)
	if err != nil {
		return Task{}, err
	}
	if a == 0 {
		return Task{}, fmt.Errorf("kernelsym: current_task is NULL (the scheduler is not initialised yet)")
	}
	t, err := k.ReadTask(read, a)
	t.Current = true
	return t, err
}

// Tasks reads task_table[0 .. nr_tasks-1] (nr_tasks clamped to the
// table's length; NULL slots skipped) and marks the current task.
func (k *ELFKernel) Tasks(mem Memory) ([]Task, error) {
	read := mem.Read
	if k == nil || !k.TasksOK {
		return nil, ErrNoTaskModel
	}
	nv, err := readUint(read, k.NrTasks, k.NrTasksSize, "nr_tasks")
	if err != nil {
		return nil, err
	}
	n := signed(nv, k.NrTasksSize)
	if n < 0 {
		return nil, fmt.Errorf("kernelsym: nr_tasks is %d", n)
	}
	if n > int64(k.TaskTableLen) {
		n = int64(k.TaskTableLen)
	}
	cur, err := k.CurrentTaskAddr(read)
	if err != nil {
		return nil, err
	}
	ptrs := make([]byte, 8*n)
	if err := readFull(read, k.TaskTable, ptrs, "task_table"); err != nil {
		return nil, err
	}
	var tasks []Task
	for i := int64(0); i < n; i++ {
		a := binary.LittleEndian.Uint64(ptrs[8*i:])
		if a == 0 {
			continue
		}
		t, err := k.ReadTask(read, a)
		if err != nil {
			return tasks, fmt.Errorf("task_table[%d]: %w", i, err)
		}
		t.Current = a == cur
		tasks = append(tasks, t)
	}
	return tasks, nil
}

// Sync does nothing: an ELFKernel knows all it knows from its file.
func (k *ELFKernel) Sync(Memory) {}

// TaskModel says why the tasks cannot be read, or nil.
func (k *ELFKernel) TaskModel() error {
	switch {
	case k == nil:
		return ErrNoTaskModel
	case k.TasksOK:
		return nil
	case !k.HasSymbols:
		return errors.New("the kernel ELF has no symbol table")
	case k.Missing != "":
		return errors.New(k.Missing)
	}
	return ErrNoTaskModel
}

// StackSize returns THREAD_SIZE and where it comes from.
func (k *ELFKernel) StackSize() (uint64, string) { return k.ThreadSize, k.ThreadSizeSource }

// Stacks returns none: the mini kernel's IST stack has no guard page of
// its own, and its tasks' stacks are the tasks'.
func (k *ELFKernel) Stacks(Memory) ([]Stack, error) { return nil, nil }
