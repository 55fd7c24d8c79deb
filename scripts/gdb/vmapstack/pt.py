# pt.py - 4-level page-table walk from the gdb side: vs-pt.
#
# The walk reads the tables the way the kernel itself does: each table is
# a physical page, reached through the direct map at PAGE_OFFSET
# (0xffff888000000000 + phys), so it works with any stub that serves
# virtual memory (QEMU's too).  When the direct map cannot be read (paging
# not yet on, or a broken address space) it hands over to the stub's own
# walker, `monitor walk`, when the stub has one.
#
# Entry formats: Intel SDM Vol. 3A 4.5 (Tables 4-14 to 4-20).  Rights
# combine over the levels (SDM Vol. 3A 4.6): writable only if every level
# has RW, user only if every level has US, execute-disable if any level
# has XD (with EFER.NXE).

import gdb

from vmapstack import tasks, utils

LEVELS = ((4, "PML4E", 39), (3, "PDPTE", 30), (2, "PDE", 21), (1, "PTE", 12))
ADDR_MASK = 0x000FFFFFFFFFF000

# bit, name; bit 7 is PS in PDPTEs and PDEs, PAT in a PTE.
_FLAGS = ((0, "P"), (1, "RW"), (2, "US"), (3, "PWT"), (4, "PCD"), (5, "A"), (6, "D"), (7, "PS"), (8, "G"), (63, "NX"))


def flag_names(entry, level):
    out = []
    for bit, name in _FLAGS:
        if entry >> bit & 1:
            if bit == 7 and level == 1:
                name = "PAT"
            if bit == 6 and level > 1 and not entry >> 7 & 1:
                continue  # D is ignored in a non-leaf entry
            out.append(name)
    return " ".join(out) if out else "-"


def canonical(addr):
    top = addr >> 47
    return top == 0 or top == (1 << 17) - 1


class Step:
    def __init__(self, level, name, index, entry_phys, entry):
        self.level, self.name, self.index = level, name, index
        self.entry_phys, self.entry = entry_phys, entry

    @property
    def present(self):
        return self.entry & 1 == 1

    @property
    def leaf(self):
        return self.level == 1 or (self.level in (2, 3) and self.entry >> 7 & 1 == 1)


class Walk:
    """The result of walking addr through the tables at cr3."""

    def __init__(self, addr, cr3):
        self.addr, self.cr3 = addr, cr3
        self.steps = []
        self.phys = None  # the translation, when present
        self.page_size = 0
        self.writable = self.user = True
        self.nx = False

    @property
    def stopped_at(self):
        """The entry name where translation stops, or None when mapped."""
        if self.phys is not None or not self.steps:
            return None
        return self.steps[-1].name

    def rights(self):
        r = ["present", "RW" if self.writable else "ro"]
        if self.user:
            r.append("USR")
        if self.nx:
            r.append("NX")
        return " ".join(r)


def read_phys_u64(pa):
    """A quadword of physical memory, read through the direct map."""
    return utils.read_u64(utils.PAGE_OFFSET + pa)


def nxe_enabled():
    try:
        return utils.register("efer") >> 11 & 1 == 1
    except gdb.GdbError:
        return True


def walk(addr, cr3, read=read_phys_u64):
    if not canonical(addr):
        raise gdb.GdbError("0x%x is not canonical (bits 63:47 differ): no page table maps it, an access raises #GP" % addr)
    w = Walk(addr, cr3)
    nxe = nxe_enabled()
    table = cr3 & ADDR_MASK
    for level, name, shift in LEVELS:
        index = addr >> shift & 511
        entry_phys = table + 8 * index
        entry = read(entry_phys)
        s = Step(level, name, index, entry_phys, entry)
        w.steps.append(s)
        if not s.present:
            return w
        w.writable &= entry >> 1 & 1 == 1
        w.user &= entry >> 2 & 1 == 1
        if nxe and entry >> 63 & 1:
            w.nx = True
        if s.leaf:
            w.page_size = 1 << shift
            if level == 1:
                base = entry & ADDR_MASK
            else:
                base = entry & ADDR_MASK & ~((1 << shift) - 1)
            w.phys = base + (addr & (w.page_size - 1))
            return w
        table = entry & ADDR_MASK
    return w  # not reached: level 1 is always a leaf


def format_walk(w):
    lines = ["walk %s with CR3 0x%x (tables read through the direct map at %s)" % (
        utils.hex16(w.addr), w.cr3, utils.hex16(utils.PAGE_OFFSET))]
    for s in w.steps:
        if not s.present:
            what = "not present"
        elif s.leaf:
            what = "%s page %s" % (utils.fmt_size(1 << LEVELS[4 - s.level][2]), utils.hex16(w.phys & ~(w.page_size - 1)))
        else:
            what = "table %s" % utils.hex16(s.entry & ADDR_MASK)
        lines.append("%-5s [%3d]  at phys %s  = %s  %-22s  -> %s" % (
            s.name, s.index, utils.hex16(s.entry_phys), utils.hex16(s.entry),
            flag_names(s.entry, s.level) if s.present else "(P=0)", what))
    where = tasks.where(w.addr)
    tail = " (%s)" % where if where else ""
    if w.phys is not None:
        lines.append("=> %s -> phys %s: %s page, %s%s" % (
            utils.hex16(w.addr), utils.hex16(w.phys), utils.fmt_size(w.page_size), w.rights(), tail))
    else:
        lines.append("=> not present at %s: %s is not mapped%s" % (w.stopped_at, utils.hex16(w.addr), tail))
    return "\n".join(lines) + "\n"


def parse_cr3(text):
    """A CR3 value, or a pgd pointer (a direct-map address such as
    current_task->mm->pgd), which is turned into its physical address."""
    v = utils.parse_int(text, "CR3")
    if v >= utils.PAGE_OFFSET:
        v -= utils.PAGE_OFFSET
    return v


def monitor_walk(addr, cr3):
    """The stub's own walker, or None when the stub has no monitor."""
    try:
        return gdb.execute("monitor walk 0x%x 0x%x" % (addr, cr3), to_string=True)
    except gdb.error:
        return None


class VsPt(gdb.Command):
    """Walk the page tables for an address: PML4E, PDPTE, PDE, PTE.

Usage: vs-pt [-m] [ADDR [CR3]]

ADDR defaults to $cr2 (the last page-fault address).  CR3 defaults to the
live $cr3; it may also be a pgd pointer, e.g. current_task->mm->pgd or
init_mm.pgd (direct-map addresses are turned into physical ones).  Both are
gdb expressions; quote one with spaces.  Each level prints its index, the
entry's physical address and value and its flags (P RW US PWT PCD A D PS G
NX); the walk stops at the first entry without P.  The last line gives the
physical address and the combined rights, or the level where translation
stops, and says whose stack or guard page the address is.

The tables are read through the direct map (0xffff888000000000 + phys).
With -m, or when the direct map cannot be read, the stub's `monitor walk`
does the walk instead."""

    def __init__(self):
        super().__init__("vs-pt", gdb.COMMAND_DATA)

    @utils.gdb_errors("vs-pt")
    def invoke(self, arg, from_tty):
        utils.require_target("vs-pt")
        argv = gdb.string_to_argv(arg)
        use_monitor = False
        if argv and argv[0] in ("-m", "--monitor"):
            use_monitor = True
            argv = argv[1:]
        if len(argv) > 2:
            raise gdb.GdbError("too many arguments; usage: vs-pt [-m] [ADDR [CR3]]")
        addr = utils.parse_int(argv[0], "address") if argv else utils.register("cr2")
        cr3 = parse_cr3(argv[1]) if len(argv) > 1 else utils.register("cr3")
        if len(argv) < 2 and not utils.register("cr0") >> 31 & 1:
            raise gdb.GdbError("paging is off (CR0.PG=0): linear addresses are physical; give a CR3 to walk tables anyway")
        if use_monitor:
            out = monitor_walk(addr, cr3)
            if out is None:
                raise gdb.GdbError("the stub has no `monitor walk`")
            gdb.write(out)
            return
        try:
            w = walk(addr, cr3)
        except gdb.MemoryError as e:
            out = monitor_walk(addr, cr3)
            if out is None:
                raise gdb.GdbError("cannot read the page tables through the direct map (%s), and the stub has no `monitor walk`" % e)
            gdb.write("(the direct map is not readable: %s; using monitor walk)\n" % e)
            gdb.write(out)
            return
        gdb.write(format_walk(w))


VsPt()
