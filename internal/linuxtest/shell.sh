#!/bin/busybox sh
# The /init of the interactive boot test (internal/linuxtest): a busybox
# shell on the console, to be typed into over COM1. The test waits for
# the ready line before it types.
export PATH=/bin
mount -t proc proc /proc
# Only emergencies on the console: no kernel message inside the session.
dmesg -n 1
echo "=== vmapstack shell ready"
exec sh
