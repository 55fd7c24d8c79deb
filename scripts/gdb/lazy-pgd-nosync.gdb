# lazy-pgd-nosync.gdb - a double fault that is NOT a stack overflow.
#
# Run from the repository root (the `source` line below is relative to it):
#
#   go run ./cmd/stub --append 'scenario=lazy-pgd nosync' &   # 127.0.0.1:1234
#   gdb -batch -ex 'target remote :1234' -x scripts/gdb/lazy-pgd-nosync.gdb
#
# The story.  Kernel stacks live in the vmalloc area, and each address
# space (mm) has its own top-level table (PML4).  Linux copies vmalloc's
# top-level entries into an mm lazily: a missing one is normally fixed by
# the #PF handler (vmalloc_fault).  But a missing entry for the *stack you
# are running on* cannot be fixed that way: the #PF frame is pushed on that
# same stack, which is not mapped in the new address space, so the #PF
# becomes a #DF (Intel SDM Vol. 3A 6.15, Table 6-5).  That is why switch_mm
# copies the stack's top-level entry before loading CR3 (Linux:
# sync_current_stack_to_mm); "nosync" turns that copy off.
#
# Here task lazy-b's stack was vmalloc'ed in PML4 slot 403 after mm-c was
# created, so mm-c lacks slot 403.  When lazy-b switches to lazy-c,
# switch_mm(mm-b, mm-c) writes mm-c into CR3 while still on lazy-b's stack,
# and the very next push faults.  A #DF again, as in catch-overflow.gdb,
# but CR2 is inside the stack, not in its guard page: what is missing is a
# whole top-level entry, not one page.

set pagination off
set confirm off
set print pretty off
source scripts/gdb/vmapstack-gdb.py

# Stop when #DF is delivered (on IST 1, the always-mapped #DF stack).
monitor break-on df on

echo \n=== continue: lazy-c runs, switches to lazy-b, lazy-b switches back ===\n
# Notice the stub's stop message: #DF raised while delivering #PF, and
# "CR2 is inside the stack of task lazy-b ..., not in a guard page".
continue

echo \n=== who faulted, and where ===\n
# current_task is still lazy-b: switch_to has not run yet, only switch_mm.
p current_task->comm
# CR2 lies inside [stack, stack + 16K): not an overflow.
p/x $cr2
p/x current_task->stack
# The frame the CPU pushed on the IST stack: error code, RIP (in
# switch_mm, right after the CR3 write), CS, RFLAGS, RSP, SS.
x/6gx $rsp
info symbol *(unsigned long *)($rsp + 8)

echo \n=== whose page tables are loaded? ===\n
# CR3 already holds mm-c's PML4 (the next task's), while task lazy-b's own
# mm, mm-b, is the address space its stack is mapped in.  A pgd pointer is
# a direct-map address: minus 0xffff888000000000 it is CR3's value.
p/x $cr3
p task_table[1]->comm
p task_table[1]->mm->name
p/x (unsigned long)task_table[1]->mm->pgd - 0xffff888000000000
p current_task->mm->name

echo \n=== monitor stack: RSP is well inside the stack ===\n
# Plenty of room left, "cr2 in guard page  no": the stack did not
# overflow; it vanished from the address space.
monitor stack
vs-stack

echo \n=== monitor cr2 ===\n
# CR2 points at the stack of task "lazy-b", not at a guard page, and in
# this address space it is "not present at PML4E".
monitor cr2

echo \n=== the walk in the live address space (mm-c) stops at the top level ===\n
# `monitor` sends its text to the stub as it is, so gdb expressions are
# expanded with eval first.  The PML4E for slot 403 is empty in mm-c: the
# walk stops at the first level.
eval "monitor walk 0x%lx 0x%lx", current_task->stack, $cr3
vs-pt $cr2

echo \n=== the same address in mm-b, lazy-b's own address space ===\n
# Present: a 4K page, RW NX.  The stack is fine; mm-c just never got its
# top-level entry.
eval "monitor walk 0x%lx 0x%lx", current_task->stack, (unsigned long)current_task->mm->pgd - 0xffff888000000000
vs-pt current_task->stack current_task->mm->pgd

echo \n=== monitor faults ===\n
# The #PF on the push was not delivered; the #DF it raised was, on IST 1.
monitor faults

echo \n=== let the #DF handler run until it panics ===\n
# do_double_fault finds CR2 is not in the guard page, so it does not say
# "stack overflow": it prints "double fault" with the registers and panics.
break panic
continue
vs-dmesg

kill
