package target

import "vmapstack/target/cpu"

// eventRAX is RAX of the interrupted context, which QEMU's `-d int` line
// shows for every vector but #PF. cpu.Event does not record it yet (asked
// for in .notes/machine-to-cpu.md), so the trace shows 0 there.
func eventRAX(e *cpu.Event) uint64 { return 0 }
