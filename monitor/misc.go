package monitor

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"vmapstack/target"
	"vmapstack/target/cpu"
)

// defaultFaults is what `faults` shows without N.
const defaultFaults = 16

func eventName(e *cpu.Event) string {
	switch e.Kind {
	case cpu.EventInterrupt:
		return fmt.Sprintf("IRQ %#02x", e.Vector)
	case cpu.EventSoftware:
		if e.Vector == 3 {
			return "INT3"
		}
		return fmt.Sprintf("INT %#02x", e.Vector)
	}
	return target.VectorName(e.Vector)
}

// chainName shows how e nests in the history: "#PF -> #DF".
func chainName(evs []cpu.Event, i int) string {
	names := []string{eventName(&evs[i])}
	cur := evs[i]
	for cur.Nested != 0 && len(names) < 8 {
		found := false
		for j := i - 1; j >= 0; j-- {
			if evs[j].Seq == cur.Nested {
				cur = evs[j]
				names = append([]string{eventName(&cur)}, names...)
				found = true
				break
			}
		}
		if !found {
			names = append([]string{"?"}, names...)
			break
		}
	}
	return strings.Join(names, " -> ")
}

func (mon *Monitor) cmdFaults(args []string, out io.Writer) error {
	if err := tooMany("faults", args, 1); err != nil {
		return err
	}
	n := defaultFaults
	if len(args) == 1 {
		v, err := strconv.Atoi(args[0])
		if err != nil || v <= 0 {
			return fmt.Errorf("faults: N must be a positive number, not %q", args[0])
		}
		n = v
	}
	evs := mon.m.Events()
	if len(evs) == 0 {
		fmt.Fprintln(out, "no exception or interrupt deliveries yet")
		return nil
	}
	first := max(0, len(evs)-n)
	fmt.Fprintf(out, "last %d of %d deliveries in the history (oldest first)\n", len(evs)-first, len(evs))
	fmt.Fprintf(out, "%6s %12s  %-24s %-8s %-18s  %-21s  %-21s  %-3s %s\n", "seq", "instret", "event", "error", "cr2", "cs:rip", "ss:rsp", "ist", "result")
	for i := first; i < len(evs); i++ {
		e := &evs[i]
		errc, cr2, ist := "-", "-", "-"
		if e.HasError {
			errc = fmt.Sprintf("%#x", e.ErrorCode)
		}
		if e.Vector == 14 && e.Kind == cpu.EventException {
			cr2 = hex16(e.CR2)
		}
		if e.IST != 0 {
			ist = fmt.Sprint(e.IST)
		}
		result := "delivered"
		if !e.Delivered {
			result = "not delivered"
		}
		if sym := mon.k.Describe(e.RIP); sym != "" {
			result += "  <" + sym + ">"
		}
		fmt.Fprintf(out, "%6d %12d  %-24s %-8s %-18s  %04x:%016x  %04x:%016x  %-3s %s\n", e.Seq, e.Instret, chainName(evs, i),
			errc, cr2, e.CS, e.RIP, e.SS, e.RSP, ist, result)
	}
	return nil
}

func (mon *Monitor) cmdBreakOn(args []string, out io.Writer) error {
	if err := tooMany("break-on", args, 2); err != nil {
		return err
	}
	set := mon.m.BreakOn()
	switch len(args) {
	case 0:
		fmt.Fprintf(out, "break-on %s\n", set)
		fmt.Fprintf(out, "names: %s, none; or a vector number\n", target.BreakOnNames())
		return nil
	case 1:
		switch strings.ToLower(args[0]) {
		case "on", "off":
			return fmt.Errorf("break-on: %s what? usage: %s", args[0], usage("break-on"))
		}
		// A list alone replaces the set.
		s, err := target.ParseBreakOn(args[0])
		if err != nil {
			return fmt.Errorf("break-on: %w", err)
		}
		set = s
	case 2:
		on := false
		switch strings.ToLower(args[1]) {
		case "on":
			on = true
		case "off":
		default:
			return fmt.Errorf("break-on: %q is not on or off; usage: %s", args[1], usage("break-on"))
		}
		s, err := target.ParseBreakOn(args[0])
		if err != nil {
			return fmt.Errorf("break-on: %w", err)
		}
		if !on && mentionsTriple(args[0]) {
			return fmt.Errorf("break-on: %w", target.ErrTripleAlwaysOn)
		}
		for v := range s.Vectors {
			if s.Vectors[v] {
				set.Vectors[v] = on
			}
		}
	}
	mon.m.SetBreakOn(set)
	fmt.Fprintf(out, "break-on %s\n", set)
	return nil
}

// mentionsTriple reports whether a break-on list names the triple fault.
func mentionsTriple(list string) bool {
	for _, item := range strings.Split(list, ",") {
		if _, triple, err := target.ParseBreakOnItem(item); err == nil && triple {
			return true
		}
	}
	return false
}

func (mon *Monitor) cmdPhys(args []string, out io.Writer) error {
	if err := tooMany("phys", args, 1); err != nil {
		return err
	}
	if len(args) == 1 {
		switch strings.ToLower(args[0]) {
		case "on", "1":
			mon.phys = true
		case "off", "0":
			mon.phys = false
		default:
			return fmt.Errorf("phys: %q is not on or off; usage: %s", args[0], usage("phys"))
		}
		if mon.OnPhys != nil {
			mon.OnPhys(mon.phys)
		}
	}
	if mon.phys {
		fmt.Fprintln(out, "phys on: memory packets address physical memory")
	} else {
		fmt.Fprintln(out, "phys off: memory packets address virtual (linear) memory through the current CR3")
	}
	return nil
}

// pct is part/total in percent, "-" when total is 0.
func pct(part, total uint64) string {
	if total == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(part)/float64(total))
}

// fmtRate writes a rate with a unit prefix: 12.3M.
func fmtRate(r float64) string {
	switch {
	case r >= 1e9:
		return fmt.Sprintf("%.2fG", r/1e9)
	case r >= 1e6:
		return fmt.Sprintf("%.2fM", r/1e6)
	case r >= 1e3:
		return fmt.Sprintf("%.2fK", r/1e3)
	}
	return fmt.Sprintf("%.0f", r)
}

// keyValue writes one "key  value" line of stack, cr2, cregs and stats:
// the key in the first 19 columns, the value from column 20 (README,
// "Output formats"), so scripts cut them alike.
func keyValue(out io.Writer, k, v string) { fmt.Fprintf(out, "%-18s %s\n", k, v) }

func (mon *Monitor) cmdStats(args []string, out io.Writer) error {
	if err := tooMany("stats", args, 0); err != nil {
		return err
	}
	s := mon.m.Stats()
	line := func(k, v string) { keyValue(out, k, v) }
	line("instructions", fmt.Sprint(mon.m.Instret()))
	ips := "unknown (no host run time given to the monitor)"
	if mon.RunTime != nil {
		if d := mon.RunTime(); d > 0 {
			ips = fmt.Sprintf("%s (%d instructions in %.3fs of host time)", fmtRate(float64(mon.m.Instret())/d.Seconds()), mon.m.Instret(), d.Seconds())
		}
	}
	line("instructions/s", ips)
	look := s.DecodeHits + s.DecodeMisses
	line("decode cache", fmt.Sprintf("hits %d (%s), misses %d, pages %d, invalidated %d", s.DecodeHits, pct(s.DecodeHits, look),
		s.DecodeMisses, s.DecodePages, s.Invalidates))
	line("TLB", fmt.Sprintf("misses %d (page walks), flushes %d", s.TLBMisses, s.TLBFlushes))
	line("native tier", fmt.Sprintf("blocks %d, runs %d (%d from another block), instructions %d (%s)", s.NativeBlocks, s.NativeRuns,
		s.NativeChained, s.NativeInstructions, pct(s.NativeInstructions, mon.m.Instret())))
	line("exceptions", fmt.Sprintf("%d in the history", len(mon.m.Events())))
	return nil
}
