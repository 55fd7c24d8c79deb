package cpu

import (
	"fmt"

	"vmapstack/target/x86"

	"golang.org/x/arch/x86/x86asm"
)

// Operand kinds of the compact decoded form.
const (
	argNone  uint8 = iota
	argReg         // GPR, low size bytes
	argReg8H       // AH CH DH BH: bits 8-15 of GPR reg
	argMem         // the instruction's memory operand (inst.mbase...)
	argImm         // inst.imm
	argImm2        // the second immediate, ENTER's level or a far pointer's offset (inst.imm2)
	argSeg         // segment register reg
	argCR          // control register reg
	argDR          // debug register reg
	argST          // x87 register ST(reg), relative to the top of the stack
	argXMM         // XMM register reg
	argMMX         // MMX register reg (aliases the low 64 bits of ST's physical register reg)
)

const noReg = 0xff
const ripReg = 16

// absReg as the base of a memory operand: the moffs64 of MOV A0-A3
// that does not fit disp's 32 bits, held in imm (those forms have no
// immediate).
const absReg = 17

// operand is one argument of a decoded instruction.
type operand struct {
	kind uint8
	size uint8 // bytes
	reg  uint8
}

// inst is an instruction decoded once by x86asm and kept in a compact form
// with no interface values, so executing it from the cache allocates
// nothing. op is the x86asm opcode number (dense, used for dispatch).
type inst struct {
	op     uint16
	cls    uint8 // dispatch class (exec.go)
	mode   uint8 // 16, 32 or 64: the CPU mode it was decoded for
	len    uint8
	osize  uint8 // operand size in bytes (x86asm DataSize)
	asize  uint8 // address size in bytes
	msize  uint8 // memory operand size (x86asm MemBytes)
	rep    uint8 // 0, 0xf3 (REP/REPE) or 0xf2 (REPNE)
	nargs  uint8
	segovr uint8 // segment override prefix (ES..GS) or noReg
	mbase  uint8 // GPR, ripReg, absReg or noReg
	mindex uint8 // GPR or noReg
	mshift uint8 // log2(scale)
	mseg   uint8 // segment of the memory operand
	cached bool  // held by a codePage (links may be made from and to it)
	args   [3]operand
	// The fields are ordered, and disp is 32 bits and shared, so that an
	// inst is 64 bytes (a Linux boot keeps some 240,000 of them).
	disp int32 // sign-extended (a moffs64 beyond it is in imm: absReg), or the second immediate (imm2)
	imm  int64

	// Links to the instructions executed after this one, so the run loop
	// goes from one to the next without fetch (see runLinked). Only made
	// between instructions cached in the same code page, which are dropped
	// together: succ follows it in memory (the fall-through), tgt is the
	// last other successor, at page offset tgtOff of the linear page this
	// one ran from (64-bit mode only, where RIP is the linear address).
	succ, tgt *inst
	tgtOff    uint16
	// native is the index of the block (native.go) this instruction
	// heads, when its class is clsNative; 0 for none.
	native uint32
}

// imm2 is the second immediate, kept in disp: ENTER's nesting level or
// the offset of a far pointer (no instruction with two immediates has a
// memory operand).
func (in *inst) imm2() uint64 { return uint64(uint32(in.disp)) }

// codePage holds the decoded instructions of one physical page, indexed by
// page offset: a pointer per byte, in chunks of codeChunk bytes made when
// the first instruction of the chunk is decoded (two loads from the page
// to the instruction; a Linux boot decodes some 170 instructions in each
// of 1,400 pages, and a full table of 4,096 pointers a page was 47 MB of
// its resident memory). cover marks the bytes decoded instructions
// occupy, so a write to data sharing the page only drops the page when it
// overlaps code.
type codePage struct {
	at    [pageSize / codeChunk]*[codeChunk]*inst
	cover [pageSize / 64]uint64
	pn    uint64 // the physical page number
	// native lists the blocks headed here (native.go), released when
	// the page is dropped.
	native []uint32
}

const codeChunk = 64

// inst returns the instruction decoded at page offset off, or nil.
func (pg *codePage) inst(off uint64) *inst {
	if ch := pg.at[off/codeChunk%(pageSize/codeChunk)]; ch != nil {
		return ch[off%codeChunk]
	}
	return nil
}

// codeWritten drops the decoded instructions of page pn when the write
// [off, off+n) overlaps one of them.
func (c *CPU) codeWritten(pn, off, n uint64) {
	pg := c.code[pn]
	hit := false
	for i := off; i < off+n && i < pageSize; i++ {
		if pg.cover[i>>6]&(1<<(i&63)) != 0 {
			hit = true
			break
		}
	}
	if off+n > pageSize && pn+1 < uint64(len(c.code)) && c.code[pn+1] != nil {
		c.codeWritten(pn+1, 0, off+n-pageSize)
	}
	if !hit {
		return
	}
	c.forgetFetch() // and leave the linked run: the executing instruction may be on this page
	c.nativeRelease(pg)
	c.code[pn] = nil
	c.ncode--
	c.stats.Invalidates++
}

// invalidateCode drops every decoded instruction (SetState: the RAM may
// have been replaced along with the registers).
func (c *CPU) invalidateCode() {
	c.nativeFlush()
	for i := range c.code {
		c.code[i] = nil
	}
	c.ncode = 0
	c.forgetFetch()
}

// fetch returns the decoded instruction at RIP, decoding it on a miss.
// The last code page used is remembered by linear page (fetchLin,
// fetchPage) so the common case is one compare and two loads; the
// memory is forgotten whenever the TLB or the decoded page could change
// (forgetFetch).
func (c *CPU) fetch() *inst {
	lin := c.rip + c.segBase[CS]
	if c.mode != 64 {
		lin &= 0xffffffff
	}
	if lin>>12 == c.fetchLin {
		if pg := c.fetchPage; pg != nil {
			if in := pg.inst(lin & 0xfff); in != nil && in.mode == uint8(c.mode) {
				return in
			}
		}
	}
	p := c.xlate(lin, accFetch)
	if pn := p >> 12; pn < uint64(len(c.code)) {
		if pg := c.code[pn]; pg != nil {
			c.fetchLin, c.fetchPage = lin>>12, pg
			if in := pg.inst(p & 0xfff); in != nil && in.mode == uint8(c.mode) {
				return in
			}
		}
	}
	return c.decodeAt(lin, p)
}

// forgetFetch drops the remembered code page. It also sets c.brk, so the
// run loop leaves the instructions it holds and their links (runLinked):
// whatever called it (a write to decoded code, a TLB flush, INVLPG) may
// have changed what the next instruction is.
func (c *CPU) forgetFetch() {
	c.fetchLin = ^uint64(0)
	c.fetchPage = nil
	c.brk = true
}

// fetchWindow reads the up-to-15-byte window at lin (physical p) for the
// decoder; the second page is only touched when the instruction needs it.
func (c *CPU) fetchWindow(p uint64, buf []byte) {
	for i := range buf {
		q := p + uint64(i)
		if q < uint64(len(c.ram)) {
			buf[i] = c.ram[q]
		} else {
			buf[i] = 0xff
		}
	}
}

func (c *CPU) decodeAt(lin, p uint64) *inst {
	c.stats.DecodeMisses++
	var buf [15]byte
	first := int(pageSize - lin&0xfff)
	if first > 15 {
		first = 15
	}
	c.fetchWindow(p, buf[:first])
	// x86asm does not reliably report a truncated window, so decode the
	// first page's bytes padded with zeros: if that yields an instruction
	// that fits, the next page is not needed; otherwise fetch it (with
	// the permission checks of a fetch: a fault there reports CR2 at the
	// first byte of that page) and decode again.
	n := 15
	xi, err := x86asm.Decode(buf[:], c.mode)
	crosses := false
	if first < 15 && (err != nil || xi.Op == 0 || xi.Len > first) {
		p2 := c.xlate(lin+uint64(first), accFetch)
		c.fetchWindow(p2, buf[first:])
		crosses = true
		xi, err = x86asm.Decode(buf[:], c.mode)
	}
	if err != nil || xi.Op == 0 {
		if h, ok := hintNOP(buf[:], c.mode); ok {
			xi, err = h, nil
		}
	}
	if (err != nil || xi.Op == 0) && tooLong(buf[:], c.mode) {
		c.raiseErr(x86.VecGP, 0)
	}
	in := new(inst)
	if err != nil || xi.Op == 0 || !c.convert(&xi, in) {
		in.op = opInvalid
		in.cls = clsInvalid
		in.mode = uint8(c.mode)
		in.len = 1
		c.unimplemented(buf[:n], &xi, err)
		return in
	}
	if crosses && xi.Len <= first {
		crosses = false
	}
	pn := p >> 12
	if crosses || pn >= uint64(len(c.code)) {
		return in // not cached: would need invalidation from two pages
	}
	pg := c.code[pn]
	if pg == nil {
		pg = &codePage{pn: pn}
		c.code[pn] = pg
		c.ncode++
	}
	c.fetchLin, c.fetchPage = lin>>12, pg
	off := p & 0xfff
	ch := pg.at[off/codeChunk]
	if ch == nil {
		ch = new([codeChunk]*inst)
		pg.at[off/codeChunk] = ch
	}
	ch[off%codeChunk] = in
	in.cached = true
	for i := off; i < off+uint64(in.len) && i < pageSize; i++ {
		pg.cover[i>>6] |= 1 << (i & 63)
	}
	return in
}

// opInvalid is the op of an instruction we cannot execute: #UD.
const opInvalid = 0

func (c *CPU) unimplemented(b []byte, xi *x86asm.Inst, err error) {
	if c.Log == nil || !c.firstLog(c.rip) {
		return
	}
	n := xi.Len
	if n <= 0 || n > len(b) {
		n = len(b)
		if n > 8 {
			n = 8
		}
	}
	dis := "invalid"
	if err == nil && xi.Op != 0 {
		dis = x86asm.GNUSyntax(*xi, c.rip, nil)
	}
	c.Log(fmt.Sprintf("cpu: unimplemented instruction at %#x: % x (%s)", c.rip, b[:n], dis))
}

func gprOf(r x86asm.Reg) (num uint8, size uint8, high bool, ok bool) {
	switch {
	case r >= x86asm.AL && r <= x86asm.BL:
		return uint8(r - x86asm.AL), 1, false, true
	case r >= x86asm.AH && r <= x86asm.BH:
		return uint8(r - x86asm.AH), 1, true, true
	case r >= x86asm.SPB && r <= x86asm.R15B:
		return uint8(r-x86asm.SPB) + 4, 1, false, true
	case r >= x86asm.AX && r <= x86asm.R15W:
		return uint8(r - x86asm.AX), 2, false, true
	case r >= x86asm.EAX && r <= x86asm.R15L:
		return uint8(r - x86asm.EAX), 4, false, true
	case r >= x86asm.RAX && r <= x86asm.R15:
		return uint8(r - x86asm.RAX), 8, false, true
	}
	return 0, 0, false, false
}

// convert fills in from x86asm's form; false means an operand we do not
// support (x87, SSE...), which the caller turns into #UD.
func (c *CPU) convert(xi *x86asm.Inst, in *inst) (ok bool) {
	lock := false
	in.op = uint16(xi.Op)
	if int(xi.Op) < len(opClass) {
		in.cls = opClass[xi.Op]
	}
	in.mode = uint8(c.mode)
	in.len = uint8(xi.Len)
	in.osize = uint8(xi.DataSize / 8)
	in.asize = uint8(xi.AddrSize / 8)
	in.msize = uint8(xi.MemBytes)
	in.segovr = noReg
	in.mbase, in.mindex = noReg, noReg
	for _, p := range xi.Prefix {
		if p == 0 {
			break
		}
		if p&x86asm.PrefixInvalid != 0 {
			return false // e.g. LOCK on an instruction that cannot take it: #UD
		}
		if p.IsVEX() || p.IsEVEX() {
			return false // qemu64 has no AVX: #UD
		}
		if p&0xff == 0xf0 {
			lock = true
		}
		switch p &^ (x86asm.PrefixImplicit | x86asm.PrefixIgnored) {
		case x86asm.PrefixREP:
			in.rep = 0xf3
		case x86asm.PrefixREPN:
			in.rep = 0xf2
		case x86asm.PrefixES:
			in.segovr = ES
		case x86asm.PrefixCS:
			in.segovr = CS
		case x86asm.PrefixSS:
			in.segovr = SS
		case x86asm.PrefixDS:
			in.segovr = DS
		case x86asm.PrefixFS:
			in.segovr = FS
		case x86asm.PrefixGS:
			in.segovr = GS
		}
	}
	nimm := 0
	defer func() {
		if lock && ok && (int(xi.Op) >= len(lockable) || !lockable[xi.Op] || in.args[0].kind != argMem) {
			ok = false
		}
	}()
	for i, a := range xi.Args {
		if a == nil {
			break
		}
		if i >= len(in.args) {
			return false
		}
		o := &in.args[i]
		switch a := a.(type) {
		case x86asm.Reg:
			if n, s, h, ok := gprOf(a); ok {
				o.kind, o.size, o.reg = argReg, s, n
				if h {
					o.kind = argReg8H
				}
			} else if a >= x86asm.ES && a <= x86asm.GS {
				o.kind, o.size, o.reg = argSeg, 2, uint8(a-x86asm.ES)
			} else if a >= x86asm.CR0 && a <= x86asm.CR15 {
				o.kind, o.size, o.reg = argCR, 8, uint8(a-x86asm.CR0)
			} else if a >= x86asm.DR0 && a <= x86asm.DR15 {
				o.kind, o.size, o.reg = argDR, 8, uint8(a-x86asm.DR0)
			} else if a >= x86asm.F0 && a <= x86asm.F7 {
				o.kind, o.size, o.reg = argST, 10, uint8(a-x86asm.F0)
			} else if a >= x86asm.X0 && a <= x86asm.X15 {
				o.kind, o.size, o.reg = argXMM, 16, uint8(a-x86asm.X0)
			} else if a >= x86asm.M0 && a <= x86asm.M7 {
				o.kind, o.size, o.reg = argMMX, 8, uint8(a-x86asm.M0)
			} else {
				return false
			}
		case x86asm.Mem:
			o.kind, o.size = argMem, in.msize
			in.mseg = DS
			if a.Base != 0 {
				if a.Base == x86asm.RIP || a.Base == x86asm.EIP {
					in.mbase = ripReg
				} else if n, _, _, ok := gprOf(a.Base); ok {
					in.mbase = n
					if n == RSP || n == RBP {
						in.mseg = SS
					}
				} else {
					return false
				}
			}
			if a.Index != 0 {
				n, _, _, ok := gprOf(a.Index)
				if !ok {
					return false
				}
				in.mindex = n
				switch a.Scale {
				case 2:
					in.mshift = 1
				case 4:
					in.mshift = 2
				case 8:
					in.mshift = 3
				}
			}
			if in.segovr != noReg {
				in.mseg = in.segovr
			}
			// x86asm keeps a disp32 zero-extended; it is sign-extended
			// (SDM Vol. 2 2.2.1.3), except the moffs of A0-A3 which is a
			// full address. Either way 32 bits of it hold the address
			// ea computes, but a moffs64 beyond them.
			in.disp = int32(a.Disp)
			if op := xi.Opcode >> 24; op >= 0xa0 && op <= 0xa3 && in.asize == 8 && int64(in.disp) != a.Disp {
				in.disp, in.mbase, in.imm = 0, absReg, a.Disp
			}
		case x86asm.Imm:
			if nimm == 0 {
				o.kind = argImm
				in.imm = int64(a)
			} else {
				o.kind = argImm2
				in.disp = int32(a) // no instruction has both (imm2)
			}
			nimm++
		case x86asm.Rel:
			o.kind = argImm
			in.imm = int64(a)
		default:
			return false
		}
		in.nargs++
	}
	defer specialise(in)
	// Immediates take the size of the first operand (they are already
	// sign-extended by x86asm; masking to that size gives the value).
	for i := 0; i < int(in.nargs); i++ {
		if k := in.args[i].kind; k == argImm || k == argImm2 {
			s := in.osize
			if i > 0 && in.args[0].size != 0 {
				s = in.args[0].size
			}
			if s == 0 {
				s = 8
			}
			in.args[i].size = s
		}
	}
	return true
}

// firstLog reports whether an unimplemented instruction at rip has not
// been logged yet (a guest looping on #UD logs one line, not millions).
func (c *CPU) firstLog(rip uint64) bool {
	if c.logged == nil {
		c.logged = make(map[uint64]bool)
	}
	if c.logged[rip] || len(c.logged) >= 1024 {
		return false
	}
	c.logged[rip] = true
	return true
}

// hintNOP decodes the reserved-NOP opcodes 0F 19-0F 1F /r (ENDBR64 is one
// of them on a processor without CET), which x86asm rejects: they execute
// as NOP (SDM Vol. 2 NOP, "0F 1F /0"; Table A-3 notes hint NOPs). The
// length comes from decoding the same bytes as 0F 1F.
func hintNOP(b []byte, mode int) (x86asm.Inst, bool) {
	i := 0
	for i < len(b)-1 {
		switch v := b[i]; {
		case v == 0x66 || v == 0x67 || v == 0xf2 || v == 0xf3 || v == 0x2e || v == 0x36 ||
			v == 0x3e || v == 0x26 || v == 0x64 || v == 0x65:
			i++
			continue
		case mode == 64 && v&0xf0 == 0x40:
			i++
			continue
		}
		break
	}
	if i >= len(b)-1 || b[i] != 0x0f || b[i+1] < 0x19 || b[i+1] > 0x1f {
		return x86asm.Inst{}, false
	}
	var alt [15]byte
	copy(alt[:], b)
	alt[i+1] = 0x1f
	if i+2 < len(b) {
		alt[i+2] &^= 0x38 // x86asm knows only 0F 1F /0; the reg field does not change the length
	}
	for j := 0; j < i; j++ {
		if alt[j] == 0xf2 || alt[j] == 0xf3 {
			alt[j] = 0x3e // same length, and x86asm accepts 0F 1F with it
		}
	}
	xi, err := x86asm.Decode(alt[:len(b)], mode)
	if err != nil || xi.Op != x86asm.NOP {
		return x86asm.Inst{}, false
	}
	return xi, true
}

// lockable lists the instructions a LOCK prefix is allowed on, with a
// memory destination (SDM Vol. 2 LOCK); anything else is #UD.
var lockable = func() (t [x86asm.XTEST + 1]bool) {
	for _, op := range []x86asm.Op{x86asm.ADD, x86asm.ADC, x86asm.AND, x86asm.BTC, x86asm.BTR, x86asm.BTS,
		x86asm.CMPXCHG, x86asm.CMPXCHG8B, x86asm.CMPXCHG16B, x86asm.DEC, x86asm.INC, x86asm.NEG,
		x86asm.NOT, x86asm.OR, x86asm.SBB, x86asm.SUB, x86asm.XOR, x86asm.XADD, x86asm.XCHG} {
		t[op] = true
	}
	return t
}()

// tooLong reports whether buf starts an instruction that needs more than
// the architectural maximum of 15 bytes, which raises #GP(0) rather than
// #UD (SDM Vol. 2A 2.3.11). x86asm refuses such an instruction outright,
// so its length is found by setting aside the segment-override and LOCK
// prefixes, which do not change the length of what follows, decoding the
// rest and adding them back.
func tooLong(buf []byte, mode int) bool {
	var rest [15]byte
	n, removed := 0, 0
	i := 0
	for ; i < len(buf); i++ {
		switch buf[i] {
		case 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0xf0:
			removed++
			continue
		case 0x66, 0x67, 0xf2, 0xf3:
			rest[n] = buf[i]
			n++
			continue
		}
		break
	}
	if removed == 0 {
		return false
	}
	copy(rest[n:], buf[i:]) // the bytes past the window read as zero: any length past 15 is too long
	xi, err := x86asm.Decode(rest[:], mode)
	return err == nil && xi.Op != 0 && xi.Len+removed > 15
}
