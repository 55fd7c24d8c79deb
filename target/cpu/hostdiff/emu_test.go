package hostdiff

// The emulator side, the trampoline both sides share, and the comparison.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"testing"

	"vmapstack/target/x86"

	"golang.org/x/arch/x86/x86asm"

	"vmapstack/target/cpu"
)

// Code layout: the trampoline starts at the case's entry offset, the
// instruction under test follows its prologue; the register blocks live
// at the end of the second code page and are reached RIP-relative, so
// the trampoline needs no register to find them (every GPR, RSP
// included, carries test values while the instruction runs).
const (
	offIn       = 0x1c00 // 16 input GPRs
	offInFlags  = 0x1c80 // input RFLAGS, popped by POPFQ
	offOut      = 0x1d00 // 16 output GPRs
	offOutFlags = 0x1d80 // output RFLAGS, pushed by PUSHFQ
	offSave     = 0x1e00 // the caller's RSP, RBX, RBP, R12-R15
)

var savedRegs = []int{rSP, rBX, rBP, 12, 13, 14, 15}

// asmBuf assembles the few fixed instructions of the trampoline.
type asmBuf struct {
	b     []byte
	start int // region offset of b[0]
}

// ripMov emits MOV [RIP+target], reg (store) or MOV reg, [RIP+target]:
// REX.W 89/8B /r with mod 00 r/m 101, 7 bytes.
func (a *asmBuf) ripMov(store bool, reg int, target int) {
	rex := byte(0x48)
	if reg >= 8 {
		rex |= 4
	}
	op := byte(0x8b)
	if store {
		op = 0x89
	}
	a.b = append(a.b, rex, op, byte(reg&7)<<3|5)
	a.disp(target)
}

func (a *asmBuf) disp(target int) {
	next := a.start + len(a.b) + 4
	d := int32(target - next)
	a.b = binary.LittleEndian.AppendUint32(a.b, uint32(d))
}

// leaRSP emits LEA RSP, [RIP+target].
func (a *asmBuf) leaRSP(target int) {
	a.b = append(a.b, 0x48, 0x8d, 0x25)
	a.disp(target)
}

// fx emits FXSAVE (ext 0) or FXRSTOR (ext 1) [RIP+target]: 0F AE /0 or
// /1 with mod 00 r/m 101, 7 bytes. Without REX.W: the image has the
// 32-bit FPU pointer format (SDM Vol. 2A FXSAVE), which no comparison
// reads.
func (a *asmBuf) fx(ext byte, target int) {
	a.b = append(a.b, 0x0f, 0xae, ext<<3|5)
	a.disp(target)
}

// nop7 is the 7-byte NOP 0F 1F 80 00000000 (SDM Vol. 2B NOP, Table 4-12).
var nop7 = []byte{0x0f, 0x1f, 0x80, 0, 0, 0, 0}

// trampoline returns the code page contents up to the register blocks:
// save the Go registers, load RFLAGS and the sixteen GPRs, the
// instruction, store the sixteen GPRs and RFLAGS, CLD, restore, RET.
// With fp, it also saves the caller's FP state (FXSAVE), loads the case's
// (FXRSTOR) before the GPRs, stores the state after the instruction
// (FXSAVE) and restores the caller's before returning (the Go ABI
// expects its MXCSR and x87 control word, and X15 is reloaded by the
// ABI wrapper anyway). Without fp, two 7-byte NOPs take the place of the
// first two so the instruction is at the same offset (insnOff) in every
// case; the emulator's FXSAVE and FXRSTOR thus only run in FP cases.
func trampoline(code []byte, entry int, fp bool) []byte {
	a := &asmBuf{start: entry}
	for i, r := range savedRegs {
		a.ripMov(true, r, offSave+8*i)
	}
	if fp {
		a.fx(0, offFPSave)
		a.fx(1, offFPIn)
	} else {
		a.b = append(a.b, nop7...)
		a.b = append(a.b, nop7...)
	}
	a.leaRSP(offInFlags)
	a.b = append(a.b, 0x9d) // POPFQ
	for r := 0; r < 16; r++ {
		if r != rSP {
			a.ripMov(false, r, offIn+8*r)
		}
	}
	a.ripMov(false, rSP, offIn+8*rSP)
	a.b = append(a.b, code...)
	for r := 0; r < 16; r++ {
		a.ripMov(true, r, offOut+8*r)
	}
	if fp {
		a.fx(0, offFPOut)
	}
	a.leaRSP(offOutFlags + 8)
	a.b = append(a.b, 0x9c, 0xfc) // PUSHFQ; CLD (the Go ABI wants DF=0)
	if fp {
		a.fx(1, offFPSave)
	}
	for i, r := range savedRegs {
		a.ripMov(false, r, offSave+8*i)
	}
	a.b = append(a.b, 0xc3) // RET
	return a.b
}

// insnOff is the code-page offset of the instruction under test.
// (seven 7-byte saves, FXSAVE and FXRSTOR or two 7-byte NOPs, LEA and
// POPFQ, sixteen 7-byte loads).
var insnOff = len(savedRegs)*7 + 2*7 + 7 + 1 + 16*7

// codePage builds the code pages for a case: the trampoline and the
// input blocks (the output blocks are zero).
func codePage(c *testCase) []byte {
	p := make([]byte, codeSize)
	t := trampoline(c.code, c.entry, c.fp != nil)
	if c.entry+len(t) > offFPIn {
		panic("trampoline overlaps its data")
	}
	copy(p[c.entry:], t)
	if c.fp != nil {
		copy(p[offFPIn:], c.fp.in.image())
	}
	for r, v := range c.regs {
		binary.LittleEndian.PutUint64(p[offIn+8*r:], v)
	}
	// IF=1 as in user mode (POPFQ at CPL 3 ignores it; the emulator,
	// running the trampoline at CPL 0, loads it). Bit 1 reads as 1.
	binary.LittleEndian.PutUint64(p[offInFlags:], c.flags|0x202)
	return p
}

// result is the state after the instruction.
type result struct {
	regs  [16]uint64
	flags uint64
	data  []byte
	fp    fpState // FP cases only
}

// emulator runs cases on package cpu: 64-bit mode at CPL 3, with 4-level
// page tables mapping the region at the same linear address as on the
// host. The IDT is empty (limit 0), so any exception ends in a triple
// fault whose first event names the vector.
type emulator struct {
	c    *cpu.CPU
	ram  []byte
	init cpu.State
	base uint64
	// events is EventCount before the last run.
	events uint64
	// fxOK: the emulator executes FXSAVE and FXRSTOR, so FP cases can
	// run the whole trampoline too (see probeFX).
	fxOK bool
}

// probeFX says whether the emulator implements FXSAVE and FXRSTOR: it
// runs FXSAVE [RIP+x]; FXRSTOR [RIP+x] in the data region. Until they
// are, FP cases whose turn it is to run the trampoline are stepped
// instead (TestHostDiff logs it); the trampoline of an FP case needs
// both.
func (e *emulator) probeFX() bool {
	code := make([]byte, codeSize)
	a := &asmBuf{start: 0x200}
	a.fx(0, offFPSave)
	a.fx(1, offFPSave)
	copy(code[0x200:], a.b)
	if err := e.writeRegion(code, make([]byte, dataSize)); err != nil {
		return false
	}
	s := e.init
	s.RIP = e.base + 0x200
	e.events = e.c.EventCount()
	e.c.SetState(&s)
	for i := 0; i < 2; i++ {
		if ex := e.c.Step(); ex.Kind != cpu.ExitStep || e.c.EventCount() != e.events {
			return false
		}
	}
	return e.c.RIP() == e.base+0x200+uint64(len(a.b))
}

const (
	physRegion = 0x10000 // the four region pages, not in order (physPage)
	emuRAM     = 0x20000
	pml4Phys   = 0x1000
)

// physPage is where region page i lives in the emulator's RAM: scattered,
// so that an access or a fetch straddling two linear pages is split
// across physical pages that are not adjacent.
func physPage(i int) uint64 { return physRegion + uint64([]int{1, 4, 0, 3, 2}[i])*pageSize }

// writeRegion copies the code pages (if code is not nil) and the data
// into the emulator's RAM through WritePhys, which drops decoded code.
func (e *emulator) writeRegion(code, data []byte) error {
	for i := 0; i < regionSize/pageSize; i++ {
		var src []byte
		if i < codeSize/pageSize {
			if code == nil {
				continue
			}
			src = code[i*pageSize : (i+1)*pageSize]
		} else {
			src = data[i*pageSize-dataOff : (i+1)*pageSize-dataOff]
		}
		if _, err := e.c.WritePhys(physPage(i), src); err != nil {
			return err
		}
	}
	return nil
}

// readRegion returns the emulator's code pages and data.
func (e *emulator) readRegion() (code, data []byte) {
	for i := 0; i < regionSize/pageSize; i++ {
		b := e.ram[physPage(i) : physPage(i)+pageSize]
		if i < codeSize/pageSize {
			code = append(code, b...)
		} else {
			data = append(data, b...)
		}
	}
	return code, data
}

type nopBus struct{}

func (nopBus) In(port uint16, size int) uint32       { return 0xffffffff }
func (nopBus) Out(port uint16, size int, val uint32) {}
func (nopBus) Ack() (vector uint8, ok bool)          { return 0, false }

func newEmulator(lay layout) (*emulator, error) {
	base := lay.base
	ram := make([]byte, emuRAM)
	next := uint64(pml4Phys + pageSize)
	const pte = 1 | 2 | 4 // P, R/W, U/S
	// mapPage walks PML4 -> PDPT -> PD -> PT (SDM Vol. 3A 4.5),
	// allocating tables below physRegion.
	mapPage := func(lin, phys uint64) error {
		table := uint64(pml4Phys)
		for _, shift := range []uint{39, 30, 21} {
			e := table + 8*(lin>>shift&511)
			v := binary.LittleEndian.Uint64(ram[e:])
			if v&1 == 0 {
				if next >= physRegion {
					return fmt.Errorf("map %#x: out of page-table pages", lin)
				}
				v = next | pte
				next += pageSize
				binary.LittleEndian.PutUint64(ram[e:], v)
			}
			table = v &^ 0xfff
		}
		binary.LittleEndian.PutUint64(ram[table+8*(lin>>12&511):], phys|pte)
		return nil
	}
	for i := 0; i < regionSize/pageSize; i++ {
		if err := mapPage(base+uint64(i)*pageSize, physPage(i)); err != nil {
			return nil, err
		}
	}
	var s cpu.State
	s.Seg[cpu.CS] = cpu.Seg{Sel: 0x33, Limit: 0xffffffff, Attr: 0xa0fb} // 64-bit code, DPL 3
	data := cpu.Seg{Sel: 0x2b, Limit: 0xffffffff, Attr: 0xc0f3}         // data, DPL 3
	for _, i := range []int{cpu.ES, cpu.SS, cpu.DS, cpu.FS, cpu.GS} {
		s.Seg[i] = data
	}
	// In 64-bit mode only the FS and GS bases apply (SDM Vol. 3A 3.4.4).
	s.Seg[cpu.FS].Base, s.Seg[cpu.GS].Base = lay.fsBase, lay.gsBase
	s.LDTR = cpu.Seg{Attr: 0x82, Limit: 0xffff}
	s.TR = cpu.Seg{Attr: 0x8b, Limit: 0x67}
	// CR0 and CR4 as Linux sets them for user code: MP and NE (WAIT
	// checks TS, x87 errors are #MF), EM and TS clear, OSFXSR and
	// OSXMMEXCPT set (SSE enabled, unmasked SIMD exceptions raise #XM:
	// SDM Vol. 3A 2.5, 13.1.3).
	s.CR0 = 1<<31 | 1<<16 | 1<<5 | 1<<4 | 1<<1 | 1 // PG WP NE ET MP PE
	s.CR3 = pml4Phys
	s.CR4 = 1<<5 | 1<<9 | 1<<10   // PAE OSFXSR OSXMMEXCPT
	s.EFER = 1<<8 | 1<<10 | 1<<11 // LME LMA NXE
	s.FCTRL, s.FTAG, s.MXCSR = 0x37f, 0xffff, 0x1f80
	e := &emulator{ram: ram, init: s, base: base}
	e.c = cpu.New(ram, nopBus{}, nopBus{})
	e.fxOK = e.probeFX()
	return e, nil
}

// firstEvent returns the first exception of the last run, if any.
func (e *emulator) firstEvent() (cpu.Event, bool) {
	for _, ev := range e.c.Events() {
		if ev.Seq > e.events {
			return ev, true
		}
	}
	return cpu.Event{}, false
}

// run executes the case's instruction and returns the state after it.
func (e *emulator) run(c *testCase, page []byte) (result, error) {
	if err := e.writeRegion(page, c.data); err != nil {
		return result{}, err
	}
	s := e.init
	if c.n/4%2 == 1 && !strings.Contains(c.name, "popf") {
		// Every other group of four cases (each way of running below,
		// at both levels) runs at CPL 0: user-level
		// instructions behave the same there (POPF, which may change IF
		// at CPL 0, stays at CPL 3), but the emulator's TLB and fetch
		// paths are per privilege level.
		s.Seg[cpu.CS] = cpu.Seg{Sel: 0x08, Limit: 0xffffffff, Attr: 0xa09b}
		s.Seg[cpu.SS] = cpu.Seg{Sel: 0x10, Limit: 0xffffffff, Attr: 0xc093}
	}
	s.GPR = c.regs
	s.RFLAGS = c.flags | 0x202 // IF=1 as in user mode; bit 1 reads as 1
	if c.fp != nil {
		c.fp.in.toCPU(&s)
	}
	rip := e.base + uint64(c.entry+insnOff)
	s.RIP = rip
	events := e.c.EventCount()
	e.events = events
	e.c.SetState(&s)
	end := rip + uint64(len(c.code))
	var after cpu.State
	fail := func(what string, ex cpu.Exit) error {
		msg := fmt.Sprintf("%s: exit kind %d, RIP %#x (want %#x)", what, ex.Kind, after.RIP, end)
		if ex.Err != nil {
			msg += ": " + ex.Err.Error()
		}
		if ev, ok := e.firstEvent(); ok {
			msg += fmt.Sprintf("; exception vector %d error %#x at RIP %#x", ev.Vector, ev.ErrorCode, ev.RIP)
		}
		return fmt.Errorf("%s", msg)
	}
	mode := c.n % 4
	if mode == 3 && c.fp != nil && !e.fxOK {
		mode = 0
	}
	switch mode {
	case 3:
		return e.runTrampoline(c, s)
	case 1:
		// These cases go through Run, the interpreter's fast loop the
		// kernel runs in, up to a breakpoint on the epilogue ("the
		// instruction there has not run").
		e.c.SetBreakpoint(end, true)
		ex := e.c.Run(e.c.Instret() + 100)
		e.c.SetBreakpoint(end, false)
		after = e.c.State()
		if ex.Kind != cpu.ExitBreakpoint || after.RIP != end || e.c.EventCount() != events {
			return result{}, fail("Run", ex)
		}
	default:
		// The others Step until RIP reaches the epilogue. A REP string
		// instruction may take a step per iteration, as single-stepping
		// it with TF does on hardware (SDM Vol. 3A 18.3.1.4).
		for steps := 0; ; steps++ {
			ex := e.c.Step()
			after = e.c.State()
			if ex.Kind == cpu.ExitStep && e.c.EventCount() == events && after.RIP == end {
				break
			}
			if ex.Kind == cpu.ExitStep && e.c.EventCount() == events && steps < 64 && after.RIP >= rip && after.RIP < end {
				continue
			}
			return result{}, fail(fmt.Sprintf("Step %d", steps+1), ex)
		}
	}
	out := result{regs: after.GPR, flags: after.RFLAGS}
	_, out.data = e.readRegion()
	if c.fp != nil {
		out.fp = fromCPU(&after)
	}
	return out, nil
}

// runTrampoline runs the whole trampoline in the emulator, from its
// first instruction to its RET, exactly the code the host ran: the
// prologue's stores into the code page it executes from (which must
// drop decoded instructions of that page), POPFQ, the RIP-relative loads,
// the instruction, the stores and PUSHFQ. The results are read from the
// emulated output blocks. It runs twice (the data restored in between)
// and both runs must agree.
func (e *emulator) runTrampoline(c *testCase, s cpu.State) (result, error) {
	entry := e.base + uint64(c.entry)
	ret := entry + uint64(len(trampoline(c.code, c.entry, c.fp != nil))) - 1
	s.RIP = entry
	e.c.SetState(&s)
	var runs [2]result
	for i := range runs {
		if i == 1 {
			if err := e.writeRegion(nil, c.data); err != nil {
				return result{}, err
			}
			e.c.SetRIP(entry)
		}
		e.c.SetBreakpoint(ret, true)
		ex := e.c.Run(e.c.Instret() + 200)
		e.c.SetBreakpoint(ret, false)
		if ex.Kind != cpu.ExitBreakpoint || e.c.RIP() != ret || e.c.EventCount() != e.events {
			msg := fmt.Sprintf("trampoline run %d: exit kind %d at RIP %#x (want the RET at %#x)", i+1, ex.Kind, e.c.RIP(), ret)
			if ex.Err != nil {
				msg += ": " + ex.Err.Error()
			}
			if ev, ok := e.firstEvent(); ok {
				msg += fmt.Sprintf("; exception vector %d error %#x at RIP %#x", ev.Vector, ev.ErrorCode, ev.RIP)
			}
			return result{}, fmt.Errorf("%s", msg)
		}
		var code []byte
		code, runs[i].data = e.readRegion()
		for r := range runs[i].regs {
			runs[i].regs[r] = binary.LittleEndian.Uint64(code[offOut+8*r:])
		}
		runs[i].flags = binary.LittleEndian.Uint64(code[offOutFlags:])
		if c.fp != nil {
			runs[i].fp = parseFX(code[offFPOut : offFPOut+fxSize])
		}
	}
	if runs[0].regs != runs[1].regs || runs[0].flags != runs[1].flags || !bytes.Equal(runs[0].data, runs[1].data) || runs[0].fp != runs[1].fp {
		return result{}, fmt.Errorf("trampoline: the second run differs from the first (regs %x vs %x, flags %#x vs %#x)",
			runs[0].regs, runs[1].regs, runs[0].flags, runs[1].flags)
	}
	return runs[0], nil
}

// ---------------------------------------------------------------------
// Comparison and reporting.

var flagNames = []struct {
	bit  uint64
	name string
}{{x86.FlagCF, "CF"}, {x86.FlagPF, "PF"}, {x86.FlagAF, "AF"}, {x86.FlagZF, "ZF"}, {x86.FlagSF, "SF"}, {x86.FlagIF, "IF"}, {x86.FlagDF, "DF"}, {x86.FlagOF, "OF"}}

func flagString(f uint64) string {
	var s []string
	for _, n := range flagNames {
		if f&n.bit != 0 {
			s = append(s, n.name)
		}
	}
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, " ")
}

// diff lists what differs between the native and the emulated result,
// ignoring what the SDM leaves undefined for the case.
func diff(c *testCase, nat, emu result) []string {
	var d []string
	for r := 0; r < 16; r++ {
		if c.undefRegs&(1<<r) == 0 && nat.regs[r] != emu.regs[r] {
			d = append(d, strings.ToUpper(regNames64[r]))
		}
	}
	m := uint64(fCompared) &^ c.undefFlags
	if x := (nat.flags ^ emu.flags) & m; x != 0 {
		d = append(d, "flags["+flagString(x)+"]")
	}
	for i := range nat.data {
		if c.memUndefined(i) {
			continue
		}
		if nat.data[i] != emu.data[i] {
			d = append(d, "memory")
			break
		}
	}
	if c.fp != nil {
		d = append(d, fpDiff(c.fp, &nat.fp, &emu.fp)...)
	}
	return d
}

// memUndefined says whether data-region offset i is undefined after the
// case.
func (c *testCase) memUndefined(i int) bool {
	if i >= c.undefMemOff && i < c.undefMemOff+c.undefMemLen {
		return true
	}
	for _, r := range c.undefMem {
		if i >= r[0] && i < r[0]+r[1] {
			return true
		}
	}
	return false
}

func disasm(code []byte, pc uint64) string {
	in, err := x86asm.Decode(code, 64)
	if err != nil {
		return "(x86asm: " + err.Error() + ")"
	}
	return x86asm.IntelSyntax(in, pc, nil) + "  |  " + x86asm.GNUSyntax(in, pc, nil)
}

// describe formats a case and both outcomes for a failure message.
func describe(c *testCase, nat *result, emu *result, emuErr error, base uint64) string {
	insnAddr := base + uint64(c.entry+insnOff)
	var b strings.Builder
	fmt.Fprintf(&b, "case %d [%s] at %#x: % x   %s\n", c.n, c.name, insnAddr, c.code, disasm(c.code, insnAddr))
	fmt.Fprintf(&b, "  input  flags %-20s", flagString(c.flags))
	for r := 0; r < 16; r++ {
		if r%4 == 0 {
			b.WriteString("\n   ")
		}
		fmt.Fprintf(&b, " %3s=%016x", regNames64[r], c.regs[r])
	}
	b.WriteString("\n")
	if c.undefFlags != 0 || c.undefRegs != 0 || c.undefMemLen != 0 || len(c.undefMem) != 0 {
		fmt.Fprintf(&b, "  undefined (not compared): flags %s regs %#04x memory %d bytes %v\n", flagString(c.undefFlags), c.undefRegs, c.undefMemLen, c.undefMem)
	}
	if c.fp != nil {
		b.WriteString(fpInput(c.fp))
		if c.fp.memLen > 0 {
			fmt.Fprintf(&b, "    memory operand at %#x: % x\n", base+dataOff+uint64(c.fp.memOff), c.data[c.fp.memOff:c.fp.memOff+c.fp.memLen])
		}
	}
	if nat != nil {
		// Only the registers that differ are listed; the rest are equal.
		fmt.Fprintf(&b, "  native   flags %-20s", flagString(nat.flags&fCompared))
		if emu != nil {
			for r := 0; r < 16; r++ {
				if nat.regs[r] != emu.regs[r] {
					fmt.Fprintf(&b, " %s=%016x", regNames64[r], nat.regs[r])
				}
			}
		}
		b.WriteString("\n")
	}
	if emuErr != nil {
		fmt.Fprintf(&b, "  emulator: %v\n", emuErr)
	} else if emu != nil {
		fmt.Fprintf(&b, "  emulator flags %-20s", flagString(emu.flags&fCompared))
		for r := 0; r < 16; r++ {
			if nat.regs[r] != emu.regs[r] {
				fmt.Fprintf(&b, " %s=%016x", regNames64[r], emu.regs[r])
			}
		}
		b.WriteString("\n")
		if !bytes.Equal(nat.data, emu.data) {
			for i := range nat.data {
				if nat.data[i] != emu.data[i] && !c.memUndefined(i) {
					lo := i &^ 7
					fmt.Fprintf(&b, "  memory at %#x: native % x, emulator % x\n", base+dataOff+uint64(lo),
						nat.data[lo:lo+8], emu.data[lo:lo+8])
					break
				}
			}
		}
		if c.fp != nil {
			b.WriteString(fpOutcome(c.fp, &nat.fp, &emu.fp))
		}
	}
	return b.String()
}

// tally groups mismatches by case name and what differed, keeping the
// first example of each.
type tally struct {
	count  map[string]int
	first  map[string]string
	family map[string]string
	order  []string
	total  int
	// ud: instruction forms the emulator answers with #UD, by family
	// and name: count and an encoding.
	ud map[string]map[string]*udForm
}

type udForm struct {
	n    int
	code string
}

func newTally() *tally {
	return &tally{count: map[string]int{}, first: map[string]string{}, family: map[string]string{},
		ud: map[string]map[string]*udForm{}}
}

// addUD records an instruction the emulator does not implement.
func (t *tally) addUD(c *testCase, code string) {
	m := t.ud[c.family]
	if m == nil {
		m = map[string]*udForm{}
		t.ud[c.family] = m
	}
	if m[c.name] == nil {
		m[c.name] = &udForm{code: code}
	}
	m[c.name].n++
	t.total++
}

// groupKey names a kind of mismatch: the case name and what differed,
// with the registers generalised (the same bug hits whichever register
// the generator picked).
func groupKey(name string, d []string) string {
	seen := map[string]bool{}
	var parts []string
	for _, x := range d {
		switch {
		case strings.HasPrefix(x, "XMM"):
			x = "XMM"
		case strings.HasPrefix(x, "ST"):
			x = "ST"
		case strings.HasPrefix(x, "host "):
			x = "host outside the SDM bound"
		case strings.HasPrefix(x, "flags"), strings.HasPrefix(x, "FSW"), x == "memory", x == "MXCSR", x == "FCW", x == "tags":
		default:
			x = "GPR"
		}
		if !seen[x] {
			seen[x] = true
			parts = append(parts, x)
		}
	}
	return name + " -> " + strings.Join(parts, " ")
}

func (t *tally) add(family, key, example string) {
	if t.count[key] == 0 {
		t.order = append(t.order, key)
		t.first[key] = example
		t.family[key] = family
	}
	t.count[key]++
	t.total++
}

func (t *tally) report(tb testing.TB) {
	keys := append([]string(nil), t.order...)
	sort.Slice(keys, func(i, j int) bool { return t.count[keys[i]] > t.count[keys[j]] })
	for _, k := range keys {
		tb.Errorf("%d mismatches like this one (%s):\n%s", t.count[k], k, t.first[k])
	}
	fams := make([]string, 0, len(t.ud))
	for f := range t.ud {
		fams = append(fams, f)
	}
	sort.Strings(fams)
	for _, f := range fams {
		var forms []string
		n := 0
		for name, u := range t.ud[f] {
			forms = append(forms, fmt.Sprintf("%s (%s)", strings.TrimPrefix(name, f+" "), u.code))
			n += u.n
		}
		sort.Strings(forms)
		more := ""
		if len(forms) > 4 {
			forms, more = forms[:4], ", ... (-mismatches FILE lists them all)"
		}
		tb.Errorf("family %s: the emulator raises #UD (not implemented) in %d cases, %d forms: %s%s", f, n, len(t.ud[f]), strings.Join(forms, "; "), more)
	}
}

// write writes the mismatches to a file for the people fixing them:
// the instructions the emulator does not implement, then per family
// (most mismatches first) each kind of mismatch with its count and first
// example, most frequent first.
func (t *tally) write(path, header string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# hostdiff mismatches: %s\n# host: %s\n# %d mismatching cases (written by TestHostDiff -mismatches)\n\n",
		header, hostCPU(), t.total)
	fams := make([]string, 0, len(t.ud))
	for f := range t.ud {
		fams = append(fams, f)
	}
	sort.Strings(fams)
	if len(fams) > 0 {
		b.WriteString("== Not implemented in the emulator (#UD where the host executes the instruction)\n")
		for _, f := range fams {
			var forms []string
			for name, u := range t.ud[f] {
				forms = append(forms, fmt.Sprintf("%s [%s] x%d", strings.TrimPrefix(name, f+" "), u.code, u.n))
			}
			sort.Strings(forms)
			fmt.Fprintf(&b, "%s: %s\n", f, strings.Join(forms, "; "))
		}
		b.WriteString("\n")
	}
	perFam := map[string]int{}
	for k, n := range t.count {
		perFam[t.family[k]] += n
	}
	fams = fams[:0]
	for f := range perFam {
		fams = append(fams, f)
	}
	sort.Slice(fams, func(i, j int) bool {
		if perFam[fams[i]] != perFam[fams[j]] {
			return perFam[fams[i]] > perFam[fams[j]]
		}
		return fams[i] < fams[j]
	})
	for _, f := range fams {
		var keys []string
		for _, k := range t.order {
			if t.family[k] == f {
				keys = append(keys, k)
			}
		}
		sort.SliceStable(keys, func(i, j int) bool { return t.count[keys[i]] > t.count[keys[j]] })
		fmt.Fprintf(&b, "== family %s: %d mismatches in %d kinds\n", f, perFam[f], len(keys))
		for _, k := range keys {
			fmt.Fprintf(&b, "\n-- %d x %s\n%s", t.count[k], k, t.first[k])
		}
		b.WriteString("\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// hostCPU is the host's processor model, for the mismatch file.
func hostCPU() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOOS + "/" + runtime.GOARCH
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			if i := strings.Index(l, ":"); i >= 0 {
				return strings.TrimSpace(l[i+1:])
			}
		}
	}
	return runtime.GOOS + "/" + runtime.GOARCH
}
