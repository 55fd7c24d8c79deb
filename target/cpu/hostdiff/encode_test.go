package hostdiff

// A small x86-64 encoder for the instruction forms the generator emits:
// legacy prefixes, REX, opcode, ModRM/SIB/displacement and immediate
// (SDM Vol. 2A chapter 2: 2.1 instruction format, 2.2.1 REX prefixes,
// Tables 2-2/2-3 for 32/64-bit ModRM and SIB).

import "fmt"

// General-purpose register numbers in encoding order.
const (
	rAX = iota
	rCX
	rDX
	rBX
	rSP
	rBP
	rSI
	rDI
)

// hiByte+0..3 name AH, CH, DH, BH: byte registers 4..7 of an instruction
// without a REX prefix (SDM Vol. 2A 2.2.1.2, Table 3-1). With any REX
// prefix the same encodings mean SPL, BPL, SIL, DIL, which are 4..7 here.
const hiByte = 16

var regNames64 = [16]string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}

// memOp is a memory operand. base/index -1 mean none; with rip the
// operand is RIP-relative (disp only). a32 adds the 67h address-size
// prefix (32-bit effective address, SDM Vol. 1 3.3.7).
type memOp struct {
	base, index int
	scale       int // 1, 2, 4 or 8
	disp        int32
	disp32      bool // force a 32-bit displacement even if disp fits 8 bits
	rip         bool
	a32         bool
	seg         byte // segment-override prefix, 0 if none
}

// operand is the ModRM r/m operand: a register or memory.
type operand struct {
	isMem bool
	reg   int
	mem   memOp
}

// insn is one instruction to encode.
type insn struct {
	pfx     []byte // legacy prefixes (66h, F2h, F3h), in order
	w       bool   // REX.W
	op      []byte // opcode bytes
	modrm   bool
	reg     int  // ModRM.reg: a register, or an opcode extension when regExt
	regExt  bool // reg is the /digit of the opcode, not a register
	regByte bool // reg names a byte register
	rm      operand
	rmByte  bool // a register rm names a byte register
	opReg   int  // register added to the last opcode byte (B0+r, 0F C8+r...), -1 if none
	opByte  bool // opReg names a byte register
	imm     []byte
	a32     bool   // 67h without a memory operand (string instructions)
	seg     byte   // segment override without a memory operand (string source)
	tail    []byte // further instructions after this one (branch targets)
}

func newInsn() *insn { return &insn{opReg: -1} }

// byteReg maps a byte register of this package's numbering to its 4-bit
// encoding and says whether it requires or forbids REX.
func byteReg(r int) (enc int, needREX, noREX bool) {
	switch {
	case r >= hiByte:
		return r - hiByte + 4, false, true
	case r >= 4 && r < 8:
		return r, true, false
	}
	return r, false, false
}

// encode returns the machine code of in. It fails on combinations the
// ISA cannot express (AH..BH together with a REX prefix).
func (in *insn) encode() ([]byte, error) {
	var rex byte
	needREX, noREX := false, false
	reg := func(r int, isByte bool) int {
		if !isByte {
			return r
		}
		e, need, no := byteReg(r)
		needREX = needREX || need
		noREX = noREX || no
		return e
	}
	if in.w {
		rex |= 8
	}
	var modrm []byte
	var disp []byte
	if in.modrm {
		rg := in.reg
		if !in.regExt {
			rg = reg(in.reg, in.regByte)
		}
		if rg >= 8 {
			rex |= 4
		}
		if !in.rm.isMem {
			r := reg(in.rm.reg, in.rmByte)
			if r >= 8 {
				rex |= 1
			}
			modrm = []byte{0xc0 | byte(rg&7)<<3 | byte(r&7)}
		} else {
			m := in.rm.mem
			d32 := func(v int32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }
			ss := map[int]byte{1: 0, 2: 1, 4: 2, 8: 3}[m.scale]
			idx := byte(4) // no index
			if m.index >= 0 {
				if m.index == rSP {
					return nil, fmt.Errorf("rsp cannot be an index")
				}
				idx = byte(m.index & 7)
				if m.index >= 8 {
					rex |= 2
				}
			}
			switch {
			case m.rip:
				// mod 00, r/m 101: RIP-relative in 64-bit mode (Table 2-7).
				modrm = []byte{byte(rg&7)<<3 | 5}
				disp = d32(m.disp)
			case m.base < 0:
				// SIB with base 101 and mod 00: disp32, no base.
				modrm = []byte{byte(rg&7)<<3 | 4, ss<<6 | idx<<3 | 5}
				disp = d32(m.disp)
			default:
				var mod byte
				switch {
				case m.disp == 0 && m.base&7 != 5 && !m.disp32:
					mod = 0
				case m.disp >= -128 && m.disp <= 127 && !m.disp32:
					mod = 1
					disp = []byte{byte(m.disp)}
				default:
					mod = 2
					disp = d32(m.disp)
				}
				if m.base >= 8 {
					rex |= 1
				}
				if m.index >= 0 || m.base&7 == 4 {
					modrm = []byte{mod<<6 | byte(rg&7)<<3 | 4, ss<<6 | idx<<3 | byte(m.base&7)}
				} else {
					modrm = []byte{mod<<6 | byte(rg&7)<<3 | byte(m.base&7)}
				}
			}
		}
	}
	op := append([]byte(nil), in.op...)
	if in.opReg >= 0 {
		r := reg(in.opReg, in.opByte)
		if r >= 8 {
			rex |= 1
		}
		op[len(op)-1] += byte(r & 7)
	}
	var b []byte
	if in.a32 || in.modrm && in.rm.isMem && in.rm.mem.a32 {
		b = append(b, 0x67)
	}
	if in.seg != 0 {
		b = append(b, in.seg)
	} else if in.modrm && in.rm.isMem && in.rm.mem.seg != 0 {
		b = append(b, in.rm.mem.seg)
	}
	b = append(b, in.pfx...)
	if rex != 0 || needREX {
		if noREX {
			return nil, fmt.Errorf("AH..BH cannot be encoded with a REX prefix")
		}
		b = append(b, 0x40|rex)
	}
	b = append(b, op...)
	b = append(b, modrm...)
	b = append(b, disp...)
	b = append(b, in.imm...)
	b = append(b, in.tail...)
	return b, nil
}
