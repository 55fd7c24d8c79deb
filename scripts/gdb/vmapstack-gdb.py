# vmapstack-gdb.py - loads the vmapstack gdb helpers (scripts/gdb/vmapstack).
#
#   (gdb) source scripts/gdb/vmapstack-gdb.py
#
# or let gdb auto-load it next to the kernel as kernel.elf-gdb.py (a
# symlink; see scripts/gdb/README.md).  Sourcing it again is harmless: the
# modules are imported once per gdb session, so commands are registered
# once.  Like Linux's vmlinux-gdb.py, it only sets up the import path.

import os
import sys

import gdb

# realpath: when auto-loaded through a symlink, __file__ is the link.
_here = os.path.dirname(os.path.realpath(__file__))
if _here not in sys.path:
    sys.path.insert(0, _here)

_first = "vmapstack.tasks" not in sys.modules
try:
    import vmapstack
    import vmapstack.utils
    import vmapstack.tasks
    import vmapstack.pt
    import vmapstack.stack
    import vmapstack.dmesg
except Exception as e:  # a broken install must not break the gdb session
    gdb.write("vmapstack: cannot load the gdb helpers from %s: %s\n" % (_here, e), gdb.STDERR)
else:
    if _first:
        gdb.write("vmapstack: loaded %s; functions %s (help vs-<TAB>)\n" % (
            ", ".join(vmapstack.COMMANDS), ", ".join(f + "()" for f in vmapstack.FUNCTIONS)))
