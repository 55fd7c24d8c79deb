package dwarfcfi

import (
	"fmt"
	"math/bits"
)

// x86-64 DWARF register numbers (System V AMD64 psABI, "DWARF Register
// Number Mapping"): not the order of the instruction encoding.
const (
	RAX = iota
	RDX
	RCX
	RBX
	RSI
	RDI
	RBP
	RSP
	R8
	R9
	R10
	R11
	R12
	R13
	R14
	R15
	// RIP is the return address column.
	RIP
	// NumRegs is the number of columns the unwinder tracks: rules for
	// higher columns (vector, x87 and segment registers) are read and
	// dropped, since nothing here can use them.
	NumRegs
)

// RegName is the name of DWARF register n ("r16" style beyond RIP).
func RegName(n uint64) string {
	names := [NumRegs]string{"rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip"}
	if n < NumRegs {
		return names[n]
	}
	return fmt.Sprintf("r%d", n)
}

// RuleKind is how a register's value in the caller is found: the
// register rules of DWARF 4 §6.4.1.
type RuleKind uint8

const (
	// RuleUnspecified: no instruction said anything. gdb takes the value
	// as unchanged (same value) for every register but the stack
	// pointer, which is the CFA by definition (DWARF 4 §6.4: the CFA is
	// the value of the stack pointer at the call site in the caller);
	// Unwind does the same.
	RuleUnspecified   RuleKind = iota
	RuleUndefined              // the value cannot be recovered
	RuleSameValue              // unchanged from the callee
	RuleOffset                 // saved at CFA+Offset
	RuleValOffset              // the value is CFA+Offset
	RuleRegister               // saved in register Reg
	RuleExpression             // saved at the address Expr computes (the CFA pushed first)
	RuleValExpression          // the value is what Expr computes (the CFA pushed first)
)

func (k RuleKind) String() string {
	switch k {
	case RuleUnspecified:
		return "unspecified"
	case RuleUndefined:
		return "undefined"
	case RuleSameValue:
		return "same value"
	case RuleOffset:
		return "offset"
	case RuleValOffset:
		return "val_offset"
	case RuleRegister:
		return "register"
	case RuleExpression:
		return "expression"
	case RuleValExpression:
		return "val_expression"
	}
	return fmt.Sprintf("RuleKind(%d)", uint8(k))
}

// Rule is one register's rule.
type Rule struct {
	Kind   RuleKind
	Offset int64  // RuleOffset, RuleValOffset: bytes from the CFA, already scaled by the data alignment factor
	Reg    uint64 // RuleRegister
	Expr   []byte // RuleExpression, RuleValExpression: a DWARF expression
}

// CFARule says how to compute the CFA: Reg+Offset or, when IsExpr is
// set, the value of the expression Expr (DW_CFA_def_cfa_expression).
// Defined is false until the program defines it.
type CFARule struct {
	Defined bool
	IsExpr  bool
	Reg     uint64
	Offset  int64
	Expr    []byte
}

// Row is one row of the CFI table (DWARF 4 §6.4.1): the rules in effect
// from Loc to the next row.
type Row struct {
	Loc  uint64
	CFA  CFARule
	Regs [NumRegs]Rule
}

// The call frame instructions (DWARF 4 §7.23, Figure 40), and the two GNU
// ones gcc has emitted for x86.
const (
	cfaAdvanceLoc                = 0x40 // high two bits; delta in the low six
	cfaOffset                    = 0x80 // high two bits; register in the low six
	cfaRestore                   = 0xc0 // high two bits; register in the low six
	cfaNop                       = 0x00
	cfaSetLoc                    = 0x01
	cfaAdvanceLoc1               = 0x02
	cfaAdvanceLoc2               = 0x03
	cfaAdvanceLoc4               = 0x04
	cfaOffsetExtended            = 0x05
	cfaRestoreExtended           = 0x06
	cfaUndefined                 = 0x07
	cfaSameValue                 = 0x08
	cfaRegister                  = 0x09
	cfaRememberState             = 0x0a
	cfaRestoreState              = 0x0b
	cfaDefCFA                    = 0x0c
	cfaDefCFARegister            = 0x0d
	cfaDefCFAOffset              = 0x0e
	cfaDefCFAExpression          = 0x0f
	cfaExpression                = 0x10
	cfaOffsetExtendedSF          = 0x11
	cfaDefCFASF                  = 0x12
	cfaDefCFAOffsetSF            = 0x13
	cfaValOffset                 = 0x14
	cfaValOffsetSF               = 0x15
	cfaValExpression             = 0x16
	cfaGNUArgsSize               = 0x2e
	cfaGNUNegativeOffsetExtended = 0x2f
)

// maxRememberDepth bounds DW_CFA_remember_state nesting: compilers nest
// one or two deep; corrupt input must not make the stack grow with it.
const maxRememberDepth = 64

// Row returns the row in effect at pc: the CIE's initial instructions,
// then the FDE's until the location passes pc (DWARF 4 §6.4.3).
func (f *FDE) Row(pc uint64) (Row, error) {
	if !f.Contains(pc) {
		return Row{}, fmt.Errorf("%v: pc %#x is outside it", f, pc)
	}
	return f.run(pc, nil)
}

// Rows returns every row of the FDE's table, in address order. A row
// that an advance by 0 ended at once is kept: its successor has the same
// Loc and wins.
func (f *FDE) Rows() ([]Row, error) {
	var rows []Row
	if f.End <= f.Start {
		return nil, nil
	}
	last, err := f.run(f.End-1, func(r Row) { rows = append(rows, r) })
	if err != nil {
		return nil, err
	}
	return append(rows, last), nil
}

// cfaMachine runs CFA programs: the CIE's initial instructions (initial
// is nil then), then an FDE's.
type cfaMachine struct {
	f       *FDE
	row     Row
	initial *Row
	stack   []Row
	limit   uint64
	emit    func(Row)
}

func (f *FDE) run(limit uint64, emit func(Row)) (Row, error) {
	m := &cfaMachine{f: f, limit: limit, emit: emit}
	c := f.CIE
	if _, err := m.exec(c.Initial, c.initialOff); err != nil {
		return Row{}, err
	}
	initial := m.row
	m.initial = &initial
	m.stack = nil // what the CIE remembered is not the FDE's to restore
	m.row.Loc = f.Start
	if _, err := m.exec(f.Program, f.programOff); err != nil {
		return Row{}, err
	}
	return m.row, nil
}

// where names what runs, for errors: the FDE (by its range) or its CIE.
func (m *cfaMachine) where() string {
	if m.initial == nil {
		return fmt.Sprintf("CIE %s+%#x (initial instructions of the FDE at pc %#x..%#x)", m.f.CIE.Section, m.f.CIE.Offset, m.f.Start, m.f.End)
	}
	return fmt.Sprintf("FDE at pc %#x..%#x", m.f.Start, m.f.End)
}

// exec runs one program; base is its offset in the section (for
// messages). It returns done when the location passed the limit.
func (m *cfaMachine) exec(prog []byte, base uint64) (done bool, err error) {
	c := m.f.CIE
	r := reader{data: prog, order: c.order}
	for r.left() > 0 {
		at := r.off
		fail := func(format string, args ...any) error {
			return fmt.Errorf("%s in %s (%s+%#x)", fmt.Sprintf(format, args...), m.where(), c.Section, base+uint64(at))
		}
		op := r.u8()
		var adv uint64 // location delta (advance_loc*) or new location (set_loc)
		isAdv, isSet := false, false
		switch op & 0xc0 {
		case cfaAdvanceLoc:
			adv, isAdv = uint64(op&0x3f), true
		case cfaOffset:
			m.set(uint64(op&0x3f), Rule{Kind: RuleOffset, Offset: int64(r.uleb()) * c.DataAlign})
		case cfaRestore:
			if m.initial == nil {
				return false, fail("DW_CFA_restore (there are no initial rules yet)")
			}
			m.restore(uint64(op & 0x3f))
		default:
			switch op {
			case cfaNop:
			case cfaSetLoc:
				isSet = true
				adv, err = readEncoded(&r, c.FDEEncoding, m.f.programAddr+uint64(r.off), int(c.AddressSize))
				if err != nil && r.err == nil {
					return false, fail("DW_CFA_set_loc: %v", err)
				}
			case cfaAdvanceLoc1:
				adv, isAdv = uint64(r.u8()), true
			case cfaAdvanceLoc2:
				adv, isAdv = uint64(r.u16()), true
			case cfaAdvanceLoc4:
				adv, isAdv = uint64(r.u32()), true
			case cfaOffsetExtended:
				reg := r.uleb()
				m.set(reg, Rule{Kind: RuleOffset, Offset: int64(r.uleb()) * c.DataAlign})
			case cfaOffsetExtendedSF:
				reg := r.uleb()
				m.set(reg, Rule{Kind: RuleOffset, Offset: r.sleb() * c.DataAlign})
			case cfaGNUNegativeOffsetExtended:
				// Old gcc's form of a save above the CFA: the offset is
				// negated (gdb and libgcc read it so).
				reg := r.uleb()
				m.set(reg, Rule{Kind: RuleOffset, Offset: -(int64(r.uleb()) * c.DataAlign)})
			case cfaValOffset:
				reg := r.uleb()
				m.set(reg, Rule{Kind: RuleValOffset, Offset: int64(r.uleb()) * c.DataAlign})
			case cfaValOffsetSF:
				reg := r.uleb()
				m.set(reg, Rule{Kind: RuleValOffset, Offset: r.sleb() * c.DataAlign})
			case cfaRestoreExtended:
				reg := r.uleb()
				if m.initial == nil {
					return false, fail("DW_CFA_restore_extended (there are no initial rules yet)")
				}
				m.restore(reg)
			case cfaUndefined:
				m.set(r.uleb(), Rule{Kind: RuleUndefined})
			case cfaSameValue:
				m.set(r.uleb(), Rule{Kind: RuleSameValue})
			case cfaRegister:
				reg := r.uleb()
				m.set(reg, Rule{Kind: RuleRegister, Reg: r.uleb()})
			case cfaExpression, cfaValExpression:
				reg := r.uleb()
				expr := r.block()
				k := RuleExpression
				if op == cfaValExpression {
					k = RuleValExpression
				}
				m.set(reg, Rule{Kind: k, Expr: expr})
			case cfaRememberState:
				if len(m.stack) >= maxRememberDepth {
					return false, fail("DW_CFA_remember_state nested more than %d deep", maxRememberDepth)
				}
				m.stack = append(m.stack, m.row)
			case cfaRestoreState:
				// DWARF 4 §6.4.2.4 says the rules of every register are
				// pushed and popped; DWARF 5 makes explicit that the CFA
				// rule is among them, and gcc's epilogues
				// (remember_state; def_cfa_offset 8; ret; restore_state)
				// rely on it. The location is not a rule: it stays.
				if len(m.stack) == 0 {
					return false, fail("DW_CFA_restore_state with no remembered state")
				}
				loc := m.row.Loc
				m.row = m.stack[len(m.stack)-1]
				m.row.Loc = loc
				m.stack = m.stack[:len(m.stack)-1]
			case cfaDefCFA:
				reg := r.uleb()
				m.row.CFA = CFARule{Defined: true, Reg: reg, Offset: int64(r.uleb())}
			case cfaDefCFASF:
				reg := r.uleb()
				m.row.CFA = CFARule{Defined: true, Reg: reg, Offset: r.sleb() * c.DataAlign}
			case cfaDefCFARegister, cfaDefCFAOffset, cfaDefCFAOffsetSF:
				// DWARF 4 §6.4.2.2: valid only while the CFA rule is a
				// register and an offset.
				if !m.row.CFA.Defined || m.row.CFA.IsExpr {
					return false, fail("CFA op 0x%02x with no register+offset CFA rule in effect", op)
				}
				switch op {
				case cfaDefCFARegister:
					m.row.CFA.Reg = r.uleb()
				case cfaDefCFAOffset:
					m.row.CFA.Offset = int64(r.uleb())
				default:
					m.row.CFA.Offset = r.sleb() * c.DataAlign
				}
			case cfaDefCFAExpression:
				m.row.CFA = CFARule{Defined: true, IsExpr: true, Expr: r.block()}
			case cfaGNUArgsSize:
				// The size of outgoing arguments at a call site: only a
				// landing pad needs it; unwinding does not.
				r.uleb()
			default:
				return false, fail("unsupported CFA op 0x%02x", op)
			}
		}
		if r.err != nil {
			return false, fail("CFA op 0x%02x: %v", op, r.err)
		}
		if !isAdv && !isSet {
			continue
		}
		if m.initial == nil {
			// A CIE's instructions describe the state at every FDE's
			// start; a location there means nothing.
			return false, fail("CFA op 0x%02x moves the location, not allowed", op)
		}
		loc := adv
		if isAdv {
			hi, lo := bits.Mul64(adv, c.CodeAlign)
			loc = m.row.Loc + lo
			if hi != 0 || loc < m.row.Loc {
				return false, fail("advance by %#x*%d wraps the location", adv, c.CodeAlign)
			}
		} else if loc < m.row.Loc {
			return false, fail("DW_CFA_set_loc %#x moves the location back from %#x", loc, m.row.Loc)
		}
		// DWARF 4 §6.4.3: the row is found once the next location is
		// past the address.
		if loc > m.limit {
			return true, nil
		}
		if m.emit != nil {
			m.emit(m.row)
		}
		m.row.Loc = loc
	}
	return false, nil
}

// set gives a tracked register a rule; other columns are dropped.
func (m *cfaMachine) set(reg uint64, rule Rule) {
	if reg < NumRegs {
		m.row.Regs[reg] = rule
	}
}

func (m *cfaMachine) restore(reg uint64) {
	if reg < NumRegs {
		m.row.Regs[reg] = m.initial.Regs[reg]
	}
}

// block reads a ULEB128 length and that many bytes (an expression).
func (r *reader) block() []byte {
	n := r.uleb()
	b := r.take(int(min(n, uint64(r.left())+1)))
	if b == nil {
		return nil
	}
	return b[:len(b):len(b)]
}
