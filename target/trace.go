package target

import (
	"fmt"
	"io"

	"vmapstack/target/cpu"
)

// intTracer writes every delivery of the CPU's exception history in the
// first-line format of QEMU's `-d int` log (QEMU 7.2,
// target/i386/tcg/seg_helper.c, do_interrupt_all):
//
//	%6d: v=%02x e=%04x i=%d cpl=%d IP=%04x:%016lx pc=%016lx SP=%04x:%016lx
//
// followed by " CR2=%016lx" for vector 0x0e and " env->regs[R_EAX]=%016lx"
// otherwise. The counter is QEMU's: the number of lines logged before.
// What is omitted: QEMU's register dump after each line (log_cpu_state),
// its "check_exception old: ... new ..." lines and "Triple fault"; compare
// QEMU's log filtered with `grep ' v='`. The fault raised while delivering
// a #DF is not written either: QEMU shuts down before logging it. pc= is CS.base+RIP in QEMU; we write RIP,
// since CS.base of the interrupted context is not in the history and the
// kernel only uses flat code segments. QEMU logs only in protected mode;
// so do we (the PVH entry is already in protected mode).
type intTracer struct {
	w       io.Writer
	lastSeq uint64 // Seq of the last event written
	count   int    // lines written, QEMU's static count
	lost    uint64 // events that left the ring before they were written
	lastDF  uint64 // Seq of the last #DF seen
	slice   uint64 // current bound of a run slice (see traceSliceMin)
}

// drain writes the events newer than the last one written. evs is the
// CPU's history, oldest first.
func (t *intTracer) drain(evs []cpu.Event) error {
	if t == nil || t.w == nil {
		return nil
	}
	for i := range evs {
		e := &evs[i]
		if e.Seq <= t.lastSeq {
			continue
		}
		if e.Seq > t.lastSeq+1 {
			// The ring overflowed between two drains: say so rather than
			// pretend the log is complete.
			t.lost += e.Seq - t.lastSeq - 1
			if _, err := fmt.Fprintf(t.w, "# %d deliveries not traced (history overflow)\n", e.Seq-t.lastSeq-1); err != nil {
				return err
			}
		}
		t.lastSeq = e.Seq
		if e.Vector == 8 && e.Kind == cpu.EventException {
			t.lastDF = e.Seq
		}
		if e.Nested != 0 && e.Nested == t.lastDF {
			// A fault while delivering #DF shuts the CPU down: QEMU's
			// check_exception turns it into the triple fault before
			// do_interrupt_all, so it has no line.
			continue
		}
		if _, err := io.WriteString(t.w, formatIntLine(t.count, e)); err != nil {
			return err
		}
		t.count++
	}
	return nil
}

// formatIntLine formats one delivery as QEMU's `-d int` first line.
func formatIntLine(count int, e *cpu.Event) string {
	isInt := 0
	if e.Kind == cpu.EventSoftware {
		isInt = 1
	}
	s := fmt.Sprintf("%6d: v=%02x e=%04x i=%d cpl=%d IP=%04x:%016x pc=%016x SP=%04x:%016x",
		count, e.Vector, e.ErrorCode, isInt, e.CPL, e.CS, e.RIP, e.RIP, e.SS, e.RSP)
	if e.Vector == 0x0e {
		s += fmt.Sprintf(" CR2=%016x", e.CR2)
	} else {
		s += fmt.Sprintf(" env->regs[R_EAX]=%016x", e.RAX)
	}
	return s + "\n"
}
