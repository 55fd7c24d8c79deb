// From an independent review: a full block table or arena resets the
// tier in the middle of a run, and the results stay the interpreter's.

package cpu

import (
	"testing"
)

func nativeResetLoopCode() []byte {
	return []byte{0xeb, 0x00,
		0x48, 0x01, 0xd8, // L: add rax, rbx
		0x48, 0x01, 0xc2, // add rdx, rax
		0x48, 0x89, 0x04, 0x24, // mov [rsp], rax
		0x48, 0x03, 0x34, 0x24, // add rsi, [rsp]
		0x48, 0xff, 0xc9, // dec rcx
		0x75, 0xed, // jne L
		0x48, 0x01, 0xd6, // add rsi, rdx
		0xf4}
}

func nativeResetRun(t *testing.T, prep func(c *CPU, round int)) [16]uint64 {
	c, _ := newWB(t, nativeResetLoopCode())
	c.SetReg(RBX, 3)
	c.SetReg(RCX, 5000)
	for round := 0; round < 2000 && !c.halted; round++ {
		if prep != nil {
			prep(c, round)
		}
		c.Run(c.Instret() + 97)
	}
	t.Logf("resets %d runs %d made %d halted %v", c.native.resets, c.native.runs, c.native.made, c.halted)
	return c.gpr
}

func TestNativeResetFromMarkAndTranslate(t *testing.T) {
	want := func() [16]uint64 {
		c, _ := newWB(t, nativeResetLoopCode())
		c.SetNativeTier(false)
		c.SetReg(RBX, 3)
		c.SetReg(RCX, 5000)
		c.Run(1 << 20)
		return c.gpr
	}()
	// table full at each mark, every few rounds
	got := nativeResetRun(t, func(c *CPU, round int) {
		if round < 50 && len(c.native.blocks) < nativeMaxBlocks {
			c.native.free = c.native.free[:0]
			for len(c.native.blocks) < nativeMaxBlocks {
				c.native.blocks = append(c.native.blocks, nativeBlock{})
			}
		}
	})
	if got != want {
		t.Errorf("table-full resets: regs differ\n%x\n%x", got, want)
	}
	// arena full at each translate, every few rounds
	got = nativeResetRun(t, func(c *CPU, round int) {
		if round < 50 {
			if c.native.arena == nil {
				c.native.arena, _ = newExecArena(nativeArenaSize)
			}
			c.native.arena.used = len(c.native.arena.x)
		}
	})
	if got != want {
		t.Errorf("arena-full resets: regs differ\n%x\n%x", got, want)
	}
}
