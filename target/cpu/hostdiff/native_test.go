//go:build linux && amd64

package hostdiff

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"vmapstack/target/x86"
)

// native is the executable region on the host.
type native struct {
	mem  []byte
	base uint64
	low  bool
}

// mapFixedNoreplace is MAP_FIXED_NOREPLACE (Linux 4.17): map exactly at
// the hint or fail, never over an existing mapping. Older kernels treat
// the flag as a hint, which the address check below catches.
const mapFixedNoreplace = 0x100000

// newNative maps the region read-write-execute. It first tries a few
// addresses below 2 GiB (far from the Go heap, which starts at
// 0xc000000000, and from the test binary), where absolute disp32 and
// 32-bit addressing can reach it; any address will do otherwise.
func newNative() (*native, error) {
	prot := syscall.PROT_READ | syscall.PROT_WRITE | syscall.PROT_EXEC
	for _, hint := range []uintptr{0x3e000000, 0x5e000000, 0x6e000000} {
		addr, _, errno := syscall.Syscall6(syscall.SYS_MMAP, hint, regionSize, uintptr(prot),
			syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|mapFixedNoreplace, ^uintptr(0), 0)
		if errno != 0 {
			continue
		}
		if addr != hint {
			syscall.Syscall(syscall.SYS_MUNMAP, addr, regionSize, 0)
			continue
		}
		// The mapping is not Go memory: reinterpret the address.
		p := *(**byte)(unsafe.Pointer(&addr))
		return &native{mem: unsafe.Slice(p, regionSize), base: uint64(addr), low: true}, nil
	}
	mem, err := syscall.Mmap(-1, 0, regionSize, prot, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("mmap an executable region: %w", err)
	}
	base := uint64(uintptr(unsafe.Pointer(&mem[0])))
	return &native{mem: mem, base: base, low: base+regionSize <= 1<<31}, nil
}

func (n *native) close() {
	syscall.Syscall(syscall.SYS_MUNMAP, uintptr(n.base), regionSize, 0)
}

// segBases returns this thread's FS and GS bases (arch_prctl
// ARCH_GET_FS/ARCH_GET_GS).
func segBases() (fs, gs uint64, err error) {
	const archGetFS, archGetGS = 0x1003, 0x1004
	for _, x := range []struct {
		code uintptr
		dst  *uint64
	}{{archGetFS, &fs}, {archGetGS, &gs}} {
		if _, _, errno := syscall.Syscall(syscall.SYS_ARCH_PRCTL, x.code, uintptr(unsafe.Pointer(x.dst)), 0); errno != 0 {
			return 0, 0, fmt.Errorf("arch_prctl %#x: %w", x.code, errno)
		}
	}
	return fs, gs, nil
}

// run executes the case on the host processor.
func (n *native) run(c *testCase, page []byte) result {
	copy(n.mem, page)
	copy(n.mem[dataOff:], c.data)
	callNative(uintptr(n.base) + uintptr(c.entry))
	var out result
	for r := range out.regs {
		out.regs[r] = binary.LittleEndian.Uint64(n.mem[offOut+8*r:])
	}
	out.flags = binary.LittleEndian.Uint64(n.mem[offOutFlags:])
	if c.fp != nil {
		out.fp = parseFX(n.mem[offFPOut : offFPOut+fxSize])
	}
	out.data = append([]byte(nil), n.mem[dataOff:dataOff+dataSize]...)
	return out
}

// TestHostDiff runs -cases generated instructions (seeded by -seed) on
// the host and in the emulator and compares registers, defined flags and
// memory. Every distinct kind of mismatch is reported once with its
// first example and a count. The emulator side alternates between Step,
// Run to a breakpoint, and running the whole trampoline twice, at CPL 3
// or CPL 0 (see emulator.run).
//
// The cases are a function of the seed and of where the region could be
// mapped (below 2 GiB, as on any ordinary Linux process, or not: then no
// absolute or 32-bit addressing forms), so a run is reproducible.
func TestHostDiff(t *testing.T) {
	// FS and GS bases are per thread: stay on the thread they were read
	// from.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	fsBase, gsBase, err := segBases()
	if err != nil {
		t.Fatal(err)
	}
	nat, err := newNative()
	if err != nil {
		t.Fatal(err)
	}
	defer nat.close()
	lay := layout{base: nat.base, low: nat.low, fsBase: fsBase, gsBase: gsBase}
	emu, err := newEmulator(lay)
	if err != nil {
		t.Fatal(err)
	}
	if !lay.low {
		t.Logf("region at %#x, above 2 GiB: absolute and 32-bit addressing forms are not generated", lay.base)
	}
	g := newGen(*flagSeed, lay)
	g.fams, err = selectFamilies(*flagPending, *flagFamilies)
	if err != nil {
		t.Fatal(err)
	}
	if !emu.fxOK {
		t.Logf("the emulator does not execute FXSAVE/FXRSTOR yet: FP cases are stepped instead of running the trampoline")
	}
	mism := newTally()
	perFamily := map[string]int{}
	start := time.Now()
	n := *flagCases
	for i := 0; i < n; i++ {
		c := g.next(i)
		perFamily[c.family]++
		page := codePage(c)
		if *flagTrace {
			fmt.Fprint(os.Stderr, describe(c, nil, nil, nil, lay.base))
		}
		want := nat.run(c, page)
		got, err := emu.run(c, page)
		if err != nil {
			ev, ok := emu.firstEvent()
			if ok && ev.Vector == 6 && ev.RIP == lay.base+uint64(c.entry+insnOff) {
				// #UD on the instruction the host just executed: not
				// implemented (yet) in the emulator.
				mism.addUD(c, fmt.Sprintf("% x", c.code[:c.insnLen]))
				continue
			}
			mism.add(c.family, c.name+" -> fault/exit", describe(c, &want, nil, err, lay.base))
			continue
		}
		if d := diff(c, want, got); len(d) > 0 {
			mism.add(c.family, groupKey(c.name, d), describe(c, &want, &got, nil, lay.base))
		}
	}
	if *flagMismatches != "" {
		if err := mism.write(*flagMismatches, fmt.Sprintf("seed %d, %d cases, families %s", *flagSeed, n, familyNames(g.fams))); err != nil {
			t.Error(err)
		}
	}
	t.Logf("%d cases (seed %d, region %#x) in %v, %d mismatches in %d groups; cases per family: %v",
		n, *flagSeed, lay.base, time.Since(start).Round(time.Millisecond), mism.total, len(mism.count), perFamily)
	mism.report(t)
}

// TestTrampolineRoundTrip checks the harness itself on the host: a NOP
// leaves every register and the flags as loaded, so the trampoline loads
// and stores all sixteen GPRs and RFLAGS faithfully.
func TestTrampolineRoundTrip(t *testing.T) {
	nat, err := newNative()
	if err != nil {
		t.Fatal(err)
	}
	defer nat.close()
	c := &testCase{code: []byte{0x90}, data: make([]byte, dataSize), flags: x86.FlagCF | x86.FlagZF | x86.FlagOF | x86.FlagDF, entry: 0x200}
	for r := range c.regs {
		c.regs[r] = 0x1111111111111111 * uint64(r+1)
	}
	c.regs[rSP] = nat.base + stackOff
	out := nat.run(c, codePage(c))
	if out.regs != c.regs {
		t.Errorf("registers after NOP: %x, want %x", out.regs, c.regs)
	}
	if out.flags&fCompared != c.flags|x86.FlagIF {
		t.Errorf("flags after NOP: %s, want %s", flagString(out.flags&fCompared), flagString(c.flags|x86.FlagIF))
	}
}

// TestFPRoundTrip checks the FP half of the harness on the host: after a
// NOP, the FXSAVE image holds the state FXRSTOR loaded (every field the
// comparison reads), for many random states; and the emulator, given
// the same state through cpu.State, returns it unchanged.
func TestFPRoundTrip(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	nat, err := newNative()
	if err != nil {
		t.Fatal(err)
	}
	defer nat.close()
	lay := layout{base: nat.base, low: nat.low}
	emu, err := newEmulator(lay)
	if err != nil {
		t.Fatal(err)
	}
	g := newGen(*flagSeed, lay)
	for i := 0; i < 200; i++ {
		c := &testCase{n: 4 * i, code: []byte{0x90}, data: make([]byte, dataSize), entry: 0x200, insnLen: 1}
		g.c = c
		c.fp = &fpCase{in: g.fpState()}
		c.regs[rSP] = nat.base + stackOff
		out := nat.run(c, codePage(c))
		in := c.fp.in
		if d := fpDiff(&fpCase{}, &in, &out.fp); len(d) > 0 {
			t.Fatalf("state %d: host FXSAVE after NOP differs from the FXRSTOR image: %v\n%s%s", i, d, fpInput(c.fp), fpOutcome(c.fp, &in, &out.fp))
		}
		got, err := emu.run(c, codePage(c))
		if err != nil {
			t.Fatal(err)
		}
		if d := fpDiff(&fpCase{}, &in, &got.fp); len(d) > 0 {
			t.Fatalf("state %d: emulator state after NOP differs: %v", i, d)
		}
	}
}
