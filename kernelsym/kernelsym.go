// Package kernelsym is what the debugger knows of the kernel the machine
// runs: its symbols in both directions (for messages such as
// "do_page_fault+0x1c"), its tasks and their stacks, THREAD_SIZE, and
// the other stacks a fault address can be in. Kernel is the interface
// the monitor uses; there is one implementation per kind of kernel:
//
//   - ELFKernel (this file): the mini kernel, from its ELF symbols and
//     DWARF (current_task, task_table, nr_tasks, struct task_struct);
//   - Linux (linux.go): Debian's stock kernel, from what it holds in
//     memory: VMCOREINFO, kallsyms and BTF (docs/design.md §4b).
//
// A kernel without symbols or DWARF is not an error: Load returns an
// ELFKernel whose TaskModel says what is missing, and the monitor falls
// back to what the page tables show.
package kernelsym

import (
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"

	"vmapstack/kernelsym/dwarfcfi"
)

// DefaultThreadSize is THREAD_SIZE on x86-64 Linux (and in the mini
// kernel): 16 KiB. It is used when the kernel does not expose the value.
const DefaultThreadSize = 16 << 10

// Symbol is one ELF symbol of a function or an object.
type Symbol struct {
	Name string
	Addr uint64
	Size uint64 // 0 for assembler labels without .size
	Func bool   // STT_FUNC (kallsyms: type t/T)
	// Global is set for global symbols (STB_GLOBAL; kallsyms: an upper
	// case type letter).
	Global bool
	// Module names the Linux module the symbol belongs to ("" for the
	// kernel image).
	Module string
}

// Field is the place of a structure member: its byte offset from the
// start of the structure and its size in bytes.
type Field struct {
	Offset, Size uint64
}

// TaskLayout is what DWARF says of struct task_struct and struct
// mm_struct.
type TaskLayout struct {
	Size     uint64 // sizeof(struct task_struct)
	Stack    Field  // void *stack: the lowest address of the stack
	ThreadSP Field  // thread.sp: the saved RSP while switched out
	Comm     Field  // char comm[16]
	Pid      Field
	State    Field
	MM       Field // struct mm_struct *mm
	// In struct mm_struct (optional: zero Size when absent).
	MMSize uint64
	MMPgd  Field // the top-level table's (direct-map) address
	MMName Field // const char *name
}

// ELFKernel is the symbol and type information of one kernel image.
type ELFKernel struct {
	// HasSymbols tells whether the ELF has a symbol table; HasDWARF
	// whether it has debug information.
	HasSymbols, HasDWARF bool
	// TasksOK tells whether the task model below is complete; when it is
	// false, Missing says what was not found (for messages).
	TasksOK bool
	Missing string

	// Addresses of the globals of the task model.
	CurrentTask uint64 // struct task_struct *current_task
	TaskTable   uint64 // struct task_struct *task_table[TaskTableLen]
	NrTasks     uint64 // int nr_tasks
	// TaskTableLen is the number of elements of task_table, NrTasksSize
	// the size of nr_tasks in bytes.
	TaskTableLen int
	NrTasksSize  uint64

	Task TaskLayout
	// StateNames maps task-state values to the enumerators of enum
	// task_state ("TASK_RUNNING"), when DWARF has that enum.
	StateNames map[int64]string

	// ThreadSize is the stack size; ThreadSizeSource says where it came
	// from: "DWARF enumerator X", "DWARF variable X" or "default".
	ThreadSize       uint64
	ThreadSizeSource string

	*SymbolTable
	// cfi is the ELF's call frame information, for Unwind (cfiErr says
	// why there is none).
	cfi    *dwarfcfi.Table
	cfiErr error
	segs   []segment // loaded segments, for reading initialised variables
}

type segment struct {
	vaddr uint64
	data  []byte
}

// Load reads the kernel's symbols and DWARF. Only a malformed ELF is an
// error; a stripped one yields an ELFKernel that says what it lacks.
func Load(elfBytes []byte) (*ELFKernel, error) {
	f, err := elf.NewFile(bytes.NewReader(elfBytes))
	if err != nil {
		return nil, fmt.Errorf("kernelsym: read ELF: %w", err)
	}
	defer f.Close()
	k := &ELFKernel{
		ThreadSize:       DefaultThreadSize,
		ThreadSizeSource: "default",
	}
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Filesz == 0 {
			continue
		}
		// A hostile file can claim any size: check it against the file
		// before allocating (and a segment holds no more than it maps).
		if p.Filesz > p.Memsz || p.Off > uint64(len(elfBytes)) || p.Filesz > uint64(len(elfBytes))-p.Off {
			return nil, fmt.Errorf("kernelsym: segment at %#x: %#x bytes at file offset %#x (memory size %#x) do not fit the %d-byte file",
				p.Vaddr, p.Filesz, p.Off, p.Memsz, len(elfBytes))
		}
		data := make([]byte, p.Filesz)
		if _, err := p.ReadAt(data, 0); err != nil {
			return nil, fmt.Errorf("kernelsym: read segment at %#x: %w", p.Vaddr, err)
		}
		k.segs = append(k.segs, segment{vaddr: p.Vaddr, data: data})
	}
	if err := k.loadSymbols(f); err != nil {
		return nil, err
	}
	k.cfi, k.cfiErr = dwarfcfi.Load(elfBytes)
	d, err := f.DWARF()
	if err != nil {
		// No (or unreadable) debug sections: debug/elf reports both as an
		// error; neither is fatal for the debugger.
		k.Missing = "no DWARF (" + err.Error() + ")"
		return k, nil
	}
	k.HasDWARF = true
	if err := k.loadDWARF(d); err != nil {
		k.Missing = err.Error()
		return k, nil
	}
	k.TasksOK = true
	return k, nil
}

func (k *ELFKernel) loadSymbols(f *elf.File) error {
	elfSyms, err := f.Symbols()
	if errors.Is(err, elf.ErrNoSymbols) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("kernelsym: read symbol table: %w", err)
	}
	k.HasSymbols = true
	var syms []Symbol
	for _, s := range elfSyms {
		typ := elf.ST_TYPE(s.Info)
		if s.Name == "" || s.Section == elf.SHN_UNDEF || s.Section == elf.SHN_ABS && typ != elf.STT_OBJECT && typ != elf.STT_FUNC {
			continue
		}
		if typ != elf.STT_FUNC && typ != elf.STT_OBJECT && typ != elf.STT_NOTYPE {
			continue
		}
		syms = append(syms, Symbol{Name: s.Name, Addr: s.Value, Size: s.Size, Func: typ == elf.STT_FUNC, Global: elf.ST_BIND(s.Info) == elf.STB_GLOBAL})
	}
	k.SymbolTable = NewSymbolTable(syms)
	return nil
}

// readStatic reads initialised bytes of the image at a virtual address.
func (k *ELFKernel) readStatic(addr uint64, buf []byte) bool {
	for _, s := range k.segs {
		if addr >= s.vaddr && addr-s.vaddr+uint64(len(buf)) <= uint64(len(s.data)) {
			copy(buf, s.data[addr-s.vaddr:])
			return true
		}
	}
	return false
}

// loadDWARF fills the task model. It returns an error naming the first
// thing it could not find.
func (k *ELFKernel) loadDWARF(d *dwarf.Data) error {
	var (
		taskOff, mmOff             dwarf.Offset
		haveTask, haveMM           bool
		vars                       = map[string]*dwarf.Entry{}
		stateEnum                  *dwarf.EnumType
		threadSizeEnum, threadSize *dwarf.Entry
	)
	want := map[string]bool{"current_task": true, "task_table": true, "nr_tasks": true, "thread_size": true, "THREAD_SIZE": true}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			return fmt.Errorf("kernelsym: read DWARF: %w", err)
		}
		if e == nil {
			break
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		decl, _ := e.Val(dwarf.AttrDeclaration).(bool)
		switch e.Tag {
		case dwarf.TagStructType:
			if decl || e.Val(dwarf.AttrByteSize) == nil {
				break
			}
			if name == "task_struct" && !haveTask {
				taskOff, haveTask = e.Offset, true
			}
			if name == "mm_struct" && !haveMM {
				mmOff, haveMM = e.Offset, true
			}
		case dwarf.TagEnumerationType:
			if name == "task_state" && stateEnum == nil && !decl {
				if t, err := d.Type(e.Offset); err == nil {
					if et, ok := t.(*dwarf.EnumType); ok {
						stateEnum = et
					}
				}
			}
		case dwarf.TagEnumerator:
			if (name == "THREAD_SIZE_ENUM" || name == "thread_size") && threadSizeEnum == nil {
				threadSizeEnum = e
			}
		case dwarf.TagVariable:
			if !want[name] {
				break
			}
			// Prefer the defining entry (with a location or a value) over
			// extern declarations in other compilation units.
			if old := vars[name]; old == nil || (old.Val(dwarf.AttrLocation) == nil && old.Val(dwarf.AttrConstValue) == nil) {
				vars[name] = e
			}
			if name == "thread_size" || name == "THREAD_SIZE" {
				threadSize = vars[name]
			}
		}
	}

	if threadSizeEnum != nil {
		if v, ok := threadSizeEnum.Val(dwarf.AttrConstValue).(int64); ok && v > 0 {
			k.ThreadSize = uint64(v)
			k.ThreadSizeSource = "DWARF enumerator " + threadSizeEnum.Val(dwarf.AttrName).(string)
		}
	} else if threadSize != nil {
		if v, ok := k.variableValue(d, threadSize); ok && v > 0 {
			k.ThreadSize = v
			k.ThreadSizeSource = "DWARF variable " + threadSize.Val(dwarf.AttrName).(string)
		}
	}
	if stateEnum != nil {
		k.StateNames = map[int64]string{}
		for _, v := range stateEnum.Val {
			k.StateNames[v.Val] = v.Name
		}
	}

	if !haveTask {
		return fmt.Errorf("kernelsym: DWARF has no struct task_struct")
	}
	if err := k.taskLayout(d, taskOff); err != nil {
		return fmt.Errorf("kernelsym: DWARF of struct task_struct: %w", err)
	}
	if haveMM {
		if err := k.mmLayout(d, mmOff); err != nil {
			return fmt.Errorf("kernelsym: DWARF of struct mm_struct: %w", err)
		}
	}

	var err error
	if k.CurrentTask, _, err = k.variable(d, vars, "current_task"); err != nil {
		return err
	}
	var t dwarf.Type
	if k.TaskTable, t, err = k.variable(d, vars, "task_table"); err != nil {
		return err
	}
	at, ok := t.(*dwarf.ArrayType)
	if !ok || at.Count <= 0 {
		return fmt.Errorf("kernelsym: DWARF of task_table: type %v is not an array with a known length", t)
	}
	k.TaskTableLen = int(at.Count)
	if k.NrTasks, t, err = k.variable(d, vars, "nr_tasks"); err != nil {
		return err
	}
	k.NrTasksSize = uint64(t.Size())
	if k.NrTasksSize != 4 && k.NrTasksSize != 8 {
		return fmt.Errorf("kernelsym: DWARF of nr_tasks: size %d, want 4 or 8", k.NrTasksSize)
	}
	return nil
}

// variable returns the address and type of a global, from the symbol
// table (preferred: it is what the linker placed) or the DWARF location.
func (k *ELFKernel) variable(d *dwarf.Data, vars map[string]*dwarf.Entry, name string) (uint64, dwarf.Type, error) {
	e := vars[name]
	if e == nil {
		return 0, nil, fmt.Errorf("kernelsym: DWARF has no variable %s", name)
	}
	off, ok := e.Val(dwarf.AttrType).(dwarf.Offset)
	if !ok {
		return 0, nil, fmt.Errorf("kernelsym: DWARF of %s: no type", name)
	}
	t, err := d.Type(off)
	if err != nil {
		return 0, nil, fmt.Errorf("kernelsym: DWARF of %s: %w", name, err)
	}
	if s, ok := k.Lookup(name); ok {
		return s.Addr, t, nil
	}
	if a, ok := locationAddr(e); ok {
		return a, t, nil
	}
	return 0, nil, fmt.Errorf("kernelsym: no address for %s (neither a symbol nor a DW_OP_addr location)", name)
}

// locationAddr decodes a DW_AT_location that is a single DW_OP_addr.
func locationAddr(e *dwarf.Entry) (uint64, bool) {
	loc, ok := e.Val(dwarf.AttrLocation).([]byte)
	const opAddr = 0x03 // DW_OP_addr
	if !ok || len(loc) != 9 || loc[0] != opAddr {
		return 0, false
	}
	return binary.LittleEndian.Uint64(loc[1:]), true
}

// variableValue reads a constant variable: its DW_AT_const_value, or the
// bytes at its address in the image.
func (k *ELFKernel) variableValue(d *dwarf.Data, e *dwarf.Entry) (uint64, bool) {
	if v, ok := e.Val(dwarf.AttrConstValue).(int64); ok {
		return uint64(v), true
	}
	name, _ := e.Val(dwarf.AttrName).(string)
	addr, ok := locationAddr(e)
	if s, found := k.Lookup(name); found {
		addr, ok = s.Addr, true
	}
	if !ok {
		return 0, false
	}
	size := uint64(8)
	if off, isOff := e.Val(dwarf.AttrType).(dwarf.Offset); isOff {
		if t, err := d.Type(off); err == nil && t.Size() > 0 && t.Size() <= 8 {
			size = uint64(t.Size())
		}
	}
	buf := make([]byte, 8)
	if !k.readStatic(addr, buf[:size]) {
		return 0, false
	}
	return binary.LittleEndian.Uint64(buf), true
}

// structType resolves a DWARF offset to a struct type.
func structType(d *dwarf.Data, off dwarf.Offset) (*dwarf.StructType, error) {
	t, err := d.Type(off)
	if err != nil {
		return nil, err
	}
	st, ok := t.(*dwarf.StructType)
	if !ok || st.Incomplete {
		return nil, fmt.Errorf("%v is not a complete structure", t)
	}
	return st, nil
}

// member finds a member by name and returns its place and type.
func member(st *dwarf.StructType, name string) (Field, dwarf.Type, error) {
	for _, f := range st.Field {
		if f.Name == name {
			if f.BitSize != 0 {
				return Field{}, nil, fmt.Errorf("member %s is a bit field", name)
			}
			return Field{Offset: uint64(f.ByteOffset), Size: uint64(f.Type.Size())}, f.Type, nil
		}
	}
	return Field{}, nil, fmt.Errorf("no member %s", name)
}

func (k *ELFKernel) taskLayout(d *dwarf.Data, off dwarf.Offset) error {
	st, err := structType(d, off)
	if err != nil {
		return err
	}
	l := &k.Task
	l.Size = uint64(st.ByteSize)
	for _, m := range []struct {
		name string
		f    *Field
	}{{"stack", &l.Stack}, {"comm", &l.Comm}, {"pid", &l.Pid}, {"state", &l.State}, {"mm", &l.MM}} {
		if *m.f, _, err = member(st, m.name); err != nil {
			return err
		}
	}
	th, tt, err := member(st, "thread")
	if err != nil {
		return err
	}
	for {
		// thread may be a typedef of the structure.
		td, ok := tt.(*dwarf.TypedefType)
		if !ok {
			break
		}
		tt = td.Type
	}
	ts, ok := tt.(*dwarf.StructType)
	if !ok {
		return fmt.Errorf("member thread: type %v is not a structure", tt)
	}
	sp, _, err := member(ts, "sp")
	if err != nil {
		return fmt.Errorf("member thread: %w", err)
	}
	l.ThreadSP = Field{Offset: th.Offset + sp.Offset, Size: sp.Size}
	for _, f := range []struct {
		name string
		f    Field
	}{{"stack", l.Stack}, {"thread.sp", l.ThreadSP}, {"mm", l.MM}} {
		if f.f.Size != 8 {
			return fmt.Errorf("member %s: size %d, want 8 (a pointer)", f.name, f.f.Size)
		}
	}
	for _, f := range []struct {
		name string
		f    Field
	}{{"pid", l.Pid}, {"state", l.State}} {
		if f.f.Size != 4 && f.f.Size != 8 {
			return fmt.Errorf("member %s: size %d, want 4 or 8", f.name, f.f.Size)
		}
	}
	if l.Comm.Size == 0 || l.Comm.Size > 256 {
		return fmt.Errorf("member comm: size %d", l.Comm.Size)
	}
	if l.Size > 1<<16 {
		return fmt.Errorf("size %d is implausible", l.Size)
	}
	return nil
}

func (k *ELFKernel) mmLayout(d *dwarf.Data, off dwarf.Offset) error {
	st, err := structType(d, off)
	if err != nil {
		return err
	}
	k.Task.MMSize = uint64(st.ByteSize)
	if k.Task.MMSize > 1<<16 {
		return fmt.Errorf("size %d is implausible", k.Task.MMSize)
	}
	// Both members are optional: the monitor shows them when they exist.
	if f, _, err := member(st, "pgd"); err == nil && f.Size == 8 {
		k.Task.MMPgd = f
	}
	if f, _, err := member(st, "name"); err == nil && f.Size == 8 {
		k.Task.MMName = f
	}
	return nil
}
