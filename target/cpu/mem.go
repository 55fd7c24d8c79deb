package cpu

import (
	"encoding/binary"

	"vmapstack/target/paging"
	"vmapstack/target/x86"
)

const (
	pageSize = 4096
	tlbSize  = 1024 // direct-mapped by linear page number
)

// Access kinds, as bits of tlbEntry.perm; the user-mode variant of each is
// shifted left by 3 (c.ushift).
const (
	accRead  uint8 = 1
	accWrite uint8 = 2
	accFetch uint8 = 4
)

// tlbEntry caches one 4K linear page. perm holds the accesses that may go
// through without a walk: a write needs the leaf's D bit already set, so a
// clean page takes the walk once more to set it (SDM 4.8). Entries are
// only made from successful walks: not-present translations are never
// cached (SDM 4.10.2.3).
//
// fast holds the subset of perm the inline paths of read and write may
// use without any call: set only when the whole physical page is RAM and
// no watchpoint is armed (AddWatchpoint clears it everywhere, the slow
// paths set it again). A write through it still checks that the page
// holds no decoded code, so self-modifying code is always seen.
type tlbEntry struct {
	tag    uint64 // linear page number
	phys   uint64 // physical page base
	perm   uint8
	fast   uint8
	global bool
}

// fault is the panic value that aborts an instruction raising an
// exception; Run recovers it and delivers the exception.
type fault struct {
	vector uint8
	hasErr bool
	code   uint64
}

// limitation is the panic value for something the guest did that this
// emulator does not model (Run returns ExitInternal with it).
type limitation string

func (c *CPU) raise(vector uint8) {
	panic(&fault{vector: vector})
}

func (c *CPU) raiseErr(vector uint8, code uint64) {
	panic(&fault{vector: vector, hasErr: true, code: code})
}

func canonical(a uint64) bool { return uint64(int64(a<<16)>>16) == a }

// flushTLB drops the cached translations; with all false, global pages
// (CR4.PGE) survive, as on a CR3 write (SDM 4.10.4.1).
func (c *CPU) flushTLB(all bool) {
	c.stats.TLBFlushes++
	c.forgetFetch()
	keepGlobal := !all && c.cr4&x86.CR4PGE != 0
	for i := range c.tlb {
		if keepGlobal && c.tlb[i].global {
			continue
		}
		c.tlb[i].perm = 0
		c.tlb[i].fast = 0
	}
}

// noFastTLB makes every access take the slow path (a watchpoint was
// armed: each access must be checked against it).
func (c *CPU) noFastTLB() {
	for i := range c.tlb {
		c.tlb[i].fast = 0
	}
}

// setFast lets the inline paths use the TLB entry of lin, when it is
// valid, maps RAM and no watchpoint is armed.
func (c *CPU) setFast(lin uint64) {
	e := &c.tlb[(lin>>12)&(tlbSize-1)]
	if e.tag == lin>>12 && !c.watching && e.phys+pageSize <= uint64(len(c.ram)) {
		e.fast = e.perm
	}
}

// invlpg drops the translation of one linear page, global or not.
func (c *CPU) invlpg(lin uint64) {
	e := &c.tlb[(lin>>12)&(tlbSize-1)]
	if e.tag == lin>>12 {
		e.perm = 0
		e.fast = 0
	}
	c.forgetFetch()
}

// xlate translates a linear address for an access of kind acc by the
// current privilege level, raising #PF (or #GP for a non-canonical
// address) on failure.
func (c *CPU) xlate(lin uint64, acc uint8) uint64 {
	if !c.paging {
		return lin
	}
	e := &c.tlb[(lin>>12)&(tlbSize-1)]
	if e.tag == lin>>12 && e.perm&(acc<<c.ushift) != 0 {
		return e.phys | lin&0xfff
	}
	return c.walk(lin, acc, c.ushift != 0)
}

// xlateSup translates for an implicit supervisor access (descriptor
// tables, TSS, the exception frame), whatever the CPL (SDM 4.6).
func (c *CPU) xlateSup(lin uint64, acc uint8) uint64 {
	if !c.paging {
		return lin
	}
	e := &c.tlb[(lin>>12)&(tlbSize-1)]
	if e.tag == lin>>12 && e.perm&acc != 0 {
		return e.phys | lin&0xfff
	}
	return c.walk(lin, acc, false)
}

func (c *CPU) walk(lin uint64, acc uint8, user bool) uint64 {
	if c.mode == 64 && !canonical(lin) {
		// A non-canonical stack reference is #SS(0), any other #GP(0)
		// (SDM Vol. 3A 6.15, interrupts 12 and 13). c.curSeg is the
		// segment of the last memory operand, not of a fetch, which
		// falling off the lower half (0x7fff_ffff_ffff) makes #GP.
		if c.curSeg == SS && acc != accFetch {
			c.raiseErr(x86.VecSS, 0)
		}
		c.raiseErr(x86.VecGP, 0)
	}
	c.stats.TLBMisses++
	a := paging.Access{Write: acc == accWrite, Fetch: acc == accFetch, User: user}
	mode := paging.Mode{WP: c.cr0&x86.CR0WP != 0, NXE: c.efer&x86.EFERNXE != 0}
	t, f := paging.Translate(c.ram, c.cr3, lin, a, mode, true)
	if f != nil {
		c.cr2 = lin
		c.raiseErr(x86.VecPF, uint64(f.ErrorCode))
	}
	nx := t.NX && mode.NXE
	var perm uint8 = accRead
	if t.Dirty && (t.Writable || !mode.WP) {
		perm |= accWrite
	}
	if !nx {
		perm |= accFetch
	}
	if t.User {
		perm |= accRead << 3
		if t.Dirty && t.Writable {
			perm |= accWrite << 3
		}
		if !nx {
			perm |= accFetch << 3
		}
	}
	e := &c.tlb[(lin>>12)&(tlbSize-1)]
	e.tag = lin >> 12
	e.phys = t.Phys &^ 0xfff
	e.perm = perm
	e.fast = 0
	if !c.watching && e.phys+pageSize <= uint64(len(c.ram)) {
		e.fast = perm
	}
	e.global = t.Global
	return t.Phys
}

// ramLoad and ramStore access size bytes of RAM at p, which the caller
// has checked is inside it.
func (c *CPU) ramLoad(p uint64, size uint8) uint64 {
	switch size {
	case 1:
		return uint64(c.ram[p])
	case 2:
		return uint64(binary.LittleEndian.Uint16(c.ram[p:]))
	case 4:
		return uint64(binary.LittleEndian.Uint32(c.ram[p:]))
	}
	return binary.LittleEndian.Uint64(c.ram[p:])
}

func (c *CPU) ramStore(p uint64, size uint8, v uint64) {
	switch size {
	case 1:
		c.ram[p] = byte(v)
	case 2:
		binary.LittleEndian.PutUint16(c.ram[p:], uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(c.ram[p:], uint32(v))
	default:
		binary.LittleEndian.PutUint64(c.ram[p:], v)
	}
}

// physRead reads size bytes of physical memory; beyond RAM reads are
// all-ones (open bus), as in QEMU for unassigned memory.
func (c *CPU) physRead(p uint64, size uint8) uint64 {
	if p+uint64(size) <= uint64(len(c.ram)) {
		return c.ramLoad(p, size)
	}
	var v uint64
	for i := uint8(0); i < size; i++ {
		b := uint64(0xff)
		if p+uint64(i) < uint64(len(c.ram)) {
			b = uint64(c.ram[p+uint64(i)])
		}
		v |= b << (8 * i)
	}
	return v
}

// physWrite writes size bytes of physical memory, dropping the decoded
// instructions of the page; writes beyond RAM are ignored.
func (c *CPU) physWrite(p uint64, size uint8, v uint64) {
	pn := p >> 12
	if pn < uint64(len(c.code)) && c.code[pn] != nil {
		c.codeWritten(pn, p&0xfff, uint64(size))
	}
	if p+uint64(size) <= uint64(len(c.ram)) {
		c.ramStore(p, size, v)
		return
	}
	for i := uint8(0); i < size; i++ {
		if q := p + uint64(i); q < uint64(len(c.ram)) {
			c.ram[q] = byte(v >> (8 * i))
		}
	}
}

// read reads size bytes at a linear address as a data access of the
// current privilege level. A TLB hit on a RAM page with no watchpoint
// armed is a bounds check and a load (tlbEntry.fast); everything else
// (a miss, a page crossing, a watchpoint, memory outside RAM) takes
// readSlow.
func (c *CPU) read(lin uint64, size uint8) uint64 {
	e := &c.tlb[(lin>>12)&(tlbSize-1)]
	if e.tag == lin>>12 && e.fast&(accRead<<c.ushift) != 0 && lin&0xfff <= pageSize-uint64(size) {
		p := e.phys | lin&0xfff
		return c.ramLoad(p, size)
	}
	return c.readSlow(lin, size)
}

func (c *CPU) readSlow(lin uint64, size uint8) uint64 {
	if c.watching {
		c.checkWatch(lin, uint64(size), WatchRead)
	}
	if lin&0xfff <= pageSize-uint64(size) {
		p := c.xlate(lin, accRead)
		if c.paging {
			c.setFast(lin)
		}
		return c.physRead(p, size)
	}
	return c.readSplit(lin, size, false)
}

func (c *CPU) readSplit(lin uint64, size uint8, sup bool) uint64 {
	var v uint64
	for i := uint8(0); i < size; i++ {
		a := lin + uint64(i)
		var p uint64
		if sup {
			p = c.xlateSup(a, accRead)
		} else {
			p = c.xlate(a, accRead)
		}
		v |= c.physRead(p, 1) << (8 * i)
	}
	return v
}

// write writes size bytes at a linear address. Both pages of a split
// write are translated before any byte is stored, so a fault leaves
// memory unchanged. As in read, a TLB hit on a RAM page is stored inline
// unless the page holds decoded code (which the write may invalidate).
func (c *CPU) write(lin uint64, size uint8, v uint64) {
	e := &c.tlb[(lin>>12)&(tlbSize-1)]
	if e.tag == lin>>12 && e.fast&(accWrite<<c.ushift) != 0 && lin&0xfff <= pageSize-uint64(size) {
		p := e.phys | lin&0xfff
		if c.code[p>>12] == nil {
			c.ramStore(p, size, v)
			return
		}
	}
	c.writeSlow(lin, size, v)
}

func (c *CPU) writeSlow(lin uint64, size uint8, v uint64) {
	if c.watching {
		c.checkWatch(lin, uint64(size), WatchWrite)
	}
	if lin&0xfff <= pageSize-uint64(size) {
		p := c.xlate(lin, accWrite)
		if c.paging {
			c.setFast(lin)
		}
		c.physWrite(p, size, v)
		return
	}
	c.writeSplit(lin, size, v, false)
}

func (c *CPU) writeSplit(lin uint64, size uint8, v uint64, sup bool) {
	first := pageSize - lin&0xfff
	var p1, p2 uint64
	if sup {
		p1 = c.xlateSup(lin, accWrite)
		p2 = c.xlateSup(lin+first, accWrite)
	} else {
		p1 = c.xlate(lin, accWrite)
		p2 = c.xlate(lin+first, accWrite)
	}
	for i := uint64(0); i < uint64(size); i++ {
		p := p1 + i
		if i >= first {
			p = p2 + i - first
		}
		c.physWrite(p, 1, v>>(8*i))
	}
}

// readSup and writeSup are implicit supervisor-mode accesses (IDT, GDT,
// TSS, and the exception frame).
func (c *CPU) readSup(lin uint64, size uint8) uint64 {
	if lin&0xfff <= pageSize-uint64(size) {
		return c.physRead(c.xlateSup(lin, accRead), size)
	}
	return c.readSplit(lin, size, true)
}

func (c *CPU) writeSup(lin uint64, size uint8, v uint64) {
	if c.watching {
		c.checkWatch(lin, uint64(size), WatchWrite)
	}
	if lin&0xfff <= pageSize-uint64(size) {
		c.physWrite(c.xlateSup(lin, accWrite), size, v)
		return
	}
	c.writeSplit(lin, size, v, true)
}

// checkWrite probes that a write of size bytes at lin would succeed
// (used where an instruction must fault before changing anything).
func (c *CPU) checkWrite(lin uint64, size uint8) {
	c.xlate(lin, accWrite)
	if lin&0xfff > pageSize-uint64(size) {
		c.xlate(lin+uint64(size)-1, accWrite)
	}
}
