#!/bin/busybox sh
# The /init of the stack-overflow boot test (internal/linuxtest,
# OverflowInitramfs). It becomes insmod (exec: PID 1 stays, its program
# changes) and loads overflow.ko, whose init function recurses on this
# process's kernel stack until it hits the stack's guard page: the kernel
# reports the overflow and panics, and panic=-1 on the command line
# reboots at once, which ends QEMU (-no-reboot) and our stub.
#
# Why exec rather than a child insmod: PID 1's stack is allocated early in
# boot, in the same place on every machine. A forked child gets a stack
# whose address depends on whether a kworker has yet purged the vmalloc
# areas of stacks freed before, which depends on where timer interrupts
# fall: not the same instruction in QEMU (SeaBIOS runs first) and in ours,
# so the BUG line would differ between them for no fault of either.
#
# Should insmod ever return, PID 1 exits and the kernel panics with
# "Attempted to kill init!": the test then finds no BUG line and fails.
export PATH=/bin
mount -t proc proc /proc
echo "=== vmapstack overflow insmod"
exec insmod /overflow.ko
