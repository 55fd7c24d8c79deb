# utils.py - type lookups (cached per symbol file), memory and register
# access, and the error handling every vs- command shares.
#
# Shaped after Linux's scripts/gdb/linux/utils.py: a type is looked up
# once and the cache is dropped when gdb loads or clears symbol files, so
# `file` with a rebuilt kernel.elf does not leave stale layouts behind.
# Values (current_task, task_table, registers) are never cached: they
# change every time the machine runs.

import functools

import gdb

# Linux x86-64 layout, as the mini kernel uses it (kernelimg/src/kernel.h).
PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT
PAGE_OFFSET = 0xFFFF888000000000  # direct map of all RAM: virt = phys + PAGE_OFFSET
DEFAULT_THREAD_SIZE = 16 << 10  # THREAD_SIZE on x86-64 Linux and in the mini kernel
MASK64 = (1 << 64) - 1

_cache = {}


def _clear_cache(_event=None):
    _cache.clear()


# A module is imported once per gdb session (sourcing the loader again is
# a no-op import), so these handlers are connected once.
gdb.events.new_objfile.connect(_clear_cache)
gdb.events.clear_objfiles.connect(_clear_cache)


def _cached(key, compute):
    if key not in _cache:
        _cache[key] = compute()
    return _cache[key]


def lookup_type(name):
    """gdb.Type for name ("struct task_struct", "unsigned long"), cached.

    Raises gdb.GdbError when the kernel's symbols are not loaded."""

    def compute():
        try:
            return gdb.lookup_type(name)
        except gdb.error:
            return None

    t = _cached(("type", name), compute)
    if t is None:
        _cache.pop(("type", name), None)  # retry after a later `file`
        raise gdb.GdbError(
            "no type %r: the kernel's symbols are not loaded "
            "(attach with `target remote` so gdb fetches kernel.elf, or `file kernelimg/kernel.elf`)" % name
        )
    return t


def ulong_type():
    return lookup_type("unsigned long")


def task_ptr_type():
    return lookup_type("struct task_struct").pointer()


def thread_size():
    """(THREAD_SIZE, where it came from).

    A macro is only in the DWARF with -g3; an enumerator or a variable
    named THREAD_SIZE/thread_size is used when the kernel has one (as
    kernelsym does on the stub side), else Linux x86-64's 16 KiB."""

    def compute():
        for name in ("THREAD_SIZE", "thread_size"):
            try:
                v = int(gdb.parse_and_eval(name))
            except gdb.error:
                continue
            if v > 0:
                return (v, name + " from the kernel's debug info")
        return (DEFAULT_THREAD_SIZE, "default, as x86-64 Linux")

    return _cached("thread_size", compute)


def task_states():
    """{value: name} of enum task_state, or {} when the kernel has none."""

    def compute():
        try:
            t = gdb.lookup_type("enum task_state")
        except gdb.error:
            return {}
        return {int(f.enumval): f.name for f in t.fields()}

    return _cached("task_states", compute)


def symbol_value(name, what=None):
    """The value of a kernel variable; a clear error when it is missing."""
    try:
        return gdb.parse_and_eval(name)
    except gdb.error as e:
        raise gdb.GdbError(
            "cannot read %s (%s): are the kernel's symbols loaded and the target attached?" % (what or name, e)
        )


def require_target(cmd):
    """Fail clearly when there is no live target to read from."""
    if gdb.selected_inferior().pid == 0 or gdb.selected_thread() is None:
        raise gdb.GdbError("%s: no target: attach first, e.g. `target remote :1234`" % cmd)


def require_kernel_running(cmd):
    """Fail clearly before the kernel has paging on: its variables live at
    virtual addresses (0xffffffff8...) that mean nothing until then."""
    require_target(cmd)
    if not register("cr0") >> 31 & 1:
        raise gdb.GdbError(
            "%s: paging is off (CR0.PG=0): the kernel has not built its address space yet, "
            "so its variables cannot be read; continue (e.g. `break start_kernel`) first" % cmd
        )


def register(name):
    """A register as an unsigned 64-bit int ($cr3, $rsp, ...)."""
    try:
        v = gdb.parse_and_eval("$" + name)
    except gdb.error as e:
        raise gdb.GdbError("cannot read $%s: %s" % (name, e))
    if v.type.code == gdb.TYPE_CODE_VOID:
        raise gdb.GdbError("the target has no register $%s (is this the vmapstack stub or QEMU?)" % name)
    return int(v) & MASK64


def to_int(v):
    """A gdb.Value (integer or pointer) as an unsigned 64-bit int."""
    if v.type.strip_typedefs().code == gdb.TYPE_CODE_PTR:
        v = v.cast(ulong_type())
    return int(v) & MASK64


def read_memory(addr, length):
    try:
        return bytes(gdb.selected_inferior().read_memory(addr, length))
    except gdb.MemoryError as e:
        raise gdb.MemoryError("cannot read %d bytes at 0x%016x: %s" % (length, addr, e))


def read_u64(addr):
    return int.from_bytes(read_memory(addr, 8), "little")


def hex16(v):
    """Addresses as the kernel console prints them: 16 lowercase digits."""
    return "0x%016x" % (v & MASK64)


def fmt_size(n):
    for unit, shift in (("G", 30), ("M", 20), ("K", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return "%d%s" % (n >> shift, unit)
    return "%d bytes" % n


def c_string(raw):
    """bytes up to the first NUL, decoded leniently (comm[16] may be full)."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def parse_int(text, what):
    """Evaluate a gdb expression to an unsigned int, with a clear error."""
    try:
        return to_int(gdb.parse_and_eval(text))
    except gdb.error as e:
        raise gdb.GdbError("%s %r: %s" % (what, text, e))


def gdb_errors(cmd):
    """Decorator for invoke methods: every failure becomes a gdb.GdbError
    naming the command (gdb then prints just the text, no traceback)."""

    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except gdb.GdbError as e:
                msg = str(e)
                if not msg.startswith(cmd + ":"):
                    msg = "%s: %s" % (cmd, msg)
                raise gdb.GdbError(msg)
            except gdb.MemoryError as e:
                raise gdb.GdbError("%s: %s" % (cmd, e))
            except gdb.error as e:
                raise gdb.GdbError("%s: %s" % (cmd, e))

        return inner

    return wrap
