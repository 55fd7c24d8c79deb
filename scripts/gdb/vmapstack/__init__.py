# vmapstack - gdb helpers for the vmapstack mini kernel, in the shape of
# Linux's scripts/gdb/linux: one module per concern, each registering its
# commands and convenience functions when imported (once per gdb session).
#
#   tasks.py  vs-tasks, $vs_current()
#   stack.py  vs-stack, $vs_stack_bottom()
#   pt.py     vs-pt
#   dmesg.py  vs-dmesg
#   utils.py  cached type lookups, memory/register access, error handling

COMMANDS = ("vs-tasks", "vs-stack", "vs-pt", "vs-dmesg")
FUNCTIONS = ("$vs_current", "$vs_stack_bottom")
