package dwarfcfi

import (
	"bytes"
	"debug/elf"
	"errors"
	"testing"

	"vmapstack/kernelimg"
)

// checkFrames checks the invariants of an unwind's result, whatever the
// input: frames within the limit, End set on the last frame only, an
// error exactly when the end is not clean, and the error's fields.
func checkFrames(t *testing.T, frames []Frame, err error, max int) {
	t.Helper()
	if len(frames) == 0 {
		if err == nil {
			t.Fatal("no frames and no error")
		}
		return
	}
	if len(frames) > max {
		t.Fatalf("%d frames, limit %d", len(frames), max)
	}
	for i, f := range frames[:len(frames)-1] {
		if f.End != NotLast {
			t.Fatalf("frame #%d of %d has End %v", i, len(frames), f.End)
		}
	}
	last := frames[len(frames)-1]
	if last.End == NotLast {
		t.Fatal("the last frame has no End")
	}
	if (err == nil) != last.End.Clean() {
		t.Fatalf("End %v with error %v", last.End, err)
	}
	var se *StopError
	if err != nil && (!errors.As(err, &se) || se.Reason != last.End || se.Frame != len(frames)-1 || se.PC != last.PC) {
		t.Fatalf("error %v (%#v) for End %v", err, se, last.End)
	}
}

// FuzzLoad feeds Load arbitrary images (seeded with the real kernel and
// the hand-made ones) and unwinds through what it accepts, with memory
// that repeats the input.
func FuzzLoad(f *testing.F) {
	// The kernel's .debug_frame in an image of its own: the whole kernel
	// would make each minimisation of an interesting input take minutes.
	k, err := elf.NewFile(bytes.NewReader(kernelimg.ELF))
	if err != nil {
		f.Fatal(err)
	}
	text, df := k.Section(".text"), k.Section(".debug_frame")
	dfData, err := df.Data()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(buildELF(textSection(text.Addr, text.Size), section{name: ".debug_frame", typ: elf.SHT_PROGBITS, data: dfData}))
	pcrel := byte(dwEHPEPcrel | dwEHPESdata4)
	f.Add(debugFrameELF([]cieSpec{gccCIE()}, []fdeSpec{{start: 0x1000, length: 0x10, prog: cat(opAdvance(1), opDefCFAOffset(16))}}))
	f.Add(ehELF([]cieSpec{ehCIE("zPLRS", cat([]byte{dwEHPEUdata4}, le32(0x1234), []byte{dwEHPEUdata4, pcrel}), pcrel)},
		[]fdeSpec{{start: 0x1000, length: 0x10, augData: le32(1), prog: cat([]byte{cfaSetLoc}, le32(8), opDefCFAOffset(16))}}))
	f.Fuzz(func(t *testing.T, image []byte) {
		tab, err := Load(image)
		if err != nil {
			return
		}
		mem := func(addr uint64, buf []byte) (int, error) {
			if len(image) == 0 || addr&0xfff == 0xfff {
				return 0, errors.New("unmapped")
			}
			for i := range buf {
				buf[i] = image[(addr+uint64(i))%uint64(len(image))]
			}
			return len(buf), nil
		}
		for i, fde := range tab.FDEs() {
			if i == 64 {
				break
			}
			rows, err := fde.Rows()
			if err == nil && (len(rows) == 0 || rows[0].Loc != fde.Start) {
				t.Fatalf("%v: rows %v", fde, rows)
			}
			start := RegsFromISA([16]uint64{4: 0x10000}, fde.Start)
			frames, err := tab.Unwind(mem, start, 32)
			checkFrames(t, frames, err, 32)
		}
	})
}

// FuzzCFI runs arbitrary CIE initial instructions and FDE programs, in
// .debug_frame or .eh_frame, signal frame or not, and unwinds through
// them over arbitrary stack contents.
func FuzzCFI(f *testing.F) {
	f.Add(cat(opDefCFA(RSP, 8), opOffset(RIP, 1)), cat(opAdvance(1), opDefCFAOffset(16), opOffset(RBX, 2)), false, false,
		words(0x1005, 0x1008, 0), uint8(5))
	f.Add(cat(opDefCFA(RSP, 48), opOffset(RIP, 5), opOffset(RSP, 2)), cat(opAdvance(2), opDefCFAOffset(56)), true, false,
		words(0, 0x1000, 0x10, 2, 0x10000, 0x18), uint8(0))
	f.Add(cat(opDefCFA(RSP, 8), opOffset(RIP, 1)), cat(opBlock(cfaDefCFAExpression, []byte{opBreg0 + RSP, 8, opDeref}),
		[]byte{cfaExpression, RIP, 2, opLit0 + 8, opMinus}, []byte{cfaRememberState, cfaRestoreState}), false, true,
		words(0x10000, 0x10010, 0x1003), uint8(1))
	f.Add(cat(opDefCFA(RSP, 8), opUndefined(RIP)), []byte{cfaValExpression, RBX, 3, opBreg0 + RSP, 0, opDeref,
		cfaRegister, RBP, RBX, cfaDefCFARegister, RBP}, false, false, words(0x10008), uint8(0))
	f.Fuzz(func(t *testing.T, initial, prog []byte, signal, eh bool, stack []byte, pc uint8) {
		c := gccCIE()
		c.initial = initial
		if signal {
			c.aug = "S"
		}
		fdes := []fdeSpec{{start: 0x1000, length: 0x100, prog: prog}, {start: 0x1100, length: 0x100, prog: prog}}
		var image []byte
		if eh {
			c.aug = "zR"
			if signal {
				c.aug = "zRS"
			}
			c.augData = []byte{dwEHPEPcrel | dwEHPESdata4}
			c.fdeEnc = c.augData[0]
			image = ehELF([]cieSpec{c}, fdes)
		} else {
			image = debugFrameELF([]cieSpec{c}, fdes)
		}
		tab, err := Load(image)
		if err != nil {
			t.Fatalf("Load of a well-formed image: %v", err)
		}
		if _, err := tab.Find(0x1000).Rows(); err == nil {
			if _, err := tab.Find(0x1000).Row(0x1000 + uint64(pc)); err != nil {
				t.Fatalf("Rows succeeds, Row(%#x) fails: %v", 0x1000+uint64(pc), err)
			}
		}
		mem := fakeMem{0x10000: stack}
		frames, err := tab.Unwind(mem.read, RegsFromISA([16]uint64{4: 0x10000, 5: 0x10000}, 0x1000+uint64(pc)), 16)
		checkFrames(t, frames, err, 16)
	})
}
