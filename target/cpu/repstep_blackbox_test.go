package cpu_test

import (
	"testing"

	"vmapstack/target/cpu"
)

// TestStepRepStringOneIteration: single-stepping a REP string instruction
// traps after each iteration (SDM Vol. 3A 17.3.1.4), so gdb's stepi over
// `rep stosb` with RCX=3 stops three times at the same RIP, as under QEMU.
// The same holds for the guest's own TF single-step.
func TestStepRepStringOneIteration(t *testing.T) {
	for _, bits := range []int{64, 32} {
		m := newAsm(t, bits, "rep stosb", func(ram []byte, s *cpu.State) {
			s.GPR[cpu.RAX] = 0x5a
			s.GPR[cpu.RDI] = dataAddr
			s.GPR[cpu.RCX] = 3
		})
		for i := 1; i <= 3; i++ {
			if e := m.c.Step(); e.Kind != cpu.ExitStep {
				t.Fatalf("%d-bit: step %d: %s", bits, i, m.describe(e))
			}
			st := m.c.State()
			wantRIP := uint64(codeAddr)
			if i == 3 {
				wantRIP = m.end // RCX reached 0: the instruction is done
			}
			if st.GPR[cpu.RCX] != uint64(3-i) || st.RIP != wantRIP || st.GPR[cpu.RDI] != dataAddr+uint64(i) {
				t.Errorf("%d-bit: after step %d: rcx %d rip %#x rdi %#x; want rcx %d rip %#x rdi %#x",
					bits, i, st.GPR[cpu.RCX], st.RIP, st.GPR[cpu.RDI], 3-i, wantRIP, dataAddr+uint64(i))
			}
			if got := m.ram[dataAddr+uint64(i-1)]; got != 0x5a {
				t.Errorf("%d-bit: step %d stored %#x, want 0x5a", bits, i, got)
			}
			if i < 3 && m.ram[dataAddr+uint64(i)] != 0 {
				t.Errorf("%d-bit: step %d ran past one iteration", bits, i)
			}
		}
	}
	// Run (not Step) still finishes the whole instruction at once.
	m := newAsm(t, 64, "rep stosb", func(ram []byte, s *cpu.State) {
		s.GPR[cpu.RDI] = dataAddr
		s.GPR[cpu.RCX] = 100
	})
	if st := m.complete(); st.GPR[cpu.RCX] != 0 || st.GPR[cpu.RDI] != dataAddr+100 {
		t.Errorf("Run: rcx %d rdi %#x, want 0 and %#x", st.GPR[cpu.RCX], st.GPR[cpu.RDI], dataAddr+100)
	}
}
