package gdbtarget

import (
	"encoding/binary"
	"fmt"

	"vmapstack/target/cpu"
)

// regType says how a register is typed in the target description and how
// lldb should show it.
type regDef struct {
	name    string
	bits    int
	xmlType string // type attribute in the target description
	group   string // group attribute ("" for none)
	// lldb's qRegisterInfo fields
	encoding string // uint, sint, ieee754, vector
	format   string // hex, binary, vector-uint8, float
	set      string
	dwarf    int // System V AMD64 ABI DWARF number, -1 for none
	generic  string
}

// regs is QEMU 7.2's x86-64 register file (gdb-xml/i386-64bit.xml, feature
// org.gnu.gdb.i386.core), in gdb register-number order. Tools written for
// QEMU (Linux scripts/gdb, IDE register views) address registers by these
// numbers and names, so the order and sizes must not change: 66 registers,
// a 608-byte g packet.
var regs = func() []regDef {
	gp := func(name string, dwarf int, typ, generic string) regDef {
		return regDef{name: name, bits: 64, xmlType: typ, encoding: "uint", format: "hex",
			set: "General Purpose Registers", dwarf: dwarf, generic: generic}
	}
	r := []regDef{
		gp("rax", 0, "int64", ""),
		gp("rbx", 3, "int64", ""),
		gp("rcx", 2, "int64", "arg4"),
		gp("rdx", 1, "int64", "arg3"),
		gp("rsi", 4, "int64", "arg2"),
		gp("rdi", 5, "int64", "arg1"),
		gp("rbp", 6, "data_ptr", "fp"),
		gp("rsp", 7, "data_ptr", "sp"),
		gp("r8", 8, "int64", "arg5"),
		gp("r9", 9, "int64", "arg6"),
		gp("r10", 10, "int64", ""),
		gp("r11", 11, "int64", ""),
		gp("r12", 12, "int64", ""),
		gp("r13", 13, "int64", ""),
		gp("r14", 14, "int64", ""),
		gp("r15", 15, "int64", ""),
		gp("rip", 16, "code_ptr", "pc"),
		{name: "eflags", bits: 32, xmlType: "x64_eflags", encoding: "uint", format: "hex",
			set: "General Purpose Registers", dwarf: 49, generic: "flags"},
	}
	for i, s := range []string{"cs", "ss", "ds", "es", "fs", "gs"} {
		dw := []int{51, 52, 53, 50, 54, 55}[i]
		r = append(r, regDef{name: s, bits: 32, xmlType: "int32", encoding: "uint", format: "hex",
			set: "General Purpose Registers", dwarf: dw})
	}
	sys := func(name, typ string, dwarf int) regDef {
		return regDef{name: name, bits: 64, xmlType: typ, encoding: "uint", format: "hex",
			set: "System Registers", dwarf: dwarf}
	}
	r = append(r,
		sys("fs_base", "int64", 58), sys("gs_base", "int64", 59), sys("k_gs_base", "int64", -1),
		sys("cr0", "x64_cr0", -1), sys("cr2", "int64", -1), sys("cr3", "x64_cr3", -1),
		sys("cr4", "x64_cr4", -1), sys("cr8", "int64", -1), sys("efer", "x64_efer", -1))
	for i := 0; i < 8; i++ {
		r = append(r, regDef{name: fmt.Sprintf("st%d", i), bits: 80, xmlType: "i387_ext",
			encoding: "ieee754", format: "float", set: "Floating Point Registers", dwarf: 33 + i})
	}
	for i, s := range []string{"fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"} {
		dw := -1
		if i < 2 {
			dw = 65 + i
		}
		r = append(r, regDef{name: s, bits: 32, xmlType: "int", group: "float", encoding: "uint",
			format: "hex", set: "Floating Point Registers", dwarf: dw})
	}
	for i := 0; i < 16; i++ {
		r = append(r, regDef{name: fmt.Sprintf("xmm%d", i), bits: 128, xmlType: "vec128",
			encoding: "vector", format: "vector-uint8", set: "SSE Registers", dwarf: 17 + i})
	}
	r = append(r, regDef{name: "mxcsr", bits: 32, xmlType: "x64_mxcsr", group: "vector",
		encoding: "uint", format: "hex", set: "SSE Registers", dwarf: 64})
	return r
}()

// gdb register numbers used outside the table.
const (
	regRBP = 6
	regRSP = 7
	regRIP = 16
)

// gprOrder maps gdb's GPR numbers 0-15 to the CPU's encoding order
// (gdb: rax rbx rcx rdx rsi rdi rbp rsp; ISA: rax rcx rdx rbx rsp rbp rsi rdi).
var gprOrder = [16]int{cpu.RAX, cpu.RBX, cpu.RCX, cpu.RDX, cpu.RSI, cpu.RDI, cpu.RBP, cpu.RSP,
	cpu.R8, cpu.R9, cpu.R10, cpu.R11, cpu.R12, cpu.R13, cpu.R14, cpu.R15}

// segOrder maps gdb's cs ss ds es fs gs to the CPU's segment numbers.
var segOrder = [6]int{cpu.CS, cpu.SS, cpu.DS, cpu.ES, cpu.FS, cpu.GS}

// regOffsets[i] is register i's byte offset in the g packet; gPacketSize its length.
var regOffsets, gPacketSize = func() ([]int, int) {
	off := make([]int, len(regs))
	n := 0
	for i, r := range regs {
		off[i] = n
		n += r.bits / 8
	}
	return off, n
}()

// encodeRegister writes register n of s into b (little-endian, the target's
// byte order) and returns the bytes written.
func encodeRegister(s *cpu.State, n int, b []byte) int {
	size := regs[n].bits / 8
	put64 := func(v uint64) { binary.LittleEndian.PutUint64(b, v) }
	put32 := func(v uint32) { binary.LittleEndian.PutUint32(b, v) }
	switch {
	case n < 16:
		put64(s.GPR[gprOrder[n]])
	case n == 16:
		put64(s.RIP)
	case n == 17:
		put32(uint32(s.RFLAGS))
	case n < 24:
		put32(uint32(s.Seg[segOrder[n-18]].Sel))
	case n < 33:
		put64(*sysRegister(s, n))
	case n < 41:
		copy(b, s.ST[n-33][:])
	case n < 49:
		put32(*fpuControl(s, n))
	case n < 65:
		copy(b, s.XMM[n-49][:])
	default:
		put32(s.MXCSR)
	}
	return size
}

// decodeRegister sets register n of s from b, which holds at least the
// register's size. Segment selectors written by a debugger change only the
// selector, not the hidden descriptor cache, as in QEMU's gdbstub for
// 64-bit mode.
func decodeRegister(s *cpu.State, n int, b []byte) {
	get64 := func() uint64 { return binary.LittleEndian.Uint64(b) }
	get32 := func() uint32 { return binary.LittleEndian.Uint32(b) }
	switch {
	case n < 16:
		s.GPR[gprOrder[n]] = get64()
	case n == 16:
		s.RIP = get64()
	case n == 17:
		s.RFLAGS = s.RFLAGS&^0xffffffff | uint64(get32())
	case n < 24:
		s.Seg[segOrder[n-18]].Sel = uint16(get32())
	case n < 33:
		*sysRegister(s, n) = get64()
	case n < 41:
		copy(s.ST[n-33][:], b[:10])
	case n < 49:
		*fpuControl(s, n) = get32()
	case n < 65:
		copy(s.XMM[n-49][:], b[:16])
	default:
		s.MXCSR = get32()
	}
}

func sysRegister(s *cpu.State, n int) *uint64 {
	switch n {
	case 24:
		return &s.Seg[cpu.FS].Base
	case 25:
		return &s.Seg[cpu.GS].Base
	case 26:
		return &s.KernelGSBase
	case 27:
		return &s.CR0
	case 28:
		return &s.CR2
	case 29:
		return &s.CR3
	case 30:
		return &s.CR4
	case 31:
		return &s.CR8
	default:
		return &s.EFER
	}
}

func fpuControl(s *cpu.State, n int) *uint32 {
	return [...]*uint32{&s.FCTRL, &s.FSTAT, &s.FTAG, &s.FISEG, &s.FIOFF, &s.FOSEG, &s.FOOFF, &s.FOP}[n-41]
}

// encodeRegisters is the g packet's payload.
func encodeRegisters(s *cpu.State) []byte {
	b := make([]byte, gPacketSize)
	for n := range regs {
		encodeRegister(s, n, b[regOffsets[n]:])
	}
	return b
}

// decodeRegisters applies a G packet's payload; b must be gPacketSize long.
func decodeRegisters(s *cpu.State, b []byte) error {
	if len(b) != gPacketSize {
		return fmt.Errorf("register block is %d bytes, want %d", len(b), gPacketSize)
	}
	for n := range regs {
		decodeRegister(s, n, b[regOffsets[n]:])
	}
	return nil
}
