package main

import "vmapstack/kernelimg"

// embeddedKernel is the default --kernel: the mini kernel built in
// kernelimg/.
var embeddedKernel = kernelimg.ELF

const embeddedKernelPath = "kernelimg/kernel.elf"
