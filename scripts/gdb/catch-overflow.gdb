# catch-overflow.gdb - watch a vmapped stack catch a kernel stack overflow.
#
# Run from the repository root (the `source` line below is relative to it):
#
#   go run ./cmd/stub --append scenario=overflow &        # listens on 127.0.0.1:1234
#   gdb -batch -ex 'target remote :1234' -x scripts/gdb/catch-overflow.gdb
#
# (or interactively: gdb -ex 'target remote :1234', then `source` this file).
#
# The story.  The task "recurse" calls itself forever; each frame is 16
# bytes, so RSP walks down its 16 KiB vmalloc'ed stack until a push lands
# in the unmapped guard page below it.  That push raises #PF, and the CPU
# must push the #PF exception frame on the same stack, into the same
# unmapped page: the #PF cannot be delivered, and a fault while delivering
# #PF is a double fault (Intel SDM Vol. 3A 6.15, Table 6-5).  The #DF gate
# uses IST 1, so the CPU switches to a separate, always-mapped stack named
# in the TSS and the #DF handler can run and say "kernel stack overflow".
# Without vmapped stacks the recursion would silently overwrite whatever
# lies below the stack.

set pagination off
set confirm off
set print pretty off
source scripts/gdb/vmapstack-gdb.py

# Stop the machine the moment #DF is delivered: the CPU has switched to
# the IST stack and pushed the exception frame, and the handler's first
# instruction is about to run.  (gdb's `break do_double_fault` stops later,
# after the entry code saved the registers.)
monitor break-on df on

echo \n=== continue: the kernel boots, creates "recurse" and recurses ===\n
# Notice the stub's stop message: #DF, raised while delivering #PF, with
# CR2 a few bytes below the stack of task "recurse" (its guard page).
continue

echo \n=== where are we? ===\n
# RIP is the #DF entry stub, the IDT gate's target; nothing of the handler
# has run yet.
info symbol $pc
# gdb's backtrace starts with "<signal handler called>": the stub's unwind
# info (entry.S) describes the CPU's exception frame as a signal frame, so
# gdb unwinds through it to the interrupted code: frame #1 is the recurse
# call whose push hit the guard page, and below it 1000-odd more recurse
# frames on the overflowed stack.  The first few and the last few suffice.
bt 4
bt -2
# CR2 is the address the faulting access used: 8 bytes below the stack
# bottom (the return address push of the deepest call).
p/x $cr2
# The lowest byte of the current task's stack; CR2 = this - 8.
p/x current_task->stack
p current_task->comm

echo \n=== the exception frame the CPU pushed on the IST stack ===\n
# Six quadwords, lowest first: error code (0 for #DF), RIP, CS, RFLAGS,
# RSP, SS (SDM Vol. 3A 6.14.2, Figure 6-9).  The saved RSP is exactly the
# stack bottom: the next push (to bottom - 8) hit the guard page.  The
# saved RIP is inside recurse: `info symbol` names it.
x/6gx $rsp
info symbol *(unsigned long *)($rsp + 8)

echo \n=== monitor stack: the stub's view of the current stack ===\n
# bottom equals current_task->stack, top is bottom + 16K, and RSP is the
# one the #DF interrupted (the live RSP is on the IST stack).  Notice
# "cr2 in guard page  yes": the signature of an overflow.
monitor stack

echo \n=== monitor cr2: what the faulting address is ===\n
# The last #PF's error code is 0x2: not-present page, write (a push),
# supervisor mode; CR2 "points at" the guard page of task "recurse".
monitor cr2

echo \n=== monitor walk $cr2: why it faulted ===\n
# PML4E, PDPTE and PDE are present (the vmalloc area is mapped), the PTE
# is not: the guard page is simply a hole in the last-level table.
monitor walk $cr2

echo \n=== monitor faults: the exception history ===\n
# The #PF was not delivered; the #DF raised while delivering it was,
# on IST 1: the chain reads "#PF -> #DF".
monitor faults

echo \n=== the same, from gdb's side (scripts/gdb helpers) ===\n
vs-stack
vs-pt $cr2
vs-tasks

echo \n=== let the #DF handler run until it panics ===\n
# do_double_fault sees CR2 within a page below task->stack and calls
# handle_stack_overflow, which prints the BUG line and panics.  Stop at
# panic (before the machine exits) and read the kernel's log buffer.
break panic
continue
# Now gdb's backtrace crosses the exception frame: panic <-
# handle_stack_overflow <- do_double_fault <- exception_dispatch, then
# "<signal handler called>" (the CPU's frame), then the recurse frames on
# the overflowed stack, 1000-odd of them: the first few are enough.
bt 8
# The kernel's log: the BUG line names the faulting address and the stack.
vs-dmesg

# End the session and the stub with it.
kill
