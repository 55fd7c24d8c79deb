package cpu

import (
	"fmt"

	"vmapstack/target/paging"
)

// SetBreakpoint sets or clears a breakpoint at a linear address: Run
// stops with ExitBreakpoint before executing the instruction there.
// Setting one that is set, or clearing one that is not, does nothing.
// Each call costs O(1) whatever the number of breakpoints: the filter
// keeps a count of breakpoints per slot beside its bit, so a removal
// clears the bit when its slot's count drops to zero, with no rebuild.
func (c *CPU) SetBreakpoint(linear uint64, on bool) {
	if c.bps == nil {
		c.bps = make(map[uint64]bool)
	}
	if c.bpCount == nil {
		c.bpCount = make([]uint32, bpFilterWords*64)
	}
	slot := linear & (bpFilterWords*64 - 1)
	word, bit := slot>>6, uint64(1)<<(slot&63)
	if on {
		if c.bps[linear] {
			return
		}
		c.bps[linear] = true
		c.bpCount[slot]++
		c.bpFilter[word] |= bit
	} else {
		if !c.bps[linear] {
			return
		}
		delete(c.bps, linear)
		if c.bpCount[slot]--; c.bpCount[slot] == 0 {
			c.bpFilter[word] &^= bit
		}
	}
	c.nbps = len(c.bps)
}

// bpFilterWords sizes the breakpoint filter: one bit per value of RIP's
// low 16 bits.
const bpFilterWords = 1 << 16 / 64

// AddWatchpoint watches [linear, linear+length) for guest data accesses of
// the given kind; the instruction completes, then Run returns
// ExitWatchpoint.
func (c *CPU) AddWatchpoint(linear, length uint64, kind WatchKind) {
	if length == 0 {
		length = 1
	}
	c.watches = append(c.watches, watch{linear, length, kind})
	c.watching = true
	c.noFastTLB()
}

// RemoveWatchpoint removes a watchpoint added with the same arguments.
func (c *CPU) RemoveWatchpoint(linear, length uint64, kind WatchKind) {
	if length == 0 {
		length = 1
	}
	for i, w := range c.watches {
		if w == (watch{linear, length, kind}) {
			c.watches = append(c.watches[:i], c.watches[i+1:]...)
			break
		}
	}
	c.watching = len(c.watches) > 0
}

func (c *CPU) checkWatch(lin, n uint64, kind WatchKind) {
	if c.watchHit {
		return
	}
	for _, w := range c.watches {
		if w.kind&kind != 0 && lin < w.addr+w.length && w.addr < lin+n {
			c.watchHit = true
			c.brk = true
			c.watchAddr = w.addr
			c.watchKind = kind
			return
		}
	}
}

// Events returns the last (up to 256) delivery attempts, oldest first.
func (c *CPU) Events() []Event {
	n := c.nevents
	if n > eventRing {
		n = eventRing
	}
	out := make([]Event, 0, n)
	for s := c.nevents - n + 1; s <= c.nevents; s++ {
		out = append(out, c.events[s%eventRing])
	}
	return out
}

// EventCount is the Seq of the newest event (0 when none happened): a
// cheap way to see whether Events would return anything new.
func (c *CPU) EventCount() uint64 { return c.nevents }

// debugXlate translates for the debugger: the current CR3, no A/D
// updates, no fault raised, no TLB involved.
func (c *CPU) debugXlate(lin uint64) (uint64, error) {
	if !c.paging {
		return lin, nil
	}
	t, f := paging.Translate(c.ram, c.cr3, lin, paging.Access{}, paging.Mode{NXE: true}, false)
	if f != nil {
		return 0, fmt.Errorf("linear %#x: %w", lin, f)
	}
	return t.Phys, nil
}

// debugPages splits [addr, addr+n) at page boundaries, translates each
// piece for the debugger and calls fn with its linear and physical address
// and its range [lo, hi) in the caller's buffer; fn returns how many bytes
// it handled. It stops at the first error and returns the bytes done.
func (c *CPU) debugPages(addr uint64, n int, fn func(lin, phys uint64, lo, hi int) (int, error)) (int, error) {
	done := 0
	for done < n {
		a := addr + uint64(done)
		p, err := c.debugXlate(a)
		if err != nil {
			return done, err
		}
		k := int(pageSize - a&0xfff)
		if k > n-done {
			k = n - done
		}
		m, err := fn(a, p, done, done+k)
		done += m
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// ReadLinear reads guest memory at a linear address through the current
// page tables, as the debugger sees it; it stops at the first unmapped
// page, or at the first physical byte outside RAM (where the guest would
// read all-ones from the bus, a debugger is told there is no memory, as
// QEMU's stub does), and returns how many bytes it read.
func (c *CPU) ReadLinear(addr uint64, buf []byte) (int, error) {
	return c.debugPages(addr, len(buf), func(lin, p uint64, lo, hi int) (int, error) {
		if p >= uint64(len(c.ram)) {
			return 0, fmt.Errorf("linear %#x: physical %#x is outside RAM (%#x bytes)", lin, p, len(c.ram))
		}
		return copy(buf[lo:hi], c.ram[p:]), nil
	})
}

// WriteLinear writes guest memory at a linear address (ignoring write
// protection, as a debugger may) and drops decoded code it overwrites.
func (c *CPU) WriteLinear(addr uint64, buf []byte) (int, error) {
	return c.debugPages(addr, len(buf), func(lin, p uint64, lo, hi int) (int, error) {
		return c.WritePhys(p, buf[lo:hi])
	})
}

// WritePhys writes guest physical memory, dropping decoded code there.
func (c *CPU) WritePhys(addr uint64, buf []byte) (int, error) {
	if addr >= uint64(len(c.ram)) {
		return 0, fmt.Errorf("physical %#x: outside RAM (%#x bytes)", addr, len(c.ram))
	}
	n := copy(c.ram[addr:], buf)
	for pn := addr >> 12; pn <= (addr+uint64(n)-1)>>12 && n > 0; pn++ {
		if pn < uint64(len(c.code)) && c.code[pn] != nil {
			if c.fetchPage == c.code[pn] {
				c.forgetFetch()
			}
			c.nativeRelease(c.code[pn])
			c.code[pn] = nil
			c.ncode--
			c.stats.Invalidates++
		}
	}
	if n < len(buf) {
		return n, fmt.Errorf("physical %#x: outside RAM (%#x bytes)", addr+uint64(n), len(c.ram))
	}
	return n, nil
}

// Translate translates a linear address with the tables at cr3 without
// side effects (no A/D updates, no TLB).
func (c *CPU) Translate(cr3, linear uint64) (phys uint64, ok bool) {
	t, f := paging.Translate(c.ram, cr3, linear, paging.Access{}, paging.Mode{NXE: true}, false)
	if f != nil {
		return 0, false
	}
	return t.Phys, true
}
