// Package orc unwinds a Linux x86-64 kernel stack from outside the guest
// with the kernel's own ORC tables, as arch/x86/kernel/unwind_orc.c does
// inside it (docs/design.md §7, `monitor bt`). It knows the ORC format of
// Linux 6.1 (arch/x86/include/asm/orc_types.h, the kernel Debian ships),
// struct pt_regs, and the rules unwind_next_frame follows; it knows no
// symbols and no guest layout: the caller gives it memory (Read), the
// tables (Tables, usually a Table loaded from __start_orc_unwind_ip …),
// the stacks an address can be on (StackInfo) and the registers to start
// from, and names the frames' PCs itself (kallsyms).
//
// What it leaves out of unwind_orc.c: the guess mode of show_trace_log_lvl
// (printing every text address found on the stack with "?"; a caller can
// do that scan with Frame.RetAddr and Stack.Next), the recovery of return
// addresses replaced by the function-graph tracer or kretprobes
// (unwind_recover_ret_addr), and ftrace trampolines, which have no ORC
// entries of their own (orc_ftrace_find).
package orc

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// Read reads guest memory at the linear address addr into buf and
// returns how many bytes it read; fewer than len(buf), or an error, means
// the rest is not there (unmapped, or outside the image).
type Read func(addr uint64, buf []byte) (int, error)

// Reg is an ORC base register (orc_types.h ORC_REG_*).
type Reg uint8

// The ORC registers of Linux 6.1 (orc_types.h).
const (
	RegUndefined  Reg = 0 // sp_reg: the end of the stack (with End) or no unwind information; bp_reg: BP is unchanged
	RegPrevSP     Reg = 1 // bp_reg only: BP was saved at prev_sp + bp_offset
	RegDX         Reg = 2
	RegDI         Reg = 3
	RegBP         Reg = 4
	RegSP         Reg = 5
	RegR10        Reg = 6
	RegR13        Reg = 7
	RegBPIndirect Reg = 8 // prev_sp = *(BP + sp_offset)
	RegSPIndirect Reg = 9 // prev_sp = *SP + sp_offset: the stack switch of call_on_stack (asm/irq_stack.h)
)

// String names r as objtool's --dump does.
func (r Reg) String() string {
	switch r {
	case RegUndefined:
		return "(und)"
	case RegPrevSP:
		return "prevsp"
	case RegDX:
		return "dx"
	case RegDI:
		return "di"
	case RegBP:
		return "bp"
	case RegSP:
		return "sp"
	case RegR10:
		return "r10"
	case RegR13:
		return "r13"
	case RegBPIndirect:
		return "bp(ind)"
	case RegSPIndirect:
		return "sp(ind)"
	}
	return fmt.Sprintf("reg%d", uint8(r))
}

// Type is what sp_reg + sp_offset points at (orc_types.h; 6.1 numbers its
// types as UNWIND_HINT_TYPE_CALL, _REGS and _REGS_PARTIAL do).
type Type uint8

// The ORC entry types of Linux 6.1.
const (
	// TypeCall: the CFA is the caller's SP right after its CALL; the
	// return address is the word below it. All C code and callable asm.
	TypeCall Type = 0
	// TypeRegs: the CFA is a full struct pt_regs of a syscall,
	// interrupt or exception entry.
	TypeRegs Type = 1
	// TypeRegsPartial: the CFA is the IRET frame (pt_regs from ip on):
	// entry code before it has pushed the rest.
	TypeRegsPartial Type = 2
)

func (t Type) String() string {
	switch t {
	case TypeCall:
		return "call"
	case TypeRegs:
		return "regs"
	case TypeRegsPartial:
		return "regs (partial)"
	}
	return fmt.Sprintf("type%d", uint8(t))
}

// EntrySize is sizeof(struct orc_entry) in 6.1: two s16 offsets and a
// 16-bit word of bitfields, packed.
const EntrySize = 6

// Entry is one decoded struct orc_entry: how to find the caller's SP
// (SPReg + SPOffset, the CFA), its BP, and what the CFA points at.
type Entry struct {
	SPOffset int16
	BPOffset int16
	SPReg    Reg
	BPReg    Reg
	Type     Type
	// End marks the end of the stack where SPReg is RegUndefined
	// (UNWIND_HINT_EMPTY: entry points, ret_from_fork's first
	// instructions); an undefined SP without End is objtool's terminator
	// between sections or unreachable code, an error for the unwinder.
	End bool
}

// DecodeEntry decodes the 6.1 struct orc_entry in b[:EntrySize]. The
// bitfields are little-endian (__LITTLE_ENDIAN_BITFIELD): sp_reg:4,
// bp_reg:4, type:2, end:1 from bit 0 of the third 16-bit word; the five
// bits above are padding in 6.1 (6.4 widened type to 3 bits and added
// signal there).
func DecodeEntry(b []byte) (Entry, error) {
	if len(b) < EntrySize {
		return Entry{}, fmt.Errorf("orc: %d bytes for an orc_entry of %d", len(b), EntrySize)
	}
	le := binary.LittleEndian
	f := le.Uint16(b[4:])
	return Entry{
		SPOffset: int16(le.Uint16(b[0:])),
		BPOffset: int16(le.Uint16(b[2:])),
		SPReg:    Reg(f & 0xf),
		BPReg:    Reg(f >> 4 & 0xf),
		Type:     Type(f >> 8 & 3),
		End:      f>>10&1 != 0,
	}, nil
}

// Encode is DecodeEntry's inverse (fields too wide for their bits are
// cut to them), for building tables in tests.
func (e Entry) Encode() [EntrySize]byte {
	var b [EntrySize]byte
	le := binary.LittleEndian
	le.PutUint16(b[0:], uint16(e.SPOffset))
	le.PutUint16(b[2:], uint16(e.BPOffset))
	f := uint16(e.SPReg&0xf) | uint16(e.BPReg&0xf)<<4 | uint16(e.Type&3)<<8
	if e.End {
		f |= 1 << 10
	}
	le.PutUint16(b[4:], f)
	return b
}

// String prints e as objtool's --dump does (tools/objtool/orc_dump.c):
// "type:call sp:sp+8 bp:(und) end:0".
func (e Entry) String() string {
	end := 0
	if e.End {
		end = 1
	}
	return fmt.Sprintf("type:%v sp:%s bp:%s end:%d", e.Type, regString(e.SPReg, e.SPOffset), regString(e.BPReg, e.BPOffset), end)
}

func regString(r Reg, off int16) string {
	switch r {
	case RegUndefined:
		return "(und)"
	case RegBPIndirect:
		return fmt.Sprintf("(bp%+d)", off)
	case RegSPIndirect:
		return fmt.Sprintf("(sp)%+d", off)
	}
	return fmt.Sprintf("%v%+d", r, off)
}

// Tables finds the ORC entry that covers an instruction address: the
// kernel's Table, a module's (struct mod_arch_specific's orc_unwind_ip,
// orc_unwind, num_orcs), or several as a TableSet.
type Tables interface {
	Find(ip uint64) (Entry, bool)
}

// TableSet asks its tables in order and answers with the first that
// knows ip: the kernel's first, then the modules', as orc_find does.
type TableSet []Tables

// Find implements Tables.
func (s TableSet) Find(ip uint64) (Entry, bool) {
	for _, t := range s {
		if e, ok := t.Find(ip); ok {
			return e, true
		}
	}
	return Entry{}, false
}

// Range is the address range [Start, End).
type Range struct{ Start, End uint64 }

func (r Range) contains(a uint64) bool { return r.Start <= a && a < r.End }

// MaxEntries bounds the tables NewTable and LoadTable accept (Debian's
// 6.1 vmlinux has 368456 entries), so that counts computed from bad
// symbols fail instead of allocating gigabytes.
const MaxEntries = 1 << 24

// Table is one sorted pair of ORC tables: .orc_unwind_ip, whose s32
// entries each hold an instruction address relative to the entry's own
// address, and .orc_unwind, the orc_entry for each. Entry i covers the
// instructions from ip[i] up to the next entry's ip. The ip table is
// decoded once; entries are decoded when found. A Table is not changed
// after it is built (but for Text, which its owner sets up front) and may
// be shared.
type Table struct {
	ips []uint64 // absolute, non-decreasing
	orc []byte   // len(ips) * EntrySize

	// Text, when not empty, restricts the table to these ranges: Find
	// answers only for an ip inside one of them. Linux's orc_find asks
	// the vmlinux table only for _stext.._etext and, until the init
	// memory is freed, the init text; without Text the table answers for
	// the span of its ips (objtool ends each section with a terminator
	// entry, so an ip past a section's end finds one).
	Text []Range
}

// NewTable builds a Table from the bytes of .orc_unwind_ip, loaded at
// ipAddr, and of .orc_unwind (as they are in the vmlinux image or in
// guest memory). The tables must have the same number of entries and the
// ips must be sorted: scripts/sorttable sorts vmlinux's at build time and
// unwind_module_init a module's when it is loaded.
func NewTable(ipAddr uint64, ipTable, orcTable []byte) (*Table, error) {
	if len(ipTable)%4 != 0 || len(orcTable)%EntrySize != 0 {
		return nil, fmt.Errorf("orc: tables of %d and %d bytes are not whole arrays of s32 and orc_entry", len(ipTable), len(orcTable))
	}
	n := len(ipTable) / 4
	if n != len(orcTable)/EntrySize {
		return nil, fmt.Errorf("orc: %d ips for %d entries", n, len(orcTable)/EntrySize)
	}
	if n == 0 || n > MaxEntries {
		return nil, fmt.Errorf("orc: %d entries (want 1 to %d)", n, MaxEntries)
	}
	t := &Table{ips: make([]uint64, n), orc: orcTable}
	for i := range t.ips {
		// orc_ip(): (unsigned long)ip + *ip, the entry's own address plus
		// its signed value, with the kernel's wrap-around arithmetic.
		off := int32(binary.LittleEndian.Uint32(ipTable[4*i:]))
		t.ips[i] = ipAddr + uint64(4*i) + uint64(int64(off))
		if i > 0 && t.ips[i] < t.ips[i-1] {
			return nil, fmt.Errorf("orc: ip table not sorted: entry %d (%#x) is below entry %d (%#x)", i, t.ips[i], i-1, t.ips[i-1])
		}
	}
	return t, nil
}

// LoadTable reads a table of n entries from memory: n s32 at ipAddr
// (__start_orc_unwind_ip; n = (__stop_orc_unwind_ip -
// __start_orc_unwind_ip) / 4) and n entries at orcAddr
// (__start_orc_unwind), in large reads.
func LoadTable(mem Read, ipAddr, orcAddr uint64, n int) (*Table, error) {
	if n <= 0 || n > MaxEntries {
		return nil, fmt.Errorf("orc: %d entries (want 1 to %d)", n, MaxEntries)
	}
	ipTable := make([]byte, 4*n)
	if err := readFull(mem, ipAddr, ipTable); err != nil {
		return nil, fmt.Errorf("orc: reading .orc_unwind_ip: %w", err)
	}
	orcTable := make([]byte, EntrySize*n)
	if err := readFull(mem, orcAddr, orcTable); err != nil {
		return nil, fmt.Errorf("orc: reading .orc_unwind: %w", err)
	}
	return NewTable(ipAddr, ipTable, orcTable)
}

// readFull reads all of buf at addr in chunks, so that a Read that walks
// page tables does one walk per page and a short read names its address.
func readFull(mem Read, addr uint64, buf []byte) error {
	const chunk = 64 << 10
	for done := 0; done < len(buf); {
		end := min(done+chunk, len(buf))
		n, err := mem(addr+uint64(done), buf[done:end])
		if n >= end-done {
			done = end
			continue
		}
		if err == nil {
			err = fmt.Errorf("short read")
		}
		return fmt.Errorf("at %#x: %w", addr+uint64(done+max(n, 0)), err)
	}
	return nil
}

// Len is the number of entries.
func (t *Table) Len() int { return len(t.ips) }

// At returns entry i (0 <= i < Len) and the address it starts at.
func (t *Table) At(i int) (uint64, Entry) {
	e, _ := DecodeEntry(t.orc[i*EntrySize:])
	return t.ips[i], e
}

// Find implements Tables.
func (t *Table) Find(ip uint64) (Entry, bool) {
	i, ok := t.Index(ip)
	if !ok {
		return Entry{}, false
	}
	_, e := t.At(i)
	return e, true
}

// Index returns the index of the entry that covers ip: the last entry
// at or below ip, as __orc_find's binary search finds it. The table can
// hold an ip twice (a section's terminator and the first entry of the
// next section at the same address): the rightmost of them wins, the
// real entry.
func (t *Table) Index(ip uint64) (int, bool) {
	if ip < t.ips[0] || ip > t.ips[len(t.ips)-1] {
		return 0, false
	}
	if len(t.Text) > 0 {
		in := false
		for _, r := range t.Text {
			in = in || r.contains(ip)
		}
		if !in {
			return 0, false
		}
	}
	return sort.Search(len(t.ips), func(i int) bool { return t.ips[i] > ip }) - 1, true
}
