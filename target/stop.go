package target

import (
	"fmt"
	"strings"

	"vmapstack/target/cpu"
)

// StopKind says why the machine stopped running.
type StopKind int

const (
	StopLimit         StopKind = iota // RunUntil reached its instruction count
	StopStep                          // Step completed one instruction or delivery
	StopDebugExit                     // the guest wrote to isa-debug-exit; Code holds the value
	StopTripleFault                   // a fault while delivering #DF; the CPU is shut down
	StopBreakpoint                    // RIP reached a breakpoint (Addr)
	StopWatchpoint                    // a watched range was accessed (Addr, Watch)
	StopBreakOn                       // an exception selected with SetBreakOn was delivered (Event)
	StopRequested                     // RequestStop (gdb's ^C) or the context was cancelled
	StopHaltedForever                 // HLT with interrupts disabled or no interrupt source armed
	StopInternal                      // an emulator limitation or an I/O error (Err)
	StopReset                         // the guest reset the machine (Reset says how); as QEMU -no-reboot, the run ends
)

var stopNames = [...]string{
	StopLimit:         "limit",
	StopStep:          "step",
	StopDebugExit:     "debug-exit",
	StopTripleFault:   "triple-fault",
	StopBreakpoint:    "breakpoint",
	StopWatchpoint:    "watchpoint",
	StopBreakOn:       "break-on",
	StopRequested:     "stop-requested",
	StopHaltedForever: "halted-forever",
	StopInternal:      "internal-error",
	StopReset:         "reset",
}

func (k StopKind) String() string {
	if k >= 0 && int(k) < len(stopNames) {
		return stopNames[k]
	}
	return fmt.Sprintf("StopKind(%d)", int(k))
}

// Stop describes why Run, RunUntil or Step returned.
type Stop struct {
	Kind  StopKind
	Code  int           // StopDebugExit: the value written to port 0x501
	Addr  uint64        // StopBreakpoint, StopWatchpoint: the address
	Watch cpu.WatchKind // StopWatchpoint: the access that fired
	// Event is the delivery behind StopBreakOn and StopTripleFault (for a
	// triple fault, the #DF whose delivery faulted).
	Event *cpu.Event
	// Chain is, for StopBreakOn, the nested deliveries ending with Event
	// (for a #DF: the #PF whose delivery faulted, then the #DF); for
	// StopTripleFault, the deliveries that led to it,
	// outermost first: e.g. the #PF that could not be delivered, the #DF
	// that could not be delivered either, and the #PF raised while
	// delivering the #DF.
	Chain   []cpu.Event
	Instret uint64 // the instruction count at the stop
	Err     error  // StopInternal
	Reset   string // StopReset: how the guest reset the machine ("keyboard controller", "port 0xcf9", "port 0x92")
}

// String describes the stop in one line, for logs and stderr.
func (s Stop) String() string {
	switch s.Kind {
	case StopDebugExit:
		return fmt.Sprintf("isa-debug-exit with code %d", s.Code)
	case StopTripleFault:
		return "triple fault: " + describeChain(s.Chain, s.Event)
	case StopBreakpoint:
		return fmt.Sprintf("breakpoint at 0x%016x", s.Addr)
	case StopWatchpoint:
		return fmt.Sprintf("%s watchpoint at 0x%016x", watchName(s.Watch), s.Addr)
	case StopBreakOn:
		if s.Event == nil {
			return "break-on"
		}
		msg := "break-on: " + DescribeEvent(s.Event)
		// A #DF (or any nested delivery) says what it interrupted: the
		// exception that could not be delivered.
		if n := len(s.Chain); n >= 2 {
			msg += ", raised while delivering " + DescribeEvent(&s.Chain[n-2])
		}
		return msg
	case StopHaltedForever:
		return "halted with no interrupt that can wake the CPU"
	case StopReset:
		return "the guest reset the machine (" + s.Reset + ")"
	case StopInternal:
		if s.Err != nil {
			return "internal error: " + s.Err.Error()
		}
		return "internal error"
	}
	return s.Kind.String()
}

func watchName(k cpu.WatchKind) string {
	switch k {
	case cpu.WatchWrite:
		return "write"
	case cpu.WatchRead:
		return "read"
	case cpu.WatchAccess:
		return "access"
	}
	return "watch"
}

// exceptionNames are the mnemonics of SDM Vol. 3A Table 6-1.
var exceptionNames = [32]string{
	0: "#DE", 1: "#DB", 2: "NMI", 3: "#BP", 4: "#OF", 5: "#BR", 6: "#UD", 7: "#NM",
	8: "#DF", 9: "CSO", 10: "#TS", 11: "#NP", 12: "#SS", 13: "#GP", 14: "#PF",
	16: "#MF", 17: "#AC", 18: "#MC", 19: "#XM", 20: "#VE", 21: "#CP",
}

// VectorName names a vector: "#PF", "NMI", or "vector 0x20".
func VectorName(v uint8) string {
	if int(v) < len(exceptionNames) && exceptionNames[v] != "" {
		return exceptionNames[v]
	}
	return fmt.Sprintf("vector %#02x", v)
}

// DescribeEvent says what one delivery was, in the notation of every stop
// message (the gdb console, stderr, monitor): vector, its details in
// parentheses, the interrupted RIP and RSP, and the IST used, e.g.
// "#PF (error 0x2, CR2=0xffffc90000003ff8) at RIP=0x... RSP=0x...".
func DescribeEvent(e *cpu.Event) string {
	var b strings.Builder
	b.WriteString(VectorName(e.Vector))
	b.WriteString(eventDetails(e))
	fmt.Fprintf(&b, " at RIP=0x%016x RSP=0x%016x", e.RIP, e.RSP)
	if e.IST != 0 {
		fmt.Fprintf(&b, " on IST%d", e.IST)
	}
	return b.String()
}

// eventDetails is " (external interrupt, error 0x2, CR2=0x...)" or "".
func eventDetails(e *cpu.Event) string {
	var d []string
	switch e.Kind {
	case cpu.EventInterrupt:
		d = append(d, "external interrupt")
	case cpu.EventSoftware:
		d = append(d, "software interrupt")
	}
	if e.HasError {
		d = append(d, fmt.Sprintf("error %#x", e.ErrorCode))
	}
	if e.Vector == 14 {
		d = append(d, fmt.Sprintf("CR2=0x%016x", e.CR2))
	}
	if len(d) == 0 {
		return ""
	}
	return " (" + strings.Join(d, ", ") + ")"
}

// describeChain explains a triple fault from its chain of deliveries,
// outermost first: the exception that could not be delivered, the ones
// raised while delivering it (ending with the #DF), and the fault raised
// while delivering the #DF, when the history has it.
func describeChain(chain []cpu.Event, last *cpu.Event) string {
	if len(chain) == 0 {
		if last != nil {
			return DescribeEvent(last) + " could not be delivered"
		}
		return "shutdown"
	}
	var b strings.Builder
	afterDF := false
	for i := range chain {
		e := &chain[i]
		switch {
		case i == 0:
			b.WriteString(DescribeEvent(e))
			b.WriteString(" could not be delivered")
		case afterDF:
			fmt.Fprintf(&b, ": %s%s raised while delivering #DF", VectorName(e.Vector), eventDetails(e))
		default:
			details := ""
			if e.Vector != 8 { // #DF's error code is always 0
				details = eventDetails(e)
			}
			fmt.Fprintf(&b, ": %s%s could not be delivered either", VectorName(e.Vector), details)
		}
		if e.Vector == 8 && !e.Delivered {
			afterDF = true
		}
	}
	names := make([]string, len(chain))
	for i := range chain {
		names[i] = VectorName(chain[i].Vector)
	}
	fmt.Fprintf(&b, " [%s -> shutdown]", strings.Join(names, " -> "))
	return b.String()
}

// tripleChain is the chain behind a triple fault: the nested deliveries
// leading to the #DF (from Event.Nested), then the fault raised while
// delivering that #DF when the history recorded it.
func tripleChain(evs []cpu.Event, df *cpu.Event) []cpu.Event {
	chain := nestedChain(evs, df)
	if df == nil {
		return chain
	}
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Nested == df.Seq && evs[i].Seq > df.Seq {
			chain = append(chain, evs[i])
			break
		}
	}
	return chain
}

// nestedChain follows Event.Nested back from last through the history and
// returns the chain outermost first (last included).
func nestedChain(evs []cpu.Event, last *cpu.Event) []cpu.Event {
	if last == nil {
		return nil
	}
	chain := []cpu.Event{*last}
	cur := *last
	for cur.Nested != 0 && len(chain) < 8 {
		found := false
		for i := len(evs) - 1; i >= 0; i-- {
			if evs[i].Seq == cur.Nested {
				cur = evs[i]
				chain = append(chain, cur)
				found = true
				break
			}
		}
		if !found {
			break
		}
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return chain
}
