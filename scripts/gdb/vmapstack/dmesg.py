# dmesg.py - the kernel's log buffer: vs-dmesg.
#
# The mini kernel copies every byte it writes to the console into
# log_buf[0..log_len) (Linux's log_buf, without the record structure), so
# the log is readable from the debugger even when the serial output went
# nowhere, e.g. the BUG line handle_stack_overflow printed before the
# machine stopped.

import gdb

from vmapstack import utils


def log_text():
    buf = utils.symbol_value("log_buf", "log_buf (the kernel's log buffer)")
    n = utils.to_int(utils.symbol_value("log_len"))
    cap = buf.type.strip_typedefs().sizeof
    if n > cap:
        raise gdb.GdbError("log_len %d exceeds sizeof(log_buf) %d: kernel data is corrupt" % (n, cap))
    if n == 0:
        return ""
    return utils.read_memory(utils.to_int(buf.address), n).decode("utf-8", "replace")


class VsDmesg(gdb.Command):
    """Print the kernel's log buffer, log_buf[0..log_len).

Usage: vs-dmesg"""

    def __init__(self):
        super().__init__("vs-dmesg", gdb.COMMAND_DATA)

    @utils.gdb_errors("vs-dmesg")
    def invoke(self, arg, from_tty):
        if arg.strip():
            raise gdb.GdbError("takes no arguments")
        utils.require_kernel_running("vs-dmesg")
        text = log_text()
        if not text:
            gdb.write("(the log is empty: the kernel has printed nothing yet)\n")
            return
        gdb.write(text if text.endswith("\n") else text + "\n")


VsDmesg()
