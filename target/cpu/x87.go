package cpu

import "golang.org/x/arch/x86/x86asm"

// The x87 FPU (SDM Vol. 1 ch. 8): not implemented yet; every x87
// instruction raises #UD (logged once per address as unimplemented).

// x87Ops are the instructions dispatched to execX87.
var x87Ops = []x86asm.Op{}

func (c *CPU) execX87(in *inst) {
	c.undefined(in)
}
