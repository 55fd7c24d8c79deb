package cpu

import (
	"encoding/binary"
	"unsafe"

	"vmapstack/target/x86"

	"golang.org/x/arch/x86/x86asm"
)

// The native tier: straight runs of 64-bit integer instructions run as
// host code (docs/speed.md, "A native-code tier"). Guest and host are
// both x86-64, and an instruction whose operands are general registers or
// immediates computes the same thing on the host once the host registers
// hold the guest's: so a block is the guest's own bytes between a
// prologue that loads the guest registers it uses from c.gpr and an
// epilogue that stores them back with the flags. An instruction with a
// memory operand is copied too, with the operand rewritten to a host
// register that holds a pointer into c.ram, found by the TLB's fast path
// as the interpreter finds it (nativeEmitAccess); where that path does
// not allow the access (a miss, a page crossing, decoded code in the
// page, a watchpoint, memory that is not RAM), the block leaves before
// the instruction, and the interpreter runs it, faults included. The
// stack operations PUSH r64, POP r64, CALL rel32 and RET are made the
// same way on the guest's RSP, which stays in c.gpr (nativeEmitStack),
// and so are ADD and SUB RSP, imm; CALL and RET end a block, which then
// leaves for the call's target or the popped address. What is not
// copied: RSP as another register operand (it is the host's stack),
// RIP-relative LEA, LOCK and REP, other branches out of the page (a Jcc
// or JMP within it is re-encoded: a JMP ends the block, a Jcc leaves it
// when taken), and anything else that can fault; so the instruction
// count advances by what ran.
//
// What the host computes that the interpreter computes otherwise: the
// flags the SDM leaves undefined. The interpreter defines them (AF=0
// after logic ops, shifts and IMUL; SF ZF PF of IMUL from the result; OF
// of a shift by more than one), and the host's values are the host
// model's (Intel and AMD differ), so a block never lets the guest see
// one: it ends before an instruction that reads a flag the host left
// undefined, and is cut back until none is left undefined at its end or
// before a memory access (where it may leave, and an exception may push
// RFLAGS); AF, which nothing in a block reads, is set to the
// interpreter's 0 at the exit (the afZero of nativeFlagEffect).
//
// Blocks are made on the nativeHotRuns-th run of a run's head (a
// candidate the links reached from something that is not one: link
// marks it), from the instructions the interpreter decoded before, so
// cold code is never translated; the bytes are decoded again as they are copied
// (nativeBytesMatch), so what was checked is what the host runs. A block
// lives as long as its head: the head's class becomes clsNative, and a
// write to the code page drops the page and releases its blocks. The
// host code is in an arena (native_linux_amd64.go) that is emptied, and
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
const nativeMinLen = 3

// nativeMaxLen bounds a block's guest instructions (and so its exits,
// numbered 2+k in a PUSH imm8, which must stay below 128).
const nativeMaxLen = 64

var _ = [1]struct{}{}[(2+nativeMaxLen)/128]

// nativeHotRuns is the run of a head on which its block is made. A
// translation costs some tens of microseconds (decoding again, the flag
// plan, the host code, a pwrite into the arena), and much of a kernel's
// boot runs once or a few times: a Debian boot made 34,781 blocks on
// their second run, 21,577 on their 16th, and took 6.15-6.48 s against
// 5.50-5.73 s with 32 (AMD EPYC, interleaved), with 8 MB less resident.
const nativeHotRuns = 32

// nativeCallBudget bounds the instructions one call into host code may
// retire, blocks chained to blocks included. The goroutine cannot be
// preempted in host code: a garbage collection's stop-the-world waits
// for it, and every other goroutine with it (the one a debugger's ^C
// arrives on too), so a guest loop of chained blocks with no timer to
// end it would hang the stub (TestNativeChainLetsGCRun). 16,384
// instructions are some 10-30 µs; the chain entry that would pass them
// returns to Go, which calls in again.
const nativeCallBudget = 1 << 14

// A call's first block is entered without the chain entry's check (Go
// checked it against Run's limit), so the budget must hold any block.
var _ = [1]struct{}{}[(nativeMaxLen+1)/nativeCallBudget]

// nativeMaxBlocks bounds the block table; it is emptied when full.
const nativeMaxBlocks = 1 << 16

// nativeBlock is one translated run, or a head waiting for its
// nativeHotRuns-th run (code == 0).
type nativeBlock struct {
	head    *inst
	page    *codePage // the head's
	origCls uint8     // the head's class before it became clsNative
	seen    uint8     // runs of the head before translation (nativeHotRuns)
	count   uint8     // guest instructions, the final Jcc included
	// ushift is c.ushift when the block was made: its memory accesses
	// use the TLB permissions of that privilege level.
	ushift uint8
	// flagsIn: the guest's arithmetic flags are loaded into RFLAGS at
	// entry (something reads one before the block writes it, or the
	// block writes only some before an exit).
	flagsIn bool
	// The exits, numbered: 0 at the end (the next instruction at
	// end.off from the head's RIP), 1 when the final Jcc is taken (at
	// takenOff), 2+i before the i-th memory access when the TLB's fast
	// path does not allow it, or after an inner Jcc taken (exits[i]).
	// The host code returns index<<8 | the exit number of the last
	// block it ran (nativeRun).
	end nativeExit
	// fall and taken are the instructions at end.off and takenOff, once
	// found in the head's code page (both die with it).
	fall, taken *inst
	hasJcc      bool // it ends in a Jcc or JMP: exit 1 can be taken
	takenOff    int32
	exits       []nativeExit
	// code is the entry from nativeCall; chain the entry from another
	// block (nativeEmit). cell is the index in c.native.cells of exit
	// 0's cell; exit k's is cell+k.
	code, chain uintptr
	cell        uint32
}

// nativeExit is what a block's exit retired: its instructions, the
// offset from the head's RIP of the next one, and the flags (flagsOut:
// the block wrote flags before it, all of them unless it loaded them at
// entry (nativeExitsWriteFlags); clearAF: the last writer of AF left it
// undefined, and the exit's record clears it, as the interpreter's 0).
// Every exit stores the guest's flags in c.native.flags. The exits
// numbered 2+i are before a memory access (the interpreter runs it) or
// after a Jcc taken. nativeAppendExitRecords writes them for the host
// code.
type nativeExit struct {
	count             uint8
	accesses          uint8 // memory accesses the block made before it
	flagsOut, clearAF bool
	taken             bool // a Jcc taken, not a memory access left to the interpreter
	// ret: the block ended with a RET, whose target its code left in
	// c.native.rip; off is not used.
	ret  bool
	off  int32
	next *inst // the instruction at off, once found in the head's page
}

// nativeTier is a CPU's native blocks and their host code.
type nativeTier struct {
	on     bool
	arena  *execArena
	blocks []nativeBlock
	free   []uint32 // released entries of blocks
	host   hostCode // nativeEmit's buffer
	// poison (tests) gives, for an instruction, flags for each block to
	// flip right after it: the ones the SDM leaves undefined, from the
	// test's own table. A plan that lets the guest see one then fails
	// TestNativeMatchesInterpreter on any host, not only on one whose
	// undefined flags differ from the interpreter's.
	poison func(*inst) uint64
	// flags is the RFLAGS image a block loads and stores: guest
	// arithmetic flags at entry and the host's RFLAGS at exit; rip is
	// the head's RIP, for RIP-relative operands, moved to the next
	// block's head by a chain (and set to the popped address by a RET).
	flags, rip uint64
	// nRun is the instructions retired by the blocks a call chained
	// from, budget what the call may retire (the chain entries check
	// it).
	nRun, budget uint64
	// cells holds, for each exit of each block (from the block's
	// cell on), where the exit goes once its instructions are
	// accounted: the block's way back to Go, or the chain entry of the
	// block after it in the same code page (nativeLink). Blocks of one
	// page are released together, so a cell never outlives the block it
	// names. Cells are taken in order, and all given back by
	// nativeFlush.
	cells     []uintptr
	cellsUsed int
	// hot overrides nativeHotRuns when not 0 (tests translate on the
	// second run).
	hot uint8
	// helpers are the TLB lookups blocks call (nativeLookupHelper), in
	// the arena; helperFull: the arena had no room for one.
	helpers    map[nativeLookupKey]uintptr
	helperFull bool
	// Stats: blocks made, blocks run, guest instructions they ran,
	// memory accesses they made, and runs that left before one the
	// TLB's fast path did not allow.
	made, runs, instrs, accesses, misses, resets uint64
	chained                                      uint64 // blocks entered from another block
}

// SetNativeTier turns the native tier on or off (where the host has one:
// linux/amd64; elsewhere on is ignored). It is on by default there.
// The decoded code is dropped with the blocks, so that heads are marked
// again as the links are made again.
func (c *CPU) SetNativeTier(on bool) {
	c.native.on = on && nativeSupported
	c.invalidateCode()
}

// nativeReset starts the tier again when its block table or arena is
// full: every block goes, and the decoded code with them, since heads
// are marked only when a link to them is made (a Debian boot never gets
// there with the sizes below).
func (c *CPU) nativeReset() {
	c.native.resets++
	c.invalidateCode()
}

// nativeGiveUp makes b's head an ordinary instruction again, for good
// (until its page is decoded again): its run is too short, or cannot be
// copied.
func (c *CPU) nativeGiveUp(b *nativeBlock) {
	i := b.head.native
	b.head.cls, b.head.native = b.origCls, nativeNoBlock
	*b = nativeBlock{}
	c.native.free = append(c.native.free, i)
}

// nativeNoBlock in inst.native: a head whose block was given up, not to
// be marked again.
const nativeNoBlock = ^uint32(0)

// clsNative is the class of an instruction that heads a block.
const clsNative = clsEndSpecialised + 1

// NativeTier reports whether blocks are made.
func (c *CPU) NativeTier() bool { return c.native.on }

// nativeArenaSize is the memory for host code, taken as it is written: a
// Debian boot makes some 20,000 blocks of 50 to 2,000 bytes.
const nativeArenaSize = 32 << 20

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
	for _, pg := range c.code {
		if pg != nil {
			pg.native = nil
		}
	}
	clear(t.blocks)
	t.blocks = t.blocks[:0]
	t.cellsUsed = 0
	clear(t.helpers)
	t.free = t.free[:0]
	if t.arena != nil {
		t.arena.reset()
	}
}

// nativeMark makes in, cached in pg, the head of a (future) block, if it
// can start one.
func (c *CPU) nativeMark(in *inst, pg *codePage) {
	if !in.cached || in.native != 0 || in.cls == clsNative || in.mode != 64 || pg == nil || !nativeCopyable(in) {
		return
	}
	t := &c.native
	if len(t.blocks) == 0 {
		t.blocks = append(t.blocks, nativeBlock{}) // index 0: none
	}
	var i uint32
	switch {
	case len(t.free) > 0:
		i = t.free[len(t.free)-1]
		t.free = t.free[:len(t.free)-1]
	case len(t.blocks) >= nativeMaxBlocks:
		c.nativeReset()
		return
	default:
		i = uint32(len(t.blocks))
		t.blocks = append(t.blocks, nativeBlock{})
	}
	t.blocks[i] = nativeBlock{head: in, page: pg, origCls: in.cls}
	in.native = i
	in.cls = clsNative
	pg.native = append(pg.native, i)
}

// nativeRelease frees the blocks headed in pg, which is being dropped
// (its host code stays in the arena until the next flush).
func (c *CPU) nativeRelease(pg *codePage) {
	t := &c.native
	for _, i := range pg.native {
		if int(i) < len(t.blocks) && t.blocks[i].page == pg {
			b := &t.blocks[i]
			b.head.cls, b.head.native = b.origCls, 0
			*b = nativeBlock{}
			t.free = append(t.free, i)
		}
	}
	pg.native = nil
}

// nativeLink chains the exit whose cell is cell to nx, the instruction
// after it in the same code page, when nx heads a translated block for
// the privilege level the blocks run at.
func (c *CPU) nativeLink(cell *uintptr, nx *inst) {
	if nx.cls != clsNative {
		return
	}
	if b := &c.native.blocks[nx.native]; b.code != 0 && b.ushift == c.ushift {
		*cell = b.chain
	}
}

// nativeCells is the size of the exits' cell table: a Debian boot's
// blocks have some 200,000 exits.
const nativeCells = 1 << 20

// nativeOrigClass is the class a clsNative head stands for.
func (c *CPU) nativeOrigClass(in *inst) uint8 {
	return c.native.blocks[in.native].origCls
}

// nativeTranslate makes b's host code from the instructions cached in pg
// from page offset off on; on failure the head gets its class back.
func (c *CPU) nativeTranslate(b *nativeBlock, pg *codePage, off uint64) {
	b.seen++
	hot := c.native.hot
	if hot == 0 {
		hot = nativeHotRuns
	}
	if b.seen < hot {
		return
	}
	if pg == nil || pg.inst(off) != b.head {
		// Not from the page it was cached in (another mode's decode
		// replaced it there).
		c.nativeGiveUp(b)
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
		// A branch stays in the block when its target is in the same
		// page (so canonical, and found in pg after the block): a Jcc
		// leaves it when taken and goes on when not, a JMP ends it.
		inPage := false
		if t := int64(o) + int64(x.len) + x.imm; nativeJcc(x) && t >= 0 && t < pageSize {
			inPage = true
		}
		if inPage && x86asm.Op(x.op) != x86asm.JMP {
			run[n] = x
			n++
			o += uint64(x.len)
			continue
		}
		if !nativeCopyable(x) || !c.nativeBytesOK(pg, o, x) || !c.nativeBytesMatch(pg, o, x) || !c.nativeRewritable(pg, o, x) {
			if inPage {
				jcc = x
			}
			break
		}
		run[n] = x
		n++
		o += uint64(x.len)
		if nativeEndsBlock(x) {
			break
		}
	}
	plan := nativePlanFlags(run[:n], jcc)
	length := plan.n // with the branch that ends it, if it fits
	if jcc != nil && plan.n == n {
		length++
	}
	if length < nativeMinLen {
		c.nativeGiveUp(b)
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
			c.SetNativeTier(false)
			return
		}
		c.native.arena = a
	}
	nexits := 2 + len(plan.exits)
	if need := c.native.cellsUsed + nexits; need > len(c.native.cells) {
		if need > nativeCells {
			c.nativeReset() // the cells are used up
			return
		}
		// The host code finds the cells through the slice in the
		// state, so they may move.
		grown := make([]uintptr, min(max(2*len(c.native.cells), 4096), nativeCells))
		copy(grown, c.native.cells[:c.native.cellsUsed])
		c.native.cells = grown
	}
	// The exits' offsets from the head.
	offs := make([]uint16, plan.n+1)
	for i, x := range run[:plan.n] {
		offs[i+1] = offs[i] + uint16(x.len)
	}
	accessesBefore := func(n int) uint8 {
		k := uint8(0)
		for _, x := range run[:n] {
			if _, acc := nativeAccess(x); acc != 0 {
				k++
			}
		}
		return k
	}
	var nb nativeBlock
	nb.ushift = c.ushift
	nb.end = plan.end
	nb.end.off = int32(offs[plan.n])
	nb.end.accesses = accessesBefore(plan.n)
	if plan.n > 0 {
		switch x := run[plan.n-1]; nativeStackOp(x) {
		case stackCall:
			nb.end.off += int32(x.imm) // its target
		case stackRet:
			nb.end.ret = true
		}
	}
	nb.exits = plan.exits
	for i := range nb.exits {
		e := &nb.exits[i]
		e.off = int32(offs[e.count])
		e.accesses = accessesBefore(int(e.count))
		if e.taken {
			e.off += int32(run[e.count-1].imm)
		}
	}
	nb.count = uint8(plan.n)
	if jcc != nil {
		nb.count++
		nb.end.count++
		nb.end.off += int32(jcc.len)
		nb.takenOff = nb.end.off + int32(jcc.imm)
		nb.hasJcc = true
	}
	// Every exit stores the guest's flags, so a chained block can load
	// them: a block that would leave somewhere before it wrote them all
	// loads them at entry (nativeExitsWriteFlags).
	plan.flagsIn = plan.flagsIn || !nativeExitsWriteFlags(&nb)
	nb.flagsIn = plan.flagsIn
	nb.cell = uint32(c.native.cellsUsed)
	host, ok := c.nativeEmit(pg, off, run[:plan.n], jcc, &plan, b.head.native, &nb)
	if !ok {
		if c.native.helperFull {
			c.native.helperFull = false
			c.nativeReset() // the arena is full
			return
		}
		c.nativeGiveUp(b)
		return
	}
	code, ok := c.native.arena.put(host.b)
	if !ok {
		c.nativeReset() // the arena is full
		return
	}
	nb.head, nb.page, nb.origCls, nb.seen = b.head, b.page, b.origCls, b.seen
	nb.chain = code
	nb.code = code + uintptr(host.entry)
	for k := range nexits {
		c.native.cells[int(nb.cell)+k] = code + uintptr(host.out)
	}
	c.native.cellsUsed += nexits
	*b = nb
	c.native.made++
}

// nativeExitsWriteFlags says whether each of b's exits leaves after the
// block wrote every arithmetic flag (so its stored flags are the guest's
// without loading them at entry).
func nativeExitsWriteFlags(b *nativeBlock) bool {
	if !b.end.flagsOut {
		return false
	}
	for _, e := range b.exits {
		if !e.flagsOut {
			return false
		}
	}
	return true
}

// nativeRun runs b's host code from the head's RIP, and the blocks it
// chains to, retiring at most budget instructions, and moves the
// guest's flags in and out; it returns the instructions retired, the
// next RIP, the last block's slot for the instruction there (nil: none),
// and the cell of the exit it left by, when that exit may be chained
// (nil: not).
func (c *CPU) nativeRun(b *nativeBlock, rip, budget uint64) (n, next uint64, slot **inst, cell *uintptr) {
	t := &c.native
	if b.flagsIn {
		t.flags = flagsPair(c.rflags())
	}
	t.rip, t.nRun, t.budget = rip, 0, budget
	r := nativeCall(b.code, &c.gpr)
	i, k := uint32(r>>8), uint8(r)
	l := &t.blocks[i]
	// The exits accounted their instructions, the next RIP and the AF
	// fix in the state, and every exit stored the guest's flags
	// (nativeExitsWriteFlags).
	n, next = t.nRun, t.rip
	switch {
	case k == nativeRefused:
		slot = &l.head
	case k == 0:
		if !l.end.ret {
			slot, cell = &l.fall, &t.cells[l.cell]
		}
	case k == 1:
		slot, cell = &l.taken, &t.cells[l.cell+1]
	default:
		x := &l.exits[k-2]
		slot = &x.next
		if x.taken {
			cell = &t.cells[l.cell+uint32(k)]
		} else {
			t.misses++
		}
	}
	if n > 0 {
		c.flags = c.flags&^arithFlags | pairFlags(t.flags)
		c.lz.op = lzNone
	}
	t.runs++
	t.instrs += n
	return n, next, slot, cell
}

// A block moves the arithmetic flags in and out of RFLAGS as LAHF and
// SETO leave them, and as ADD AL,7FH and SAHF take them back: SF ZF AF
// PF CF in bits 8-15 (AH) and OF in bit 0 (AL). POPFQ and PUSHFQ would
// do it in one instruction, but POPFQ is microcoded and took a block
// with one memory access 50 ns longer (AMD EPYC), and it could set the
// host's TF, DF or AC from a wrong image.
func flagsPair(rflags uint64) uint64 {
	return (rflags&0xff)<<8 | rflags>>11&1
}

func pairFlags(pair uint64) uint64 {
	return pair>>8&(fSF|fZF|fAF|fPF|fCF) | (pair&1)<<11
}

// Host code that saves the flags to AX, and restores them from it.
var (
	saveFlagsAX    = []byte{0x9f, 0x0f, 0x90, 0xc0} // lahf; seto al
	restoreFlagsAX = []byte{0x04, 0x7f, 0x9e}       // add al, 7fh (OF); sahf
)

// nativeCopyable says whether in may be copied into a block.
func nativeCopyable(in *inst) bool {
	ok, _ := nativeAccess(in)
	return ok
}

// nativeAccess says whether in may be copied into a block, and with
// which access to guest memory (0 for none, accRead, or accWrite for a
// store or a read-modify-write): its operands are general registers
// other than RSP, immediates, or one memory operand through a general
// base and index (RSP included: the guest's, read from c.gpr) or RIP; it
// does not branch, and it cannot fault but for its memory access, which
// leaves the block (nativeEmitAccess) unless the TLB's fast path allows
// it.
func nativeAccess(in *inst) (ok bool, acc uint8) {
	op := x86asm.Op(in.op)
	if int(op) >= len(nativeFlagEffect) || !nativeFlagEffect[op].ok {
		return false, 0
	}
	if in.rep != 0 {
		return false, 0
	}
	switch op {
	case x86asm.PUSH, x86asm.POP, x86asm.CALL, x86asm.RET:
		k := nativeStackOp(in)
		if k == stackNone {
			return false, 0
		}
		if _, ok := nativeScratch(in); !ok {
			return false, 0
		}
		if k == stackPop || k == stackRet {
			return true, accRead
		}
		return true, accWrite
	}
	if nativeRSPAdjust(in) {
		return true, 0
	}
	for i := 0; i < int(in.nargs); i++ {
		a := &in.args[i]
		switch a.kind {
		case argReg:
			if a.reg == RSP {
				return false, 0
			}
		case argReg8H, argImm:
		case argMem:
			if op == x86asm.NOP {
				continue // 0F 1F /0: never accessed, copied as it is
			}
			if in.mindex != noReg && in.mindex >= 16 {
				return false, 0
			}
			if op == x86asm.LEA {
				// No access; copied as it is, so with GPR base and
				// index other than RSP.
				if in.mbase != noReg && (in.mbase >= 16 || in.mbase == RSP) || in.mindex == RSP {
					return false, 0
				}
				continue
			}
			if !nativeMemOps[op] || in.mbase == absReg || in.asize != 8 && in.asize != 4 {
				return false, 0
			}
			switch in.msize {
			case 1, 2, 4, 8:
			default:
				return false, 0
			}
			switch {
			case i > 0, op == x86asm.CMP, op == x86asm.TEST:
				acc = accRead
			default: // a store, or read-modify-write
				acc = accWrite
			}
		default:
			return false, 0
		}
	}
	switch op {
	case x86asm.SHL, x86asm.SHR, x86asm.SAR, x86asm.ROL, x86asm.ROR:
		// By an immediate, on 32 or 64 bits (the 8- and 16-bit forms
		// leave CF undefined for large counts).
		if in.nargs != 2 || in.args[1].kind != argImm || in.args[0].size < 4 || acc != 0 {
			return false, 0
		}
	case x86asm.IMUL:
		if in.nargs < 2 {
			return false, 0 // the one-operand form writes RDX:RAX
		}
	case x86asm.BSWAP:
		if in.args[0].size < 4 {
			return false, 0 // undefined on a 16-bit register
		}
	}
	if acc != 0 {
		if _, ok := nativeScratch(in); !ok {
			return false, 0
		}
	}
	return true, acc
}

// The stack operations a block runs (nativeEmitStack), each with one
// 8-byte access at RSP-8 (a push) or RSP (a pop), after which RSP moves
// by 8. CALL and RET end a block: CALL at its target, RET at the address
// it pops.
const (
	stackNone = iota
	stackPush // PUSH r64
	stackPop  // POP r64
	stackCall // CALL rel32
	stackRet  // RET (C3)
)

// nativeStackOp is in's stack operation, if a block runs it: the 64-bit
// forms only (66h makes them 16-bit: inst.stackSize), and not PUSH or POP
// of RSP, whose value is the host's stack in a block.
func nativeStackOp(in *inst) uint8 {
	if in.mode != 64 || in.stackSize() != 8 || in.rep != 0 {
		return stackNone
	}
	a := &in.args[0]
	switch x86asm.Op(in.op) {
	case x86asm.PUSH, x86asm.POP:
		if in.nargs != 1 || a.kind != argReg || a.size != 8 || a.reg >= 16 || a.reg == RSP {
			return stackNone
		}
		if x86asm.Op(in.op) == x86asm.PUSH {
			return stackPush
		}
		return stackPop
	case x86asm.CALL:
		if in.nargs == 1 && a.kind == argImm {
			return stackCall
		}
	case x86asm.RET:
		if in.nargs == 0 {
			return stackRet
		}
	}
	return stackNone
}

// nativeEndsBlock says whether a block ends after in: CALL and RET, whose
// next instruction is elsewhere.
func nativeEndsBlock(in *inst) bool {
	k := nativeStackOp(in)
	return k == stackCall || k == stackRet
}

// nativeRSPAdjust says whether in is ADD or SUB RSP, imm: a block runs it
// on the guest's RSP in the state (nativeEmit), with the same flags.
func nativeRSPAdjust(in *inst) bool {
	op := x86asm.Op(in.op)
	return (op == x86asm.ADD || op == x86asm.SUB) && in.nargs == 2 && in.rep == 0 &&
		in.args[0].kind == argReg && in.args[0].reg == RSP && in.args[0].size == 8 &&
		in.args[1].kind == argImm && in.imm == int64(int32(in.imm))
}

// nativeMemOps are the operations a block runs with a memory operand: the
// loads, stores and ALU forms of ordinary code. Not LOCK (refused by
// nativeBytesOK), XCHG (locked), CMOVcc (reads even when false), shifts.
var nativeMemOps = func() (t [x86asm.XTEST + 1]bool) {
	for _, op := range []x86asm.Op{x86asm.MOV, x86asm.MOVZX, x86asm.MOVSX, x86asm.MOVSXD,
		x86asm.ADD, x86asm.OR, x86asm.ADC, x86asm.SBB, x86asm.AND, x86asm.SUB, x86asm.XOR, x86asm.CMP, x86asm.TEST,
		x86asm.INC, x86asm.DEC, x86asm.NEG, x86asm.NOT, x86asm.IMUL} {
		t[op] = true
	}
	return t
}()

// nativeJcc says whether in is a Jcc rel or JMP rel that can end a
// block.
func nativeJcc(in *inst) bool {
	switch x86asm.Op(in.op) {
	case x86asm.JMP, x86asm.JO, x86asm.JNO, x86asm.JB, x86asm.JAE, x86asm.JE, x86asm.JNE, x86asm.JBE, x86asm.JA,
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

// nativeRewritable checks, for an instruction with a memory access, what
// nativeEmitAccess will need: a rewrite of its memory operand that
// decodes as it should (not MOV's moffs forms, which have no ModRM), and
// a RIP-relative displacement that still fits in 32 bits from the head.
func (c *CPU) nativeRewritable(pg *codePage, off uint64, x *inst) bool {
	if _, acc := nativeAccess(x); acc == 0 {
		return true
	}
	switch nativeStackOp(x) {
	case stackNone:
	case stackCall:
		// The target's offset from the head, whatever the head's
		// offset in the page, in 32 bits (nativeExit.off).
		t := int64(off) + int64(x.len) + x.imm
		return t > -1<<31+pageSize && t < 1<<31-pageSize
	default:
		return true // made by nativeEmitStack, not rewritten
	}
	sr, ok := nativeScratch(x)
	if !ok {
		return false
	}
	p := pg.pn<<12 + off
	raw := c.ram[p : p+uint64(x.len)]
	rw, ok := nativeRewriteMem(raw, sr.s)
	if !ok || !nativeRewriteOK(raw, rw, sr.s) {
		return false
	}
	if x.mbase == ripReg {
		d := int64(x.disp) + int64(off) + int64(x.len) // at most the page's size more than disp
		if d != int64(int32(d)) {
			return false
		}
	}
	return true
}

// nativeBytesMatch decodes the bytes a block would copy again and
// requires that they are the instruction x: what was checked is what the
// host runs, even if RAM changed under a cached decode without dropping
// it (the page walk's A and D updates write RAM directly), and hint NOPs
// (0F 19-1E, which x86asm refuses and hintNOP accepts) are never copied:
// some hosts give 66 0F 1A/1B a meaning (MPX).
func (c *CPU) nativeBytesMatch(pg *codePage, off uint64, x *inst) bool {
	p := pg.pn<<12 + off
	raw := c.ram[p : p+uint64(x.len)]
	xi, err := x86asm.Decode(raw, 64)
	if err != nil || xi.Op == 0 || xi.Len != len(raw) {
		return false
	}
	var y inst
	if !c.convert(&xi, &y) {
		return false
	}
	return y.op == x.op && y.len == x.len && y.nargs == x.nargs && y.args == x.args &&
		y.osize == x.osize && y.asize == x.asize && y.msize == x.msize && y.rep == x.rep &&
		y.segovr == x.segovr && y.mbase == x.mbase && y.mindex == x.mindex && y.mshift == x.mshift &&
		y.mseg == x.mseg && y.disp == x.disp && y.imm == x.imm
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
	fixOF                bool // a shift or rotate by more than 1: nativeFixOF follows it
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
	// The forms nativeStackOp accepts; the others nativeAccess refuses.
	for _, op := range []x86asm.Op{x86asm.PUSH, x86asm.POP, x86asm.CALL, x86asm.RET} {
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
		default:
			// OF is undefined for counts above 1: nativeFixOF sets
			// the interpreter's.
			e.writes, e.afZero, e.fixOF = arithFlags, true, true
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
			e.writes, e.fixOF = fCF|fOF, true
		}
	}
	return e
}

// flagPlan is how many of a run's instructions a block takes and how it
// handles the flags: at entry, at the end, and at the exit before each
// memory access (exits, in order).
type flagPlan struct {
	n       int
	flagsIn bool
	end     nativeExit
	exits   []nativeExit
}

// nativePlanFlags picks the longest prefix of run (and the Jcc after it,
// if the whole run fits) that never reads a flag the host left undefined
// and leaves none undefined at its end or at an exit before a memory
// access (where the interpreter goes on, and an exception may push
// RFLAGS).
func nativePlanFlags(run []*inst, jcc *inst) flagPlan {
	var written, undef uint64
	readsFirst, partial, afZero := false, false, false
	// exits grows by appends: a plan recorded earlier holds a shorter
	// prefix, whose elements later appends do not change.
	var exits []nativeExit
	best := flagPlan{}
	// What the block did not write at an exit that stores flags must
	// come in at entry.
	partialNow := func() bool { return written != 0 && written != arithFlags }
	at := func(n int) nativeExit {
		return nativeExit{count: uint8(n), flagsOut: written != 0, clearAF: written&fAF != 0 && afZero}
	}
	record := func(n int) {
		best = flagPlan{n: n, flagsIn: readsFirst || partial || partialNow(), end: at(n), exits: exits}
	}
	record(0)
	for i, x := range run {
		if nativeJcc(x) {
			// A Jcc the block goes on past: taken, it leaves, and the
			// guest may look at the flags there.
			r := condFlags[condOf[x.op]>>1]
			if undef != 0 {
				return best
			}
			if r&^written != 0 {
				readsFirst = true
			}
			e := at(i + 1)
			e.taken = true
			exits = append(exits, e)
			partial = partial || partialNow()
			record(i + 1)
			continue
		}
		if _, acc := nativeAccess(x); acc != 0 {
			if undef != 0 {
				return best
			}
			exits = append(exits, at(i))
			partial = partial || partialNow()
		}
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
		if x86asm.Op(jcc.op) == x86asm.JMP {
			r = 0
		}
		if r&^written != 0 {
			best.flagsIn = true
		}
	}
	return best
}

// The host code of a block (register numbers are the guest's; the host
// register holding guest register r is r, but for the state pointer,
// which lives on the host stack, and RSP, which stays the host's):
//
//	chain:                        ; from another block's exit, RCX the state
//	mov rdx, [rcx+nRun]
//	add rdx, count                ; no room for the block in the budget,
//	cmp rdx, [rcx+budget]         ; or a stop requested: back to Go
//	ja refuse
//	cmp dword [rcx+stop], 0
//	jne refuse
//	inc qword [rcx+chained]
//	mov rdi, rcx
//	entry:                        ; from nativeCall, RDI the state: &c.gpr
//	push rdi
//	[mov rax, [rdi+flags]; add al, 7fh; sahf]
//	mov r, [rdi+8*r]              ; each register used, RDI last
//	<the guest's instructions; each memory access as nativeEmitAccess>
//	[jcc taken]
//	push 0; jmp exit
//	taken: push 1; jmp exit
//	miss k: <undo the access's pushes>; push 2+k; jmp exit
//	exit:
//	push rax
//	lahf; seto al
//	push rax
//	mov rax, [rsp+24]             ; the state
//	mov [rax+8*r], r              ; each register used but RAX
//	pop qword [rax+flags]
//	pop qword [rax]               ; RAX
//	pop rax                       ; the exit number
//	pop rcx                       ; the state
//	<the exit accounted from its record, and a jump through its cell:
//	to the next block's chain entry, or to out (nativeEmitExitDispatch)>
//	out:
//	or eax, index<<8
//	ret
//	refuse:
//	mov eax, index<<8 | nativeRefused
//	ret
func (c *CPU) nativeEmit(pg *codePage, off uint64, run []*inst, jcc *inst, plan *flagPlan, index uint32, nb *nativeBlock) (nativeHost, bool) {
	d := c.nativeDisps()
	// RAX is always loaded: the exit stores it from the stack.
	used := uint16(1 << RAX)
	scratch := make([]nativeScratchRegs, len(run))
	for i, x := range run {
		used |= nativeRegsUsed(x)
		if _, acc := nativeAccess(x); acc != 0 {
			sr, _ := nativeScratch(x)
			scratch[i] = sr
			used |= 1<<sr.s | 1<<sr.t | 1<<sr.u
		}
	}
	used &^= 1 << RSP
	// The buffer is the tier's, reused: a boot translates some 24,000
	// blocks, and their buffers were most of its garbage, which with
	// the guest's RAM in the heap is not collected before it is as
	// large again.
	h := &c.native.host
	h.b, h.fixups = h.b[:0], h.fixups[:0]
	h.load(RDX, RCX, d.nRun)
	h.imm(true, 0, RDX, int32(nb.count))
	h.opMem64(0x3b, RDX, RCX, d.budget) // cmp rdx, [rcx+budget]
	h.jcc(ccA, labelRefuse)
	h.b = append(h.b, 0x83) // cmp dword [rcx+stop], 0
	h.mem(7, RCX, d.stop)
	h.b = append(h.b, 0)
	h.jcc(ccNE, labelRefuse)
	h.rex(true, 0, 0, RCX, false) // inc qword [rcx+chained]
	h.b = append(h.b, 0xff)
	h.mem(0, RCX, d.chained)
	h.op64(0x89, RDI, RCX) // mov rdi, rcx
	entry := len(h.b)
	h.push(RDI)
	if plan.flagsIn {
		h.load(RAX, RDI, d.flags)
		h.b = append(h.b, restoreFlagsAX...)
	}
	for r := uint8(0); r < 16; r++ {
		if r != RDI && used&(1<<r) != 0 {
			h.load(r, RDI, int32(8*r))
		}
	}
	if used&(1<<RDI) != 0 {
		h.load(RDI, RDI, 8*RDI)
	}
	// stubs are the exits 2+k: a memory access left to the
	// interpreter (its scratch registers to restore), or a Jcc taken.
	type stub struct {
		taken bool
		sr    nativeScratchRegs
	}
	var stubs []stub
	p := pg.pn<<12 + off
	o := uint64(0)
	for i, x := range run {
		raw := c.ram[p+o : p+o+uint64(x.len)]
		o += uint64(x.len)
		if nativeJcc(x) {
			h.jcc(condOf[x.op], labelMiss+len(stubs))
			stubs = append(stubs, stub{taken: true})
			continue
		}
		if k := nativeStackOp(x); k != stackNone {
			if !c.nativeEmitStack(h, &d, x, k, scratch[i], int32(o), labelMiss+len(stubs)) {
				return nativeHost{}, false
			}
			stubs = append(stubs, stub{sr: scratch[i]})
		} else if _, acc := nativeAccess(x); acc != 0 {
			if !c.nativeEmitAccess(h, &d, x, raw, acc, scratch[i], int32(o), labelMiss+len(stubs)) {
				return nativeHost{}, false
			}
			stubs = append(stubs, stub{sr: scratch[i]})
		} else if nativeRSPAdjust(x) {
			// ADD or SUB qword [state+8*RSP], imm32: the flags of
			// ADD or SUB RSP, imm.
			ext := uint8(0)
			if x86asm.Op(x.op) == x86asm.SUB {
				ext = 5
			}
			h.push(RAX)
			h.load(RAX, RSP, 8)
			h.rex(true, 0, 0, RAX, false)
			h.b = append(h.b, 0x81)
			h.mem(ext, RAX, 8*RSP)
			h.b = binary.LittleEndian.AppendUint32(h.b, uint32(int32(x.imm)))
			h.pop(RAX)
		} else {
			h.b = append(h.b, raw...)
		}
		if c.native.poison != nil {
			if m := c.native.poison(x); m != 0 {
				h.b = append(h.b, 0x9c, 0x48, 0x81, 0x34, 0x24) // pushfq; xor qword [rsp], m
				h.b = binary.LittleEndian.AppendUint32(h.b, uint32(m))
				h.b = append(h.b, 0x9d) // popfq
			}
		}
		if nativeEffect(x).fixOF {
			nativeFixOF(h, x)
		}
	}
	labels := make([]int, labelMiss+len(stubs))
	if jcc != nil {
		if x86asm.Op(jcc.op) == x86asm.JMP {
			h.jmp(labelTaken)
		} else {
			h.jcc(condOf[jcc.op], labelTaken)
		}
	}
	h.b = append(h.b, 0x6a, 0) // push 0
	h.jmp(labelExit)
	labels[labelTaken] = len(h.b)
	h.b = append(h.b, 0x6a, 1) // push 1
	h.jmp(labelExit)
	for k, st := range stubs {
		labels[labelMiss+k] = len(h.b)
		if !st.taken {
			h.pop(RAX)
			h.b = append(h.b, restoreFlagsAX...)
			h.pop(st.sr.u)
			h.pop(st.sr.t)
			h.pop(st.sr.s)
		}
		h.b = append(h.b, 0x6a, byte(2+k)) // push 2+k
		h.jmp(labelExit)
	}
	labels[labelExit] = len(h.b)
	h.push(RAX)
	h.b = append(h.b, saveFlagsAX...)
	h.push(RAX)
	h.load(RAX, RSP, 24)
	for r := uint8(1); r < 16; r++ {
		if r != RSP && used&(1<<r) != 0 {
			h.store(RAX, int32(8*r), r)
		}
	}
	h.b = append(h.b, 0x8f, 0x80) // pop qword [rax+disp32]: the flags
	h.b = binary.LittleEndian.AppendUint32(h.b, uint32(d.flags))
	h.b = append(h.b, 0x8f, 0x00) // pop qword [rax]: RAX
	h.b = append(h.b, 0x58, 0x59) // pop rax; pop rcx
	c.nativeEmitExitDispatch(h, &d, labels)
	out := len(h.b)
	h.b = append(h.b, 0x0d) // or eax, index<<8
	h.b = binary.LittleEndian.AppendUint32(h.b, index<<8)
	h.b = append(h.b, 0xc3)
	labels[labelRefuse] = len(h.b)
	h.b = append(h.b, 0xb8) // mov eax, index<<8 | nativeRefused
	h.b = binary.LittleEndian.AppendUint32(h.b, index<<8|nativeRefused)
	h.b = append(h.b, 0xc3)
	for len(h.b)%16 != 0 {
		h.b = append(h.b, 0xcc)
	}
	labels[labelRecords] = len(h.b)
	h.b = nativeAppendExitRecords(h.b, nb)
	h.resolve(labels)
	return nativeHost{b: h.b, entry: entry, out: out}, true
}

// The labels of a block's host code (nativeEmit).
const (
	labelExit    = iota
	labelTaken   // exit 1
	labelRefuse  // a chain entry that does not enter
	labelRecords // the exits' records (nativeAppendExitRecords)
	labelMiss    // + k: exit 2+k
)

// nativeHost is a block's host code, entered at entry from nativeCall
// and at 0 from another block (nativeEmitExitDispatch); out is the way
// back to Go, where the exits' cells point until they are linked.
type nativeHost struct {
	b          []byte
	entry, out int
}

// nativeRefused is the exit number of a block that was chained to but
// did not run (its instructions would pass the budget, or a stop was
// requested): the guest is at its head.
const nativeRefused = 0xff

// nativeEmitExitDispatch appends, after the exit's stores (RAX the exit
// number k, RCX the state), the accounting of exit k from its record
// (nativeAppendExitRecords): the instructions it retired, the next RIP
// (as an offset from the head's RIP; a RET put its address there
// already), the accesses and the AF fix; and the jump through its cell
// in c.native.cells, to the way back to Go or to the next block's chain
// entry (nativeLink).
//
//	mov edx, eax
//	shl edx, 4
//	lea r8, [rip+records]
//	add rdx, r8                   ; the record
//	movsxd r8, dword [rdx]        ; off
//	add [rcx+rip], r8
//	movzx r8d, byte [rdx+4]       ; count
//	add [rcx+nRun], r8
//	movzx r8d, byte [rdx+5]       ; accesses
//	add [rcx+accesses], r8
//	movsxd r8, dword [rdx+12]     ; AF mask
//	and [rcx+flags], r8
//	mov r8d, [rdx+8]              ; the cell
//	mov rdx, [rcx+cells]
//	jmp [rdx+r8*8]
func (c *CPU) nativeEmitExitDispatch(h *hostCode, d *nativeDisps, labels []int) {
	h.b = append(h.b, 0x89, 0xc2)       // mov edx, eax
	h.b = append(h.b, 0xc1, 0xe2, 0x04) // shl edx, 4
	h.b = append(h.b, 0x4c, 0x8d, 0x05) // lea r8, [rip+records]
	h.fixups = append(h.fixups, hostFixup{at: len(h.b), label: labelRecords})
	h.b = append(h.b, 0, 0, 0, 0)
	h.op64(0x01, RDX, R8)               // add rdx, r8
	h.b = append(h.b, 0x4c, 0x63, 0x02) // movsxd r8, dword [rdx]
	h.rex(true, R8, 0, RCX, false)      // add [rcx+rip], r8
	h.b = append(h.b, 0x01)
	h.mem(R8, RCX, d.rip)
	h.b = append(h.b, 0x44, 0x0f, 0xb6, 0x42, 0x04) // movzx r8d, byte [rdx+4]
	h.rex(true, R8, 0, RCX, false)                  // add [rcx+nRun], r8
	h.b = append(h.b, 0x01)
	h.mem(R8, RCX, d.nRun)
	h.b = append(h.b, 0x44, 0x0f, 0xb6, 0x42, 0x05) // movzx r8d, byte [rdx+5]
	h.rex(true, R8, 0, RCX, false)                  // add [rcx+accesses], r8
	h.b = append(h.b, 0x01)
	h.mem(R8, RCX, d.accesses)
	// The AF fix is a qword AND: a byte store into the flags just
	// stored, loaded whole by the next block, would not be forwarded.
	h.b = append(h.b, 0x4c, 0x63, 0x42, 0x0c) // movsxd r8, dword [rdx+12]
	h.rex(true, R8, 0, RCX, false)            // and [rcx+flags], r8
	h.b = append(h.b, 0x21)
	h.mem(R8, RCX, d.flags)
	h.b = append(h.b, 0x44, 0x8b, 0x42, 0x08) // mov r8d, [rdx+8]
	h.load(RDX, RCX, d.cells)
	h.b = append(h.b, 0x42, 0xff, 0x24, 0xc2) // jmp [rdx+r8*8]
}

// nativeAppendExitRecords appends a block's exit records, 16 bytes each,
// exit k's at 16*k: the offset of the next RIP from the head's (int32; 0
// for a RET's end), the instructions retired and the memory accesses
// made (a byte each, two bytes of padding), the index of its cell, and
// the mask the flags' pair (flagsPair) is ANDed with, sign-extended: AF
// cleared where the block's last writer of AF left it undefined.
func nativeAppendExitRecords(b []byte, nb *nativeBlock) []byte {
	rec := func(x *nativeExit, off int32, k int) {
		b = binary.LittleEndian.AppendUint32(b, uint32(off))
		b = append(b, x.count, x.accesses, 0, 0)
		b = binary.LittleEndian.AppendUint32(b, nb.cell+uint32(k))
		mask := ^uint32(0)
		if x.flagsOut && x.clearAF {
			mask = ^uint32(flagsPair(fAF))
		}
		b = binary.LittleEndian.AppendUint32(b, mask)
	}
	end := nb.end.off
	if nb.end.ret {
		end = 0
	}
	rec(&nb.end, end, 0)
	rec(&nb.end, nb.takenOff, 1)
	for i := range nb.exits {
		rec(&nb.exits[i], nb.exits[i].off, 2+i)
	}
	return b
}

// nativeFixOF appends, after a shift or rotate of a register by more than
// 1, the code that sets OF to what the interpreter gives it (shift.go: as
// for a count of 1, from the result and CF; 0 for SAR), leaving the other
// flags as the instruction left them:
//
//	push rax
//	lahf                 ; AH: SF ZF AF PF CF
//	<OF into AL, from r (or [rsp] when r is RAX) and CF in AH>
//	add al, 7fh          ; OF
//	sahf
//	pop rax
func nativeFixOF(h *hostCode, in *inst) {
	r := in.args[0].reg & 15
	w := 8 * in.args[0].size
	n := uint8(in.imm) & (w - 1)
	bt := func(k uint8) { // CF = bit k of the result
		if r == RAX {
			h.b = append(h.b, 0x48, 0x0f, 0xba, 0x24, 0x24, k) // bt qword [rsp], k
			return
		}
		h.rex(true, 0, 0, r, false)
		h.b = append(h.b, 0x0f, 0xba, 0xe0|r&7, k) // bt r, k
	}
	setcAL := []byte{0x0f, 0x92, 0xc0}
	xorALAHbit0 := []byte{0x30, 0xe0, 0x24, 0x01} // xor al, ah; and al, 1
	h.b = append(h.b, 0x50, 0x9f)                 // push rax; lahf
	switch x86asm.Op(in.op) {
	case x86asm.SHR: // the original's MSB, now bit w-1-n
		bt(w - 1 - n)
		h.b = append(h.b, setcAL...)
	case x86asm.SAR:
		h.b = append(h.b, 0xb0, 0x00) // mov al, 0
	case x86asm.SHL, x86asm.ROL: // MSB xor CF
		bt(w - 1)
		h.b = append(h.b, setcAL...)
		h.b = append(h.b, xorALAHbit0...)
	case x86asm.ROR: // MSB xor the bit below it
		bt(w - 1)
		h.b = append(h.b, setcAL...)
		bt(w - 2)
		h.b = append(h.b, 0x14, 0x00, 0x24, 0x01) // adc al, 0; and al, 1
	}
	h.b = append(h.b, restoreFlagsAX...)
	h.b = append(h.b, 0x58) // pop rax
}

// nativeDisps are the offsets from &c.gpr (the state pointer of a block)
// of what its code reads and writes.
type nativeDisps struct {
	flags, rip, segBase, tlb, code, ram          int32
	nRun, budget, cells, stop, chained, accesses int32
}

func (c *CPU) nativeDisps() nativeDisps {
	base := uintptr(unsafe.Pointer(&c.gpr))
	disp := func(p unsafe.Pointer) int32 { return int32(uintptr(p) - base) }
	return nativeDisps{
		flags:    disp(unsafe.Pointer(&c.native.flags)),
		rip:      disp(unsafe.Pointer(&c.native.rip)),
		segBase:  disp(unsafe.Pointer(&c.segBase)),
		tlb:      disp(unsafe.Pointer(&c.tlb)),
		code:     disp(unsafe.Pointer(&c.code)), // the slice's data pointer
		ram:      disp(unsafe.Pointer(&c.ram)),
		nRun:     disp(unsafe.Pointer(&c.native.nRun)),
		budget:   disp(unsafe.Pointer(&c.native.budget)),
		cells:    disp(unsafe.Pointer(&c.native.cells)), // the slice's data pointer
		stop:     disp(unsafe.Pointer(&c.stop)),
		chained:  disp(unsafe.Pointer(&c.native.chained)),
		accesses: disp(unsafe.Pointer(&c.native.accesses)),
	}
}

// The TLB lookup multiplies the index by 24, the size of a tlbEntry.
var _ = [1]struct{}{}[unsafe.Sizeof(tlbEntry{})-24]

// nativeScratchRegs are the three registers a memory access in a block
// borrows (saved on the host stack around it): s holds the address, and
// is not one the instruction uses; t is any other, u is RAX (LAHF and
// SETO save the flags in AX).
type nativeScratchRegs struct{ s, t, u uint8 }

// nativeScratch picks them for in. s is never RSP, RBP, R12 or R13, so
// [s] needs no SIB or displacement; it is below R8 when in names AH..BH
// (whose encoding a REX prefix would change).
func nativeScratch(in *inst) (nativeScratchRegs, bool) {
	busy := nativeRegsUsed(in) | 1<<RSP
	high := false
	for i := 0; i < int(in.nargs); i++ {
		if in.args[i].kind == argReg8H {
			high = true
		}
	}
	var sr nativeScratchRegs
	found := false
	for _, r := range []uint8{RBX, RSI, RDI, RCX, RDX, R8, R9, R10, R11, R14, R15} {
		if busy&(1<<r) == 0 && (!high || r < 8) {
			sr.s, found = r, true
			break
		}
	}
	if !found {
		return sr, false
	}
	sr.t, sr.u = RCX, RAX
	if sr.s == RCX {
		sr.t = RDX
	}
	return sr, true
}

// nativeEmitAccess appends in, whose memory operand is accessed with acc,
// as host code: the guest's linear address computed into s, looked up in
// the TLB as the interpreter's fast path does (tag, the fast permission
// for this privilege level, no page crossing, and for a write no decoded
// code in the page), turned into a pointer into c.ram, and in executed
// with its memory operand rewritten to [s]. Anything else jumps to label
// miss, which leaves the block before in with the guest's registers and
// flags as they were. next is the offset from the head's RIP of the
// instruction after in (RIP-relative operands).
func (c *CPU) nativeEmitAccess(h *hostCode, d *nativeDisps, in *inst, raw []byte, acc uint8, sr nativeScratchRegs, next int32, miss int) bool {
	rewritten, ok := nativeRewriteMem(raw, sr.s)
	if !ok || !nativeRewriteOK(raw, rewritten, sr.s) {
		return false
	}
	s, t, u := sr.s, sr.t, sr.u // u is RAX
	h.push(s)
	h.push(t)
	h.push(u)
	// The address, with MOV and LEA only: the guest's flags are still
	// in RFLAGS, and the guest's registers in theirs.
	base, disp := in.mbase, int64(in.disp)
	switch base {
	case ripReg:
		h.load(s, RSP, 24)
		h.load(s, s, d.rip)
		base, disp = s, disp+int64(next)
	case RSP:
		h.load(s, RSP, 24)
		h.load(s, s, 8*RSP)
		base = s
	case noReg:
		h.rex(false, 0, 0, s, false)
		h.b = append(h.b, 0xb8|s&7, 0, 0, 0, 0) // mov s32, 0
		base = s
	}
	if disp != int64(int32(disp)) {
		return false
	}
	index := in.mindex
	if index >= 16 {
		index = noReg
	}
	h.lea(s, base, index, in.mshift, int32(disp))
	if in.asize == 4 {
		h.rex(false, s, 0, s, false)
		h.b = append(h.b, 0x89, 0xc0|(s&7)<<3|s&7) // mov s32, s32
	}
	h.b = append(h.b, saveFlagsAX...) // the lookup changes the flags
	h.push(RAX)
	if !c.nativeEmitLookup(h, d, sr, acc, in.msize, in.mseg, miss) {
		return false
	}
	h.pop(RAX)
	h.b = append(h.b, restoreFlagsAX...)
	h.pop(u)
	h.pop(t)
	h.b = append(h.b, rewritten...)
	h.pop(s)
	return true
}

// nativeAccessState is where a memory access's host code finds the
// state (&c.gpr) while it looks the address up: above the flags, u, t
// and s it pushed.
const nativeAccessState = 32

// nativeEmitLookup appends the TLB lookup of the guest's linear address
// in s, offset by segment seg's base (FS and GS; the others' is 0 in
// 64-bit mode), for an access acc of size bytes, with the flags, u, t
// and s pushed: s becomes the host address in c.ram, t the state, u is
// free. Where the TLB's fast path does not allow the access, it jumps to
// miss, with the stack as it found it. The lookup is a call to a helper
// shared by the accesses with the same registers and access
// (nativeLookupHelper): inline, it was some 100 bytes an access, and
// the arena twice as large. It returns false when the arena has no room
// for a new helper.
func (c *CPU) nativeEmitLookup(h *hostCode, d *nativeDisps, sr nativeScratchRegs, acc, size, seg uint8, miss int) bool {
	fn := c.nativeLookupHelper(d, nativeLookupKey{sr: sr, acc: acc, size: size, seg: seg, ushift: c.ushift})
	if fn == 0 {
		c.native.helperFull = true
		return false
	}
	h.b = append(h.b, 0x48, 0xb8) // mov rax, fn (u is RAX, free here)
	h.b = binary.LittleEndian.AppendUint64(h.b, uint64(fn))
	h.b = append(h.b, 0xff, 0xd0) // call rax
	h.jcc(ccB, miss)
	return true
}

// nativeLookupKey names a lookup helper: the registers, the access, its
// size, the segment, and the privilege level's shift of the permission
// bits.
type nativeLookupKey struct {
	sr                     nativeScratchRegs
	acc, size, seg, ushift uint8
}

// nativeLookupHelper returns the helper for k, made on first use: the
// lookup of nativeEmitLookup as a function that returns with CF clear
// when the access is allowed, set when not. 0: the arena is full.
func (c *CPU) nativeLookupHelper(d *nativeDisps, k nativeLookupKey) uintptr {
	if fn, ok := c.native.helpers[k]; ok {
		return fn
	}
	var h hostCode
	s, t, u := k.sr.s, k.sr.t, k.sr.u
	const state = nativeAccessState + 8 // above the return address
	const miss = 0
	if k.seg == FS || k.seg == GS {
		h.load(t, RSP, state)
		h.opMem64(0x03, s, t, d.segBase+8*int32(k.seg)) // add s, [t+segBase]
	}
	// The TLB entry: t = &c.gpr + index*24, so the entry is [t+d.tlb].
	var e tlbEntry
	tag := d.tlb + int32(unsafe.Offsetof(e.tag))
	fast := d.tlb + int32(unsafe.Offsetof(e.fast))
	phys := d.tlb + int32(unsafe.Offsetof(e.phys))
	h.op64(0x89, u, s) // mov u, s
	h.shift(5, u, 12)  // shr u, 12: the linear page
	h.op64(0x89, t, u) // mov t, u
	h.imm(true, 4, t, tlbSize-1)
	h.lea(t, t, t, 1, 0) // t*3
	h.shift(4, t, 3)     // t*24
	h.opMem64(0x03, t, RSP, state)
	h.opMem64(0x3b, u, t, tag) // cmp u, [t+tag]
	h.jcc(ccNE, miss)
	h.rex(false, 0, 0, t, false)
	h.b = append(h.b, 0xf6) // test byte [t+fast], acc<<ushift
	h.mem(0, t, fast)
	h.b = append(h.b, k.acc<<k.ushift)
	h.jcc(ccE, miss)
	if k.size > 1 {
		h.rex(false, s, 0, u, false)
		h.b = append(h.b, 0x89, 0xc0|(s&7)<<3|u&7) // mov u32, s32
		h.imm(false, 4, u, 0xfff)
		h.imm(false, 7, u, int32(pageSize-uint64(k.size)))
		h.jcc(ccA, miss) // crosses into the next page
	}
	h.load(u, t, phys)
	h.imm(true, 4, s, 0xfff)
	h.op64(0x09, s, u) // s: the physical address
	if k.acc == accWrite {
		h.op64(0x89, u, s)
		h.shift(5, u, 12)
		h.load(t, RSP, state)
		h.load(t, t, d.code)
		h.rex(true, 0, u, t, false)
		h.b = append(h.b, 0x83) // cmp qword [t+u*8], 0: decoded code there
		h.memIndex(7, t, u, 3, 0)
		h.b = append(h.b, 0)
		h.jcc(ccNE, miss)
	}
	h.load(t, RSP, state)
	h.opMem64(0x03, s, t, d.ram)  // s: the host address in c.ram
	h.b = append(h.b, 0xf8, 0xc3) // clc; ret
	labels := []int{len(h.b)}
	h.b = append(h.b, 0xf9, 0xc3) // miss: stc; ret
	h.resolve(labels)
	fn, ok := c.native.arena.put(h.b)
	if !ok {
		return 0
	}
	if c.native.helpers == nil {
		c.native.helpers = make(map[nativeLookupKey]uintptr)
	}
	c.native.helpers[k] = fn
	return fn
}

// nativeEmitStack appends a stack operation k (nativeStackOp) as host
// code, its access made as nativeEmitAccess makes one: at RSP-8 for
// PUSH and CALL, at RSP for POP and RET. Once the TLB's fast path
// allows it, RSP moves by 8 in the state, and the value moves: the
// register's to the stack (PUSH), the stack's to the register (POP), the
// return address to the stack (CALL), the popped address to
// c.native.rip (RET: the block's end takes the next RIP from there).
// CALL's target and RET's popped address must be canonical, or the
// block leaves before the instruction, and the interpreter raises the
// #GP (SDM Vol. 2, CALL and RET: before anything is pushed or popped).
// next is the offset from the head's RIP of the instruction after in.
func (c *CPU) nativeEmitStack(h *hostCode, d *nativeDisps, in *inst, k uint8, sr nativeScratchRegs, next int32, miss int) bool {
	s, t, u := sr.s, sr.t, sr.u // u is RAX
	const state = nativeAccessState
	h.push(s)
	h.push(t)
	h.push(u)
	h.load(s, RSP, 24)
	h.load(s, s, 8*RSP) // the guest's RSP
	push := k == stackPush || k == stackCall
	if push {
		h.lea(s, s, noReg, 0, -8)
	}
	h.b = append(h.b, saveFlagsAX...)
	h.push(RAX)
	if k == stackCall {
		h.load(u, RSP, state)
		h.load(u, u, d.rip)
		h.lea(u, u, noReg, 0, next+int32(in.imm)) // the target
		nativeEmitCanonical(h, u, t, miss)
	}
	acc := uint8(accRead)
	if push {
		acc = accWrite
	}
	if !c.nativeEmitLookup(h, d, sr, acc, 8, SS, miss) {
		return false
	}
	if k == stackRet {
		h.load(u, s, 0) // the return address
		nativeEmitCanonical(h, u, t, miss)
		h.load(t, RSP, state)
		h.store(t, d.rip, u)
	}
	// Nothing can leave the block now: RSP moves.
	h.load(u, t, 8*RSP)
	if push {
		h.lea(u, u, noReg, 0, -8)
	} else {
		h.lea(u, u, noReg, 0, 8)
	}
	h.store(t, 8*RSP, u)
	if k == stackCall {
		h.load(u, t, d.rip)
		h.lea(u, u, noReg, 0, next) // the return address
		h.store(s, 0, u)
	}
	h.pop(RAX)
	h.b = append(h.b, restoreFlagsAX...)
	h.pop(u)
	h.pop(t)
	switch k {
	case stackPush:
		h.store(s, 0, in.args[0].reg)
	case stackPop:
		h.load(in.args[0].reg, s, 0)
	}
	h.pop(s)
	return true
}

// nativeEmitCanonical appends a check that r holds a canonical address
// (bits 63-47 equal; 48-bit linear addresses), with scratch register t,
// which jumps to miss if not. It changes the flags.
func nativeEmitCanonical(h *hostCode, r, t uint8, miss int) {
	h.op64(0x89, t, r) // mov t, r
	h.shift(4, t, 16)  // shl t, 16
	h.shift(7, t, 16)  // sar t, 16
	h.op64(0x39, t, r) // cmp t, r
	h.jcc(ccNE, miss)
}

// nativeRewriteOK decodes the rewritten instruction and requires that it
// is the guest's, operand for operand, with its memory operand [s] and
// no other bytes: the rewrite is the one place a block's host code is
// not the guest's checked bytes, so it is checked too.
func nativeRewriteOK(raw, rewritten []byte, s uint8) bool {
	xo, err := x86asm.Decode(raw, 64)
	if err != nil {
		return false
	}
	xr, err := x86asm.Decode(rewritten, 64)
	if err != nil || xr.Len != len(rewritten) || xr.Op != xo.Op || xr.DataSize != xo.DataSize || xr.MemBytes != xo.MemBytes {
		return false
	}
	mems := 0
	for i := range xo.Args {
		a, b := xo.Args[i], xr.Args[i]
		if _, isMem := a.(x86asm.Mem); isMem {
			mems++
			if b != (x86asm.Mem{Base: x86asm.RAX + x86asm.Reg(s)}) && b != (x86asm.Mem{Base: x86asm.RAX + x86asm.Reg(s), Scale: 1}) {
				return false
			}
			continue
		}
		if a != b {
			return false
		}
	}
	return mems == 1
}

// nativeRewriteMem re-encodes the instruction raw with its memory operand
// replaced by [s]: the legacy prefixes but segment overrides and the
// address size (the address is already computed), the REX bits of the
// operand size and ModRM reg with B for s, the opcode, ModRM (mod 00,
// rm s) and the immediate. s is not RSP, RBP, R12 or R13.
func nativeRewriteMem(raw []byte, s uint8) ([]byte, bool) {
	var out []byte
	i := 0
	for ; i < len(raw); i++ {
		b := raw[i]
		if b == 0x66 {
			out = append(out, b)
			continue
		}
		if b == 0x67 || b == 0x2e || b == 0x3e || b == 0x26 || b == 0x36 || b == 0x64 || b == 0x65 {
			continue
		}
		break
	}
	rex, hasRex := byte(0), false
	if i < len(raw) && raw[i]&0xf0 == 0x40 {
		rex, hasRex = raw[i], true
		i++
	}
	op := i
	if i < len(raw) && raw[i]&0xfc == 0xa0 {
		return nil, false // MOV with a moffs: no ModRM
	}
	if i < len(raw) && raw[i] == 0x0f {
		i++
	}
	i++ // the opcode's last byte
	if i >= len(raw) {
		return nil, false
	}
	modrm := raw[i]
	mod, rm := modrm>>6, modrm&7
	if mod == 3 {
		return nil, false
	}
	j := i + 1
	switch {
	case rm == 4:
		if j >= len(raw) {
			return nil, false
		}
		if mod == 0 && raw[j]&7 == 5 {
			j += 4
		}
		j++
	case mod == 0 && rm == 5:
		j += 4
	}
	switch mod {
	case 1:
		j++
	case 2:
		j += 4
	}
	if j > len(raw) {
		return nil, false
	}
	nr := byte(0x40) | rex&0x0c | s>>3&1
	if hasRex || nr != 0x40 {
		out = append(out, nr)
	}
	out = append(out, raw[op:i]...)
	out = append(out, modrm&0x38|s&7)
	return append(out, raw[j:]...), true
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
