package dwarfcfi

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// DWARF expression operations (DWARF 4 §7.7.1, Figure 24) that a CFI
// expression may use: §6.4.2 allows the stack operations of §2.5.1, not
// location descriptions (DW_OP_reg*, DW_OP_piece), DW_OP_call*,
// DW_OP_push_object_address or DW_OP_call_frame_cfa.
const (
	opAddr       = 0x03
	opDeref      = 0x06
	opConst1u    = 0x08
	opConst1s    = 0x09
	opConst2u    = 0x0a
	opConst2s    = 0x0b
	opConst4u    = 0x0c
	opConst4s    = 0x0d
	opConst8u    = 0x0e
	opConst8s    = 0x0f
	opConstu     = 0x10
	opConsts     = 0x11
	opDup        = 0x12
	opDrop       = 0x13
	opOver       = 0x14
	opPick       = 0x15
	opSwap       = 0x16
	opRot        = 0x17
	opAbs        = 0x19
	opAnd        = 0x1a
	opDiv        = 0x1b
	opMinus      = 0x1c
	opMod        = 0x1d
	opMul        = 0x1e
	opNeg        = 0x1f
	opNot        = 0x20
	opOr         = 0x21
	opPlus       = 0x22
	opPlusUconst = 0x23
	opShl        = 0x24
	opShr        = 0x25
	opShra       = 0x26
	opXor        = 0x27
	opBra        = 0x28
	opEq         = 0x29
	opGe         = 0x2a
	opGt         = 0x2b
	opLe         = 0x2c
	opLt         = 0x2d
	opNe         = 0x2e
	opSkip       = 0x2f
	opLit0       = 0x30
	opLit31      = 0x4f
	opBreg0      = 0x70
	opBreg31     = 0x8f
	opBregx      = 0x92
	opDerefSize  = 0x94
	opNop        = 0x96
)

// Bounds on one evaluation: expressions from compilers are a few ops
// with no loops; a corrupt one must still end, and in little memory.
const (
	maxExprSteps = 10000
	maxExprStack = 1024
)

// exprEnv is what an expression can read: the frame's registers and
// target memory.
type exprEnv struct {
	regs  *Regs
	read  func(addr uint64, buf []byte) (int, error)
	order binary.ByteOrder
}

// eval evaluates expr with initial on the stack and returns the value
// on top at the end.
func (e *exprEnv) eval(expr []byte, initial ...uint64) (uint64, error) {
	stack := append(make([]uint64, 0, 8), initial...)
	r := reader{data: expr, order: e.order}
	pop := func() uint64 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		return v
	}
	for steps := 0; r.left() > 0; steps++ {
		at := r.off
		fail := func(format string, args ...any) (uint64, error) {
			return 0, fmt.Errorf("DWARF expression % x, op at %d: %s", expr, at, fmt.Sprintf(format, args...))
		}
		if steps >= maxExprSteps {
			return fail("more than %d steps", maxExprSteps)
		}
		if len(stack) >= maxExprStack {
			return fail("stack deeper than %d", maxExprStack)
		}
		op := r.u8()
		// need is how many values op pops; checked before it runs.
		need := 0
		switch {
		case op == opDrop, op == opDup, op == opDeref, op == opDerefSize, op == opAbs, op == opNeg, op == opNot,
			op == opPlusUconst, op == opBra:
			need = 1
		case op == opOver, op == opSwap, op == opAnd, op == opDiv, op == opMinus, op == opMod, op == opMul,
			op == opOr, op == opPlus, op == opShl, op == opShr, op == opShra, op == opXor,
			op >= opEq && op <= opNe:
			need = 2
		case op == opRot:
			need = 3
		}
		if len(stack) < need {
			return fail("op 0x%02x needs %d values, the stack has %d", op, need, len(stack))
		}
		switch {
		case op >= opLit0 && op <= opLit31:
			stack = append(stack, uint64(op-opLit0))
		case op >= opBreg0 && op <= opBreg31 || op == opBregx:
			reg := uint64(op - opBreg0)
			if op == opBregx {
				reg = r.uleb()
			}
			off := r.sleb()
			v, err := e.reg(reg)
			if err != nil {
				return fail("%v", err)
			}
			stack = append(stack, v+uint64(off))
		default:
			switch op {
			case opAddr:
				stack = append(stack, r.u64())
			case opConst1u, opConst2u, opConst4u, opConst8u:
				stack = append(stack, r.uint(1<<((op-opConst1u)/2)))
			case opConst1s:
				stack = append(stack, uint64(int64(int8(r.u8()))))
			case opConst2s:
				stack = append(stack, uint64(int64(int16(r.u16()))))
			case opConst4s:
				stack = append(stack, uint64(int64(int32(r.u32()))))
			case opConst8s:
				stack = append(stack, r.u64())
			case opConstu:
				stack = append(stack, r.uleb())
			case opConsts:
				stack = append(stack, uint64(r.sleb()))
			case opDup:
				stack = append(stack, stack[len(stack)-1])
			case opDrop:
				pop()
			case opOver:
				stack = append(stack, stack[len(stack)-2])
			case opPick:
				i := uint64(r.u8())
				if i >= uint64(len(stack)) {
					return fail("DW_OP_pick %d with %d values", i, len(stack))
				}
				stack = append(stack, stack[len(stack)-1-int(i)])
			case opSwap:
				n := len(stack)
				stack[n-1], stack[n-2] = stack[n-2], stack[n-1]
			case opRot:
				n := len(stack)
				stack[n-1], stack[n-2], stack[n-3] = stack[n-2], stack[n-3], stack[n-1]
			case opDeref, opDerefSize:
				size := 8
				if op == opDerefSize {
					size = int(r.u8())
					if size < 1 || size > 8 {
						return fail("DW_OP_deref_size %d", size)
					}
				}
				addr := pop()
				v, err := readUint(e.read, e.order, addr, size)
				if err != nil {
					return 0, &readError{fmt.Errorf("DWARF expression % x, op at %d: %w", expr, at, err)}
				}
				stack = append(stack, v)
			case opAbs:
				if v := int64(stack[len(stack)-1]); v < 0 {
					stack[len(stack)-1] = uint64(-v)
				}
			case opNeg:
				stack[len(stack)-1] = -stack[len(stack)-1]
			case opNot:
				stack[len(stack)-1] = ^stack[len(stack)-1]
			case opPlusUconst:
				stack[len(stack)-1] += r.uleb()
			case opBra:
				off := int16(r.u16())
				if pop() == 0 {
					break
				}
				if err := r.jump(int(off)); err != nil {
					return fail("%v", err)
				}
			case opSkip:
				if err := r.jump(int(int16(r.u16()))); err != nil {
					return fail("%v", err)
				}
			case opNop:
			case opAnd, opDiv, opMinus, opMod, opMul, opOr, opPlus, opShl, opShr, opShra, opXor,
				opEq, opGe, opGt, opLe, opLt, opNe:
				b := pop()
				a := pop()
				v, err := binaryOp(op, a, b)
				if err != nil {
					return fail("%v", err)
				}
				stack = append(stack, v)
			default:
				return fail("unsupported DWARF op 0x%02x in a CFI expression", op)
			}
		}
		if r.err != nil {
			return fail("%v", r.err)
		}
	}
	if len(stack) == 0 {
		return 0, fmt.Errorf("DWARF expression % x leaves an empty stack", expr)
	}
	return stack[len(stack)-1], nil
}

// binaryOp applies a two-operand op to a (the deeper value) and b (the
// top). DWARF 4 §2.5.1.4: division and the relations are signed.
func binaryOp(op byte, a, b uint64) (uint64, error) {
	bool64 := func(c bool) uint64 {
		if c {
			return 1
		}
		return 0
	}
	switch op {
	case opAnd:
		return a & b, nil
	case opOr:
		return a | b, nil
	case opXor:
		return a ^ b, nil
	case opPlus:
		return a + b, nil
	case opMinus:
		return a - b, nil
	case opMul:
		return a * b, nil
	case opDiv, opMod:
		if b == 0 {
			return 0, errors.New("division by zero")
		}
		if op == opMod {
			return a % b, nil
		}
		return uint64(int64(a) / int64(b)), nil
	case opShl:
		return a << b, nil
	case opShr:
		return a >> b, nil
	case opShra:
		return uint64(int64(a) >> b), nil
	case opEq:
		return bool64(a == b), nil
	case opNe:
		return bool64(a != b), nil
	case opGe:
		return bool64(int64(a) >= int64(b)), nil
	case opGt:
		return bool64(int64(a) > int64(b)), nil
	case opLe:
		return bool64(int64(a) <= int64(b)), nil
	default: // opLt
		return bool64(int64(a) < int64(b)), nil
	}
}

// jump moves the read position by off bytes from the current one.
func (r *reader) jump(off int) error {
	to := r.off + off
	if r.err != nil || to < 0 || to > len(r.data) {
		return fmt.Errorf("branch by %d from %d leaves the expression (%d bytes)", off, r.off, len(r.data))
	}
	r.off = to
	return nil
}

// reg is a register's value in the frame.
func (e *exprEnv) reg(n uint64) (uint64, error) {
	if n >= NumRegs {
		return 0, fmt.Errorf("register %s is not tracked", RegName(n))
	}
	if !e.regs.Known(int(n)) {
		return 0, fmt.Errorf("register %s is unknown in this frame", RegName(n))
	}
	return e.regs.R[n], nil
}

// readUint reads a size-byte unsigned value from target memory.
func readUint(read func(uint64, []byte) (int, error), order binary.ByteOrder, addr uint64, size int) (uint64, error) {
	var b [8]byte
	n, err := read(addr, b[:size])
	if err == nil && n < size {
		err = fmt.Errorf("short read: %d of %d bytes", n, size)
	}
	if err != nil {
		return 0, fmt.Errorf("read %d bytes at %#x: %w", size, addr, err)
	}
	if order == binary.BigEndian {
		var v uint64
		for _, x := range b[:size] {
			v = v<<8 | uint64(x)
		}
		return v, nil
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}
