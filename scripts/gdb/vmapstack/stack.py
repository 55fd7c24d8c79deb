# stack.py - a task's vmapped stack and its guard page: vs-stack and
# $vs_stack_bottom().
#
# A vmapped stack (Linux CONFIG_VMAP_STACK) is THREAD_SIZE bytes of
# vmalloc space, [task->stack, task->stack + THREAD_SIZE), with an unmapped
# page below it.  The stack grows down: RSP starts near the top, and an
# overflow runs into the guard page, which faults (#PF) instead of
# silently overwriting whatever lies below.  When the CPU cannot even push
# the #PF frame (RSP itself is in the guard page) the #PF turns into a #DF
# (SDM Vol. 3A 6.15, Table 6-5), delivered on IST1 (a separate, always
# mapped stack named by the TSS, SDM Vol. 3A 6.14.5): while the #DF
# handler runs, RSP is on that IST stack and the overflowed RSP is in the
# exception frame at the IST stack's top.

import gdb

from vmapstack import pt, tasks, utils

# The frame the CPU pushes on a 64-bit exception with an error code,
# below the (16-byte aligned) stack top: SS, RSP, RFLAGS, CS, RIP, error
# code (SDM Vol. 3A 6.14.2, Figure 6-9).  Offsets from the top.
FRAME_RSP = 16
FRAME_RIP = 40


def ist_stacks():
    """[(n, top, size)] of the IST stacks the TSS names; [] when unknown.

    The mini kernel's TSS is the static variable `tss`; its #DF stack is
    `doublefault_stack` (whose size applies to every IST stack here)."""
    try:
        tss = gdb.parse_and_eval("tss")
        ist = tss["ist"]
    except gdb.error:
        return []
    size = 4 * utils.PAGE_SIZE
    try:
        size = int(gdb.parse_and_eval("sizeof(doublefault_stack)"))
    except gdb.error:
        pass
    lo, hi = ist.type.strip_typedefs().range()
    out = []
    for i in range(lo, hi + 1):
        top = utils.to_int(ist[i])
        if top:
            out.append((i - lo + 1, top, size))
    return out


class StackInfo:
    def __init__(self, task):
        self.task = task
        self.bottom = task.stack
        self.end = task.stack_end  # exclusive
        self.rsp = None
        self.rsp_from = ""
        self.live_rsp = None  # RSP when it is not on this stack (an IST stack)

    @property
    def top(self):
        return self.end - 1

    @property
    def size(self):
        return self.end - self.bottom

    @property
    def guard(self):
        return self.bottom - utils.PAGE_SIZE, self.bottom


def stack_info(task):
    si = StackInfo(task)
    if not task.current:
        si.rsp, si.rsp_from = task.saved_sp, "thread.sp, saved by switch_to"
        return si
    rsp = utils.register("rsp")
    g0, _ = si.guard
    if g0 <= rsp <= si.end:
        si.rsp, si.rsp_from = rsp, "RSP"
        return si
    for n, top, size in ist_stacks():
        if top - size <= rsp <= top:
            frame = top & ~0xF
            try:
                interrupted = utils.read_u64(frame - FRAME_RSP)
                rip = utils.read_u64(frame - FRAME_RIP)
            except gdb.MemoryError:
                break
            si.rsp = interrupted
            si.rsp_from = "interrupted RSP, from the exception frame at the top of IST%d (faulting RIP %s)" % (
                n, utils.hex16(rip))
            si.live_rsp = rsp
            return si
    si.rsp, si.rsp_from = rsp, "RSP"
    return si


def guard_mapping(si):
    """How the guard page is mapped in the live address space."""
    g0, _ = si.guard
    try:
        w = pt.walk(g0, utils.register("cr3"))
    except (gdb.GdbError, gdb.MemoryError) as e:
        return "mapping unknown (%s)" % e
    if w.phys is None:
        return "not present at %s" % w.stopped_at
    return "MAPPED (%s page, %s): not a guard page" % (utils.fmt_size(w.page_size), w.rights())


def format_stack(si):
    t = si.task
    lines = []

    def line(k, v):
        lines.append("%-18s %s" % (k, v))

    size, source = utils.thread_size()
    line("task", "%s (task_struct %s)%s" % (t.label(), utils.hex16(t.addr), "  [current]" if t.current else ""))
    line("stack", "%s..%s  (THREAD_SIZE %s, %s)" % (utils.hex16(si.bottom), utils.hex16(si.top), utils.fmt_size(size), source))
    line("bottom", utils.hex16(si.bottom))
    line("top", "%s  (last byte; the stack grows down from %s)" % (utils.hex16(si.top), utils.hex16(si.end)))
    line("size", "%d bytes (%s)" % (si.size, utils.fmt_size(si.size)))
    label = "rsp" if t.current else "saved sp"
    line(label, "%s  (%s)" % (utils.hex16(si.rsp), si.rsp_from))
    if si.live_rsp is not None:
        line("live rsp", "%s  (on an IST stack, not on this one)" % utils.hex16(si.live_rsp))
    g0, g1 = si.guard
    if si.bottom <= si.rsp <= si.end:
        line("used", "%d bytes" % (si.end - si.rsp))
        line("left", "%d bytes" % (si.rsp - si.bottom))
    elif g0 <= si.rsp < si.bottom:
        line("used", "%d bytes: overflowed by %d bytes" % (si.end - si.rsp, si.bottom - si.rsp))
        line("left", "0 bytes")
    else:
        line("used", "unknown: %s is not on this stack" % label)
        line("left", "unknown")
    line("guard page", "%s..%s  (%s)" % (utils.hex16(g0), utils.hex16(g1 - 1), guard_mapping(si)))
    line("rsp in guard page", "yes" if g0 <= si.rsp < g1 else "no")
    cr2 = utils.register("cr2")
    if g0 <= cr2 < g1:
        line("cr2 in guard page", "yes (CR2 %s, %d bytes below the stack)" % (utils.hex16(cr2), si.bottom - cr2))
    elif si.bottom <= cr2 < si.end:
        line("cr2 in guard page", "no (CR2 %s is inside the stack, %d bytes above its bottom)" % (utils.hex16(cr2), cr2 - si.bottom))
    else:
        line("cr2 in guard page", "no (CR2 %s)" % utils.hex16(cr2))
    return "\n".join(lines) + "\n"


class VsStack(gdb.Command):
    """Show a task's vmapped stack: bounds, RSP, bytes used and left, guard page.

Usage: vs-stack [PID|NAME|TASK-EXPRESSION]

Without an argument: the current task.  bottom is task->stack, top its last
byte (bottom + THREAD_SIZE - 1).  For the current task RSP is the live
register; when the CPU is on an IST stack (the #DF handler) it is the RSP
the exception interrupted, read from the frame at the top of the IST stack.
For other tasks it is thread.sp, saved by switch_to.  The guard page is the
page below bottom; its line says how it is mapped now (it must be not
present), then whether RSP and CR2 lie in it: CR2 in the guard page is the
signature of a stack overflow."""

    def __init__(self):
        super().__init__("vs-stack", gdb.COMMAND_DATA)

    @utils.gdb_errors("vs-stack")
    def invoke(self, arg, from_tty):
        utils.require_kernel_running("vs-stack")
        task = tasks.find_task(arg) if arg.strip() else tasks.current()
        if task.stack == 0:
            raise gdb.GdbError("task %s has no stack (task->stack is NULL)" % task.label())
        gdb.write(format_stack(stack_info(task)))


class VsStackBottom(gdb.Function):
    """Return the lowest address of a task's stack (task->stack), as unsigned long.

Usage: $vs_stack_bottom([TASK])

TASK is a struct task_struct * (default: current_task), a pid, or a name
string.  Example: x/2gx $vs_stack_bottom() - 16"""

    def __init__(self):
        super().__init__("vs_stack_bottom")

    @utils.gdb_errors("$vs_stack_bottom")
    def invoke(self, *args):
        if len(args) > 1:
            raise gdb.GdbError("takes at most one argument (a task)")
        task = tasks.task_from_value(args[0]) if args else tasks.current()
        return gdb.Value(task.stack).cast(utils.ulong_type())


VsStack()
VsStackBottom()
