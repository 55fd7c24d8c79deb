package cpu

import (
	"encoding/binary"
	"unsafe"

	"vmapstack/target/x86"

	"golang.org/x/arch/x86/x86asm"
)

// The native tier, first slice: straight runs of 64-bit register-only
// integer instructions run as host code (docs/speed.md, "A native-code
// tier"). Guest and host are both x86-64, and an instruction whose
// operands are all general registers or immediates computes the same
// thing on the host once the host registers hold the guest's: so a block
// is the guest's own bytes between a prologue that loads the guest
// registers it uses from c.gpr and an epilogue that stores them back
// with RFLAGS. What may not be copied, is not: memory operands (they
// address guest memory), RSP (the host's stack), RIP-relative LEA,
// branches (a Jcc ending the block is re-encoded to leave it), and
// anything that can fault, so a block runs whole or not at all and the
// instruction count advances by its length.
//
// What the host computes that the interpreter computes otherwise: the
// flags the SDM leaves undefined. The interpreter defines them (AF=0
// after logic ops, shifts and IMUL; SF ZF PF of IMUL from the result; OF
// of a shift by more than one), and the host's values are the host
// model's (Intel and AMD differ), so a block never lets the guest see
// one: it ends before an instruction that reads a flag the host left
// undefined, and is cut back until none is left undefined at its end;
// AF, which nothing in a block reads, is set to the interpreter's 0 at
// the exit (the AF column of nativeFlagEffect).
//
// Blocks are made on the second run of a run's head (a candidate the
// links reached from something that is not one: link marks it), from the
// instructions the interpreter decoded on the first, so cold code is
// never translated and nothing is decoded twice. A block lives as long
// as its head: the head's class becomes clsNative, and a write to the
// code page drops the page and its instructions together. The host code
// is in an executable arena (native_linux_amd64.go) that is emptied, and
// every head restored, when it fills.
//
// Breakpoints, single steps, TF and watchpoints do not reach blocks:
// they run outside runLinked.

// nativeMinLen is the shortest run worth a block. The entry and exit (a
// call, the loads and stores of the registers used, RFLAGS) cost about
// what the interpreter takes for six of its fastest form, ADD r64,r64
// (BenchmarkNativeBlock, AMD EPYC: 4 adds 21 ns a loop as a block against
// 17 interpreted, 6 adds 21 against 21, 8 adds 21 against 25); the forms
// of real runs (IMUL, MOVZX, SETcc, CMOVcc) cost the interpreter more.
// With 4, 39% of a Debian boot's instructions run in blocks; with 6, 35%.
const nativeMinLen = 4

// nativeMaxLen bounds a block's guest instructions.
const nativeMaxLen = 64

// nativeMaxBlocks bounds the block table; it is emptied when full.
const nativeMaxBlocks = 1 << 16

// nativeBlock is one translated run, or a head waiting for its second
// run (code == 0).
type nativeBlock struct {
	head    *inst
	origCls uint8 // the head's class before it became clsNative
	seen    uint8 // runs of the head before translation
	failed  bool  // too short: the head has its own class again
	count   uint8 // guest instructions
	// flagsIn: the guest's arithmetic flags are loaded into RFLAGS at
	// entry (something reads one before the block writes it, or the
	// block writes only some). flagsOut: the block wrote flags, and
	// they are taken from c.native.flags at exit. clearAF: the last
	// writer of AF left it undefined (the interpreter's 0).
	flagsIn, flagsOut, clearAF bool
	// hasJcc: the block ends with a conditional branch; the host code
	// returns 1 when it is taken. fallLen and takenOff are the offsets
	// from the head's RIP of the next instruction, not taken and taken.
	hasJcc   bool
	fallLen  uint16
	takenOff int32
	code     uintptr
}

// nativeTier is a CPU's native blocks and their host code.
type nativeTier struct {
	on     bool
	arena  *execArena
	blocks []nativeBlock
	// flags is the RFLAGS image a block loads and stores: guest
	// arithmetic flags at entry and the host's RFLAGS at exit.
	flags uint64
	// Stats: blocks made, blocks run, guest instructions they ran.
	made, runs, instrs uint64
}

// SetNativeTier turns the native tier on or off (where the host has one:
// linux/amd64; elsewhere on is ignored). It is on by default there.
// Turning it off restores every block's head.
func (c *CPU) SetNativeTier(on bool) {
	c.nativeFlush()
	c.native.on = on && nativeSupported
}

// clsNative is the class of an instruction that heads a block.
const clsNative = clsEndSpecialised + 1

// NativeTier reports whether blocks are made.
func (c *CPU) NativeTier() bool { return c.native.on }

// nativeArenaSize is the executable memory for host code: a Debian boot
// makes a few thousand blocks of about 150 bytes.
const nativeArenaSize = 4 << 20

// nativeFlush drops every block and gives each head its class back.
func (c *CPU) nativeFlush() {
	t := &c.native
	for i := range t.blocks {
		if b := &t.blocks[i]; b.head != nil {
			if b.head.cls == clsNative {
				b.head.cls = b.origCls
			}
			b.head.native = 0
		}
	}
	t.blocks = t.blocks[:0]
	if t.arena != nil {
		t.arena.reset()
	}
}

// nativeMark makes in the head of a (future) block, if it can start one.
func (c *CPU) nativeMark(in *inst) {
	if !in.cached || in.native != 0 || in.cls == clsNative || in.mode != 64 || !nativeRegisterOnly(in) {
		return
	}
	t := &c.native
	if len(t.blocks) == 0 {
		t.blocks = append(t.blocks, nativeBlock{}) // index 0: none
	}
	if len(t.blocks) >= nativeMaxBlocks {
		c.nativeFlush()
		t.blocks = append(t.blocks, nativeBlock{})
	}
	in.native = uint32(len(t.blocks))
	t.blocks = append(t.blocks, nativeBlock{head: in, origCls: in.cls})
	in.cls = clsNative
}

// nativeOrigClass is the class a clsNative head stands for.
func (c *CPU) nativeOrigClass(in *inst) uint8 {
	return c.native.blocks[in.native].origCls
}

// nativeTranslate makes b's host code from the instructions cached in pg
// from page offset off on; on failure the head gets its class back.
func (c *CPU) nativeTranslate(b *nativeBlock, pg *codePage, off uint64) {
	b.seen++
	if b.seen < 2 {
		return
	}
	if pg == nil || pg.inst(off) != b.head {
		// Not from the page it was cached in (runLinked's pg is the
		// page of the instructions it links; this cannot happen).
		b.failed = true
		b.head.cls = b.origCls
		return
	}
	var run [nativeMaxLen]*inst
	n := 0
	var jcc *inst
	for o := off; n < nativeMaxLen && o < pageSize; {
		x := pg.inst(o)
		if x == nil || x.mode != 64 {
			break
		}
		if o+uint64(x.len) > pageSize {
			break
		}
		if !nativeRegisterOnly(x) || !c.nativeBytesOK(pg, o, x) {
			// A Jcc ends the block when its target is in the same
			// page (so canonical, and found in pg after the block).
			if t := int64(o) + int64(x.len) + x.imm; nativeJcc(x) && t >= 0 && t < pageSize {
				jcc = x
			}
			break
		}
		run[n] = x
		n++
		o += uint64(x.len)
	}
	plan := nativePlanFlags(run[:n], jcc)
	if plan.n < nativeMinLen {
		b.failed = true
		b.head.cls = b.origCls
		return
	}
	if plan.n < n {
		jcc = nil
	}
	if c.native.arena == nil {
		a, err := newExecArena(nativeArenaSize)
		if err != nil {
			// No executable memory here (a hardened kernel): the
			// interpreter runs everything.
			c.native.on = false
			c.nativeFlush()
			return
		}
		c.native.arena = a
	}
	code, ok := c.nativeEmit(pg, off, run[:plan.n], jcc, &plan)
	if !ok {
		// The arena is full: start again (this head included).
		c.nativeFlush()
		return
	}
	length := uint64(0)
	for _, x := range run[:plan.n] {
		length += uint64(x.len)
	}
	b.count = uint8(plan.n)
	b.flagsIn, b.flagsOut, b.clearAF = plan.flagsIn, plan.flagsOut, plan.clearAF
	b.fallLen = uint16(length)
	if jcc != nil {
		b.count++
		b.hasJcc = true
		b.fallLen += uint16(jcc.len)
		b.takenOff = int32(b.fallLen) + int32(jcc.imm)
	}
	b.code = code
	c.native.made++
}

// nativeRun runs b's host code and moves the guest's flags in and out;
// it reports whether the block's final Jcc was taken.
func (c *CPU) nativeRun(b *nativeBlock) bool {
	if b.flagsIn {
		c.native.flags = c.rflags()&arithFlags | nativeHostFlags
	}
	r := nativeCall(b.code, &c.gpr)
	if b.flagsOut {
		f := c.native.flags & arithFlags
		if b.clearAF {
			f &^= x86.FlagAF
		}
		c.flags = c.flags&^arithFlags | f
		c.lz.op = lzNone
	}
	c.native.runs++
	c.native.instrs += uint64(b.count)
	return r != 0
}

// nativeHostFlags are the RFLAGS bits a block's POPFQ keeps of the host's
// own: bit 1 and IF (which user mode cannot change anyway). DF, TF and
// AC stay clear: they would change the host's string instructions, trap,
// or make unaligned accesses fault.
const nativeHostFlags = 0x202

// nativeRegisterOnly says whether in may be copied into a block: its
// operands are general registers other than RSP, or immediates, it
// cannot fault, and it does not branch.
func nativeRegisterOnly(in *inst) bool {
	op := x86asm.Op(in.op)
	if int(op) >= len(nativeFlagEffect) || !nativeFlagEffect[op].ok {
		return false
	}
	if in.rep != 0 {
		return false
	}
	for i := 0; i < int(in.nargs); i++ {
		a := &in.args[i]
		switch a.kind {
		case argReg:
			if a.reg == RSP {
				return false
			}
		case argReg8H, argImm:
		case argMem:
			// Only LEA (no access) with GPR base and index other than RSP.
			if op != x86asm.LEA {
				return false
			}
			if in.mbase != noReg && (in.mbase >= 16 || in.mbase == RSP) {
				return false
			}
			if in.mindex != noReg && (in.mindex >= 16 || in.mindex == RSP) {
				return false
			}
		default:
			return false
		}
	}
	switch op {
	case x86asm.SHL, x86asm.SHR, x86asm.SAR, x86asm.ROL, x86asm.ROR:
		// By an immediate, on 32 or 64 bits (the 8- and 16-bit forms
		// leave CF undefined for large counts).
		if in.nargs != 2 || in.args[1].kind != argImm || in.args[0].size < 4 {
			return false
		}
	case x86asm.IMUL:
		if in.nargs < 2 {
			return false // the one-operand form writes RDX:RAX
		}
	case x86asm.BSWAP:
		if in.args[0].size < 4 {
			return false // undefined on a 16-bit register
		}
	}
	return true
}

// nativeJcc says whether in is a Jcc rel that can end a block.
func nativeJcc(in *inst) bool {
	switch x86asm.Op(in.op) {
	case x86asm.JO, x86asm.JNO, x86asm.JB, x86asm.JAE, x86asm.JE, x86asm.JNE, x86asm.JBE, x86asm.JA,
		x86asm.JS, x86asm.JNS, x86asm.JP, x86asm.JNP, x86asm.JL, x86asm.JGE, x86asm.JLE, x86asm.JG:
		return in.nargs == 1 && in.args[0].kind == argImm && in.osize != 2 // not 66h: a 16-bit IP (Intel)
	}
	return false
}

// nativeBytesOK checks the instruction's legacy prefixes: no LOCK (which
// makes a register form #UD), REP or REPNE (which may change what the
// opcode is).
func (c *CPU) nativeBytesOK(pg *codePage, off uint64, in *inst) bool {
	p := pg.pn<<12 + off
	for _, b := range c.ram[p : p+uint64(in.len)] {
		switch b {
		case 0x66, 0x67, 0x2e, 0x3e, 0x26, 0x36, 0x64, 0x65:
		case 0xf0, 0xf2, 0xf3:
			return false
		default:
			return true
		}
	}
	return true
}

// flagEffect is what an instruction does to the arithmetic flags, as far
// as a block cares: the flags it reads (conditions, carry in) and
// writes, and of those written the ones the SDM leaves undefined and the
// interpreter defines otherwise than the host may (undef); afZero when
// its AF is undefined and the interpreter's is 0.
type flagEffect struct {
	ok                   bool
	reads, writes, undef uint64
	afZero               bool
}

const (
	fCF = x86.FlagCF
	fPF = x86.FlagPF
	fAF = x86.FlagAF
	fZF = x86.FlagZF
	fSF = x86.FlagSF
	fOF = x86.FlagOF
)

// condFlags are the flags each condition code reads.
var condFlags = [8]uint64{fOF, fCF, fZF, fCF | fZF, fSF, fPF, fSF | fOF, fZF | fSF | fOF}

var nativeFlagEffect = func() (t [x86asm.XTEST + 1]flagEffect) {
	none := flagEffect{ok: true}
	for _, op := range []x86asm.Op{x86asm.MOV, x86asm.MOVZX, x86asm.MOVSX, x86asm.MOVSXD, x86asm.LEA,
		x86asm.NOT, x86asm.XCHG, x86asm.BSWAP, x86asm.CBW, x86asm.CWDE, x86asm.CDQE,
		x86asm.CWD, x86asm.CDQ, x86asm.CQO, x86asm.NOP} {
		t[op] = none
	}
	for _, op := range []x86asm.Op{x86asm.ADD, x86asm.SUB, x86asm.CMP, x86asm.NEG} {
		t[op] = flagEffect{ok: true, writes: arithFlags}
	}
	for _, op := range []x86asm.Op{x86asm.ADC, x86asm.SBB} {
		t[op] = flagEffect{ok: true, reads: fCF, writes: arithFlags}
	}
	for _, op := range []x86asm.Op{x86asm.AND, x86asm.OR, x86asm.XOR, x86asm.TEST} {
		t[op] = flagEffect{ok: true, writes: arithFlags, afZero: true}
	}
	for _, op := range []x86asm.Op{x86asm.INC, x86asm.DEC} {
		t[op] = flagEffect{ok: true, writes: arithFlags &^ fCF}
	}
	// Shifts depend on the count (nativeEffect); IMUL's SF ZF PF are
	// undefined.
	for _, op := range []x86asm.Op{x86asm.SHL, x86asm.SHR, x86asm.SAR, x86asm.ROL, x86asm.ROR} {
		t[op] = flagEffect{ok: true}
	}
	t[x86asm.IMUL] = flagEffect{ok: true, writes: arithFlags, undef: fSF | fZF | fPF, afZero: true}
	for _, op := range []x86asm.Op{x86asm.CMOVO, x86asm.CMOVNO, x86asm.CMOVB, x86asm.CMOVAE, x86asm.CMOVE, x86asm.CMOVNE, x86asm.CMOVBE, x86asm.CMOVA,
		x86asm.CMOVS, x86asm.CMOVNS, x86asm.CMOVP, x86asm.CMOVNP, x86asm.CMOVL, x86asm.CMOVGE, x86asm.CMOVLE, x86asm.CMOVG,
		x86asm.SETO, x86asm.SETNO, x86asm.SETB, x86asm.SETAE, x86asm.SETE, x86asm.SETNE, x86asm.SETBE, x86asm.SETA,
		x86asm.SETS, x86asm.SETNS, x86asm.SETP, x86asm.SETNP, x86asm.SETL, x86asm.SETGE, x86asm.SETLE, x86asm.SETG} {
		t[op] = flagEffect{ok: true, reads: condFlags[condOf[op]>>1]}
	}
	return t
}()

// nativeEffect is in's flagEffect, with a shift's by its count.
func nativeEffect(in *inst) flagEffect {
	op := x86asm.Op(in.op)
	e := nativeFlagEffect[op]
	switch op {
	case x86asm.SHL, x86asm.SHR, x86asm.SAR:
		n := uint64(in.imm) & 31
		if in.args[0].size == 8 {
			n = uint64(in.imm) & 63
		}
		switch {
		case n == 0: // no flag changes
		case n == 1:
			e.writes, e.afZero = arithFlags, true
		default: // OF is undefined for counts above 1
			e.writes, e.undef, e.afZero = arithFlags, fOF, true
		}
	case x86asm.ROL, x86asm.ROR:
		// CF and OF only; OF undefined for counts above 1.
		n := uint64(in.imm) & 31
		if in.args[0].size == 8 {
			n = uint64(in.imm) & 63
		}
		switch {
		case n == 0:
		case n == 1:
			e.writes = fCF | fOF
		default:
			e.writes, e.undef = fCF|fOF, fOF
		}
	}
	return e
}

// flagPlan is how many of a run's instructions a block takes and how it
// handles the flags.
type flagPlan struct {
	n                          int
	flagsIn, flagsOut, clearAF bool
}

// nativePlanFlags picks the longest prefix of run (and the Jcc after it,
// if the whole run fits) that never reads a flag the host left undefined
// and leaves none undefined at its end.
func nativePlanFlags(run []*inst, jcc *inst) flagPlan {
	var written, undef uint64
	readsFirst := false
	afZero := false
	best := flagPlan{}
	record := func(n int) {
		best = flagPlan{
			n:        n,
			flagsIn:  readsFirst || (written != 0 && written != arithFlags),
			flagsOut: written != 0,
			clearAF:  written&fAF != 0 && afZero,
		}
	}
	record(0)
	for i, x := range run {
		e := nativeEffect(x)
		if e.reads&undef != 0 {
			return best
		}
		if e.reads&^written != 0 {
			readsFirst = true
		}
		written |= e.writes
		undef = undef&^e.writes | e.undef
		if e.writes&fAF != 0 {
			afZero = e.afZero
		}
		if undef == 0 {
			record(i + 1)
		}
	}
	if jcc != nil && best.n == len(run) {
		r := condFlags[condOf[jcc.op]>>1]
		if r&undef == 0 && r&^written != 0 {
			best.flagsIn = true
		}
	}
	return best
}

// The host code of a block (register numbers are the guest's; the host
// register holding guest register r is r, but for the state pointer,
// which lives on the host stack):
//
//	push rdi                      ; the state: &c.gpr
//	[push qword [rdi+flags]; popfq]
//	mov r, [rdi+8*r]              ; each register used, RDI last
//	<the guest's instructions>
//	[jcc taken]
//	exit(0)
//	taken: exit(1)
//
// exit(k):
//
//	[pushfq]
//	push rax
//	mov rax, [rsp+8 or 16]        ; the state
//	mov [rax+8*r], r              ; each register used but RAX
//	pop qword [rax]               ; RAX
//	[pop qword [rax+flags]]
//	pop rcx                       ; the state
//	mov eax, k
//	ret
func (c *CPU) nativeEmit(pg *codePage, off uint64, run []*inst, jcc *inst, plan *flagPlan) (uintptr, bool) {
	// RAX is always loaded: the exit stores it from the stack.
	used := uint16(1 << RAX)
	for _, x := range run {
		used |= nativeRegsUsed(x)
	}
	flagsDisp := int32(uintptr(unsafe.Pointer(&c.native.flags)) - uintptr(unsafe.Pointer(&c.gpr)))
	var e []byte
	e = append(e, 0x57) // push rdi
	if plan.flagsIn {
		e = append(e, 0xff, 0xb7) // push qword [rdi+disp32]
		e = binary.LittleEndian.AppendUint32(e, uint32(flagsDisp))
		e = append(e, 0x9d) // popfq
	}
	for r := uint8(0); r < 16; r++ {
		if r != RDI && used&(1<<r) != 0 {
			e = nativeMovRegMem(e, r, RDI, int32(8*r), true)
		}
	}
	if used&(1<<RDI) != 0 {
		e = nativeMovRegMem(e, RDI, RDI, 8*RDI, true)
	}
	p := pg.pn<<12 + off
	for _, x := range run {
		e = append(e, c.ram[p:p+uint64(x.len)]...)
		p += uint64(x.len)
	}
	exit := func(e []byte, k byte) []byte {
		depth := int32(8)
		if plan.flagsOut {
			e = append(e, 0x9c) // pushfq
			depth = 16
		}
		e = append(e, 0x50)                           // push rax
		e = nativeMovRegMem(e, RAX, RSP, depth, true) // mov rax, [rsp+depth]
		for r := uint8(1); r < 16; r++ {
			if r != RSP && used&(1<<r) != 0 {
				e = nativeMovRegMem(e, r, RAX, int32(8*r), false)
			}
		}
		e = append(e, 0x8f, 0x00) // pop qword [rax]
		if plan.flagsOut {
			e = append(e, 0x8f, 0x80) // pop qword [rax+disp32]
			e = binary.LittleEndian.AppendUint32(e, uint32(flagsDisp))
		}
		e = append(e, 0x59)             // pop rcx
		e = append(e, 0xb8, k, 0, 0, 0) // mov eax, k
		return append(e, 0xc3)          // ret
	}
	if jcc != nil {
		var tail []byte
		tail = exit(tail, 0)
		e = append(e, 0x0f, 0x80|condOf[jcc.op]) // jcc rel32 over the not-taken exit
		e = binary.LittleEndian.AppendUint32(e, uint32(len(tail)))
		e = append(e, tail...)
		e = exit(e, 1)
	} else {
		e = exit(e, 0)
	}
	return c.native.arena.put(e)
}

// nativeMovRegMem appends MOV r64, [base+disp] (load) or MOV [base+disp],
// r64.
func nativeMovRegMem(e []byte, r, base uint8, disp int32, load bool) []byte {
	rex := byte(0x48)
	if r >= 8 {
		rex |= 4
	}
	if base >= 8 {
		rex |= 1
	}
	op := byte(0x89)
	if load {
		op = 0x8b
	}
	e = append(e, rex, op)
	modrm := (r&7)<<3 | base&7
	switch {
	case disp == 0 && base&7 != RBP:
		e = append(e, modrm)
	case disp >= -128 && disp < 128:
		e = append(e, 0x40|modrm)
	default:
		e = append(e, 0x80|modrm)
	}
	if base&7 == RSP {
		e = append(e, 0x24) // SIB: base RSP/R12, no index
	}
	switch {
	case disp == 0 && base&7 != RBP:
	case disp >= -128 && disp < 128:
		e = append(e, byte(int8(disp)))
	default:
		e = binary.LittleEndian.AppendUint32(e, uint32(disp))
	}
	return e
}

// nativeRegsUsed is the set of guest registers in reads or writes.
func nativeRegsUsed(in *inst) uint16 {
	var u uint16
	for i := 0; i < int(in.nargs); i++ {
		a := &in.args[i]
		switch a.kind {
		case argReg, argReg8H:
			u |= 1 << (a.reg & 15)
		case argMem:
			if in.mbase < 16 {
				u |= 1 << in.mbase
			}
			if in.mindex < 16 {
				u |= 1 << in.mindex
			}
		}
	}
	switch x86asm.Op(in.op) {
	case x86asm.CBW, x86asm.CWDE, x86asm.CDQE:
		u |= 1 << RAX
	case x86asm.CWD, x86asm.CDQ, x86asm.CQO:
		u |= 1<<RAX | 1<<RDX
	}
	return u
}
