// Package gdbproto serves the GDB Remote Serial Protocol (gdb manual,
// appendix "GDB Remote Serial Protocol") to gdb, lldb and IDEs built on
// them, for a Target that knows nothing of the wire format. The package
// itself knows nothing of any architecture: register layout, the XML
// target description, the registers to expedite in stop replies and the
// register metadata lldb wants all come from the target.
//
// The design follows Rust's gdbstub crate: a core loop (framing, acks,
// run control) separate from the packet handlers, one parser per packet,
// and every optional protocol feature an optional Go interface the target
// may implement (found by type assertion): TargetDescription,
// HWBreakpoints, Watchpoints, WatchpointSlots, Monitor, ExecFile,
// HostInfoProvider, RegisterInfoProvider, ExpeditedRegisters, PhysMemMode,
// ThreadExtraInfo, ConsoleOutput, Detacher, Killer.
//
// Sessions. A Server serves one debugger at a time (Serve on a listener,
// or ServeConn on one connection). A second debugger is answered
// "E.another debugger is already attached to this target" and closed; the
// first is unaffected. When a debugger detaches (D) the target runs free,
// as with QEMU; the next debugger to connect stops it. When a debugger
// vanishes without detaching, the target stays halted (stopped if it was
// running) and the next debugger finds it as it was. k and vKill end Serve
// with ErrKilled (QEMU exits then); a target exit ends it with *ExitError.
//
// Speed. A stepi costs gdb about four round trips (200 of them in
// scenario=bench sent vCont and qXfer:threads 200 times each and 392
// memory reads, of the stack and of the code at the new PC), and up to
// nine on the first step into a function, so the per-packet path
// is short: the session goroutine reads, answers and runs the target
// itself (no goroutine hop per packet), an acknowledgement travels with
// its reply in one write, replies are framed into a reused buffer. While
// the target runs, a watcher goroutine reads the connection for 0x03; it
// is started by a per-session sentinel only for a resume that lasts a
// millisecond or more, so single steps never pay for it.
//
// Wire details: acks with retransmission of the last reply on '-',
// QStartNoAckMode, run-length encoded replies (never '#', '$', '+' or '-'
// as a count), binary escapes ('}' then the byte XOR 0x20 for '#', '$',
// '}', '*') in X, qXfer and vFile:pread, a PacketSize limit on incoming
// packets (oversized ones get E16 and the stream stays in sync), the 0x03
// interrupt byte while the target runs, lowercase hex everywhere, garbage
// before '$' skipped, the empty reply for unknown packets. Thread ids are
// accepted in both plain ("1") and multiprocess ("p1.1") forms;
// multiprocess is not claimed. There is one thread, id 1.
//
// Security: whoever connects can read and write the target's memory and
// run code in it. Listen on loopback or on a unix socket (created 0600);
// IsLoopback lets a caller warn about other addresses.
package gdbproto
