package cpu

import "golang.org/x/arch/x86/x86asm"

// SSE, SSE2 and SSE3 (SDM Vol. 1 ch. 10-12): not implemented yet; every
// such instruction raises #UD (logged once per address as unimplemented).

// sseOps are the instructions dispatched to execSSE.
var sseOps = []x86asm.Op{}

func (c *CPU) execSSE(in *inst) {
	c.undefined(in)
}
