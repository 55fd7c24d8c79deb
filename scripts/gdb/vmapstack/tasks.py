# tasks.py - the kernel's tasks: vs-tasks and $vs_current().
#
# The mini kernel keeps every task it ever created in task_table[0..nr_tasks)
# (pid = index; pid 0 is init_task, "swapper", on the boot stack) and the
# running one in current_task, as Linux's per-CPU current_task. Each
# task_struct has ->stack (lowest address of its THREAD_SIZE stack) and
# ->thread.sp (RSP saved by switch_to; stale while the task runs).

import gdb

from vmapstack import utils


class Task:
    """A snapshot of one task_struct, read from the target."""

    def __init__(self, ptr, current_addr):
        self.ptr = ptr  # gdb.Value, struct task_struct *
        self.addr = utils.to_int(ptr)
        t = ptr.dereference()
        self.pid = int(t["pid"])
        self.state = int(t["state"])
        self.comm = utils.c_string(utils.read_memory(utils.to_int(t["comm"].address), t["comm"].type.sizeof))
        self.stack = utils.to_int(t["stack"])
        self.saved_sp = utils.to_int(t["thread"]["sp"])
        size, _ = utils.thread_size()
        self.stack_end = self.stack + size  # exclusive
        self.current = self.addr == current_addr
        self.mm_name = ""
        try:
            mm = t["mm"]
            if utils.to_int(mm) != 0:
                self.mm_name = mm.dereference()["name"].string()
        except (gdb.error, gdb.MemoryError):
            self.mm_name = "?"

    @property
    def state_name(self):
        return utils.task_states().get(self.state, str(self.state))

    @property
    def guard_page(self):
        """[first, end) of the unmapped page below the stack."""
        return self.stack - utils.PAGE_SIZE, self.stack

    def label(self):
        return '"%s" pid %d' % (self.comm, self.pid)


def current_task_value():
    """current_task as a struct task_struct * gdb.Value."""
    v = utils.symbol_value("current_task", "current_task (the running task)")
    if utils.to_int(v) == 0:
        raise gdb.GdbError("current_task is NULL: the kernel has not run sched_init yet (continue past boot)")
    return v


def current_addr():
    try:
        return utils.to_int(utils.symbol_value("current_task"))
    except gdb.GdbError:
        return 0


def all_tasks():
    """Every task in task_table[0..nr_tasks), in pid order."""
    table = utils.symbol_value("task_table", "task_table (the kernel's task list)")
    n = int(utils.symbol_value("nr_tasks"))
    lo, hi = table.type.strip_typedefs().range()
    if n < 0 or n > hi - lo + 1:
        raise gdb.GdbError("nr_tasks is %d, outside task_table[%d]: kernel data is corrupt or not initialised" % (n, hi - lo + 1))
    cur = current_addr()
    tasks = []
    for i in range(n):
        p = table[i]
        if utils.to_int(p) == 0:
            continue
        tasks.append(Task(p, cur))
    return tasks


def current():
    return Task(current_task_value(), current_addr())


def find_task(arg):
    """A task by pid ("1"), name ("recurse"), or a task_struct * expression."""
    arg = arg.strip()
    tasks = all_tasks()
    if arg.isdigit():
        for t in tasks:
            if t.pid == int(arg):
                return t
        raise gdb.GdbError("no task with pid %s (pids: %s)" % (arg, " ".join(str(t.pid) for t in tasks)))
    name = arg.strip('"')
    for t in tasks:
        if t.comm == name:
            return t
    try:
        v = gdb.parse_and_eval(arg)
    except gdb.error:
        raise gdb.GdbError(
            "no task %r: give a pid, a name (%s) or a struct task_struct * expression"
            % (arg, ", ".join(t.comm for t in tasks))
        )
    return task_from_value(v)


def task_from_value(v):
    """A task from a gdb.Value: a task_struct pointer or struct, a pid, or a name string."""
    code = v.type.strip_typedefs().code
    if code == gdb.TYPE_CODE_STRUCT:
        v = v.address
        code = gdb.TYPE_CODE_PTR
    if code == gdb.TYPE_CODE_PTR:
        return Task(v.cast(utils.task_ptr_type()), current_addr())
    if code == gdb.TYPE_CODE_INT:
        return find_task(str(int(v)))
    if code == gdb.TYPE_CODE_ARRAY:
        return find_task(v.string())
    raise gdb.GdbError("cannot make a task out of a %s" % v.type)


def where(addr):
    """What addr belongs to: a task's stack or guard page, or ""."""
    try:
        tasks = all_tasks()
    except gdb.GdbError:
        return ""
    for t in tasks:
        if t.stack < utils.PAGE_SIZE:
            continue
        g0, g1 = t.guard_page
        if g0 <= addr < g1:
            return 'guard page of task %s (stack %s..%s), %d bytes below the stack' % (
                t.label(), utils.hex16(t.stack), utils.hex16(t.stack_end - 1), t.stack - addr)
        if t.stack <= addr < t.stack_end:
            return 'stack of task %s (%s..%s), %d bytes above its bottom' % (
                t.label(), utils.hex16(t.stack), utils.hex16(t.stack_end - 1), addr - t.stack)
    return ""


class VsTasks(gdb.Command):
    """List the kernel's tasks: pid, name, state, stack range, saved sp, mm.

Usage: vs-tasks

The stack range is [task->stack, task->stack + THREAD_SIZE - 1], printed as
the kernel's console prints it ("task N \"name\": stack 0x...").  The saved
sp is task->thread.sp, written by switch_to when the task was switched out:
for the current task (marked *) it is stale; its live stack pointer is RSP."""

    def __init__(self):
        super().__init__("vs-tasks", gdb.COMMAND_DATA)

    @utils.gdb_errors("vs-tasks")
    def invoke(self, arg, from_tty):
        if arg.strip():
            raise gdb.GdbError("takes no arguments")
        utils.require_kernel_running("vs-tasks")
        tasks = all_tasks()
        names = [('"%s"' % t.comm) for t in tasks]
        nw = max([6] + [len(n) for n in names])
        sw = max([5] + [len(t.state_name) for t in tasks])
        gdb.write("  %4s  %-*s  %-*s  %-38s  %-18s  %-18s  %s\n" % (
            "pid", nw, "name", sw, "state", "stack", "saved sp", "task_struct", "mm"))
        cur = None
        for t, n in zip(tasks, names):
            mark = " "
            if t.current:
                mark, cur = "*", t
            gdb.write("%s %4d  %-*s  %-*s  %s..%s  %s  %s  %s\n" % (
                mark, t.pid, nw, n, sw, t.state_name, utils.hex16(t.stack), utils.hex16(t.stack_end - 1),
                utils.hex16(t.saved_sp), utils.hex16(t.addr), t.mm_name or "-"))
        size, source = utils.thread_size()
        gdb.write("%d tasks; THREAD_SIZE %s (%s)\n" % (len(tasks), utils.fmt_size(size), source))
        if cur is not None:
            gdb.write("* current task %s: its saved sp is stale while it runs; RSP is %s\n" % (
                cur.label(), utils.hex16(utils.register("rsp"))))


class VsCurrent(gdb.Function):
    """Return current_task, the running task's struct task_struct *.

Usage: $vs_current()
Example: p $vs_current()->comm"""

    def __init__(self):
        super().__init__("vs_current")

    @utils.gdb_errors("$vs_current")
    def invoke(self):
        return current_task_value()


VsTasks()
VsCurrent()
