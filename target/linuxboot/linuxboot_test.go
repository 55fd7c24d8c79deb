package linuxboot

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"vmapstack/target/boot"
	"vmapstack/target/cpu"
	"vmapstack/target/x86"
)

// fakeBzImage builds the parts of a bzImage the loader reads: a boot
// sector with the setup header of protocol version, setupSects sectors of
// real-mode code and a protected-mode part of protSize bytes whose first
// bytes are recognisable.
func fakeBzImage(version uint16, setupSects int, xlf uint16, protSize int) []byte {
	n := setupSects
	if n == 0 {
		n = 4
	}
	img := make([]byte, (n+1)*512+protSize)
	le := binary.LittleEndian
	img[hdrSetupSects] = byte(setupSects)
	le.PutUint16(img[hdrBootFlag:], bootFlagMagic)
	img[0x200], img[0x201] = 0xeb, 0x66 // jmp; the header is 0x66 bytes past 0x202
	le.PutUint32(img[hdrMagic:], headerMagic)
	le.PutUint16(img[hdrVersion:], version)
	img[hdrLoadFlags] = loadedHigh
	le.PutUint32(img[hdrInitrdAddrMax:], 0x7fffffff)
	le.PutUint32(img[hdrKernelAlign:], 0x200000)
	img[hdrRelocatable] = 1
	le.PutUint16(img[hdrXLoadFlags:], xlf)
	le.PutUint32(img[hdrCmdlineSize:], 2047)
	prot := img[(n+1)*512:]
	for i := range prot {
		prot[i] = byte(i * 7)
	}
	return img
}

func TestLoadLayout(t *testing.T) {
	const ram = 256 << 20
	mem := make([]byte, ram)
	kernel := fakeBzImage(0x020f, 27, xlfKernel64|xlfAbove4G, 8<<20)
	initrd := make([]byte, 1031104) // the size of a busybox initramfs whose placement QEMU 7.2 logged
	for i := range initrd {
		initrd[i] = byte(i)
	}
	img, err := Loader{}.Load(mem, boot.Files{Kernel: kernel, KernelName: "vmlinuz", Initrd: initrd, InitrdName: "initrd", Cmdline: "console=ttyS0 acpi=off"})
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	bp := mem[BootParamsAddr:]

	// QEMU 7.2 with -m 256 and this initrd: "RAMDISK: [mem
	// 0x0fee4000-0x0ffdffff]" (the kernel prints the page-rounded end).
	if img.Initrd.Start != 0x0fee4000 || le.Uint32(bp[hdrRamdiskImage:]) != 0x0fee4000 || le.Uint32(bp[hdrRamdiskSize:]) != uint32(len(initrd)) {
		t.Errorf("initrd at %#x (boot_params %#x, size %d), want 0xfee4000 as QEMU", img.Initrd.Start, le.Uint32(bp[hdrRamdiskImage:]), le.Uint32(bp[hdrRamdiskSize:]))
	}
	if string(mem[img.Initrd.Start:img.Initrd.End]) != string(initrd) {
		t.Error("initrd bytes not copied")
	}
	// The protected-mode part at 1 MiB, the entry at +0x200.
	if img.Entry != KernelAddr+0x200 || mem[KernelAddr+1] != 7 || mem[KernelAddr+0x200] != byte(0x200*7%256) {
		t.Errorf("entry %#x, kernel bytes % x", img.Entry, mem[KernelAddr:KernelAddr+4])
	}
	if got := string(mem[CmdlineAddr : CmdlineAddr+23]); got != "console=ttyS0 acpi=off\x00" || le.Uint32(bp[hdrCmdLinePtr:]) != CmdlineAddr {
		t.Errorf("command line %q at %#x", got, le.Uint32(bp[hdrCmdLinePtr:]))
	}
	if bp[hdrTypeOfLoader] != 0xb0 || bp[hdrLoadFlags]&(loadedHigh|canUseHeap) != loadedHigh|canUseHeap {
		t.Errorf("type_of_loader %#x loadflags %#x", bp[hdrTypeOfLoader], bp[hdrLoadFlags])
	}
	if le.Uint32(bp[hdrMagic:]) != headerMagic || le.Uint16(bp[hdrVersion:]) != 0x020f {
		t.Error("setup header not copied into boot_params")
	}

	// The e820 table the kernel prints under QEMU 7.2 -m 256
	// ("BIOS-e820: [mem ...]"), entry for entry.
	want := []string{
		"[mem 0x0000000000000000-0x000000000009fbff] usable",
		"[mem 0x000000000009fc00-0x000000000009ffff] reserved",
		"[mem 0x00000000000f0000-0x00000000000fffff] reserved",
		"[mem 0x0000000000100000-0x000000000ffdffff] usable",
		"[mem 0x000000000ffe0000-0x000000000fffffff] reserved",
		"[mem 0x00000000fffc0000-0x00000000ffffffff] reserved",
		"[mem 0x000000fd00000000-0x000000ffffffffff] reserved",
	}
	if int(bp[bpE820Entries]) != len(want) {
		t.Fatalf("%d e820 entries, want %d", bp[bpE820Entries], len(want))
	}
	for i, w := range want {
		e := bp[bpE820Table+20*i:]
		addr, size, typ := le.Uint64(e), le.Uint64(e[8:]), le.Uint32(e[16:])
		name := map[uint32]string{E820RAM: "usable", E820Reserved: "reserved"}[typ]
		if got := fmt.Sprintf("[mem 0x%016x-0x%016x] %s", addr, addr+size-1, name); got != w {
			t.Errorf("e820[%d] = %s, want %s", i, got, w)
		}
	}

	// The CPU at the 64-bit entry (boot.rst "64-bit BOOT PROTOCOL").
	s := img.EntryState(cpu.State{})
	if s.RIP != img.Entry || s.GPR[cpu.RSI] != BootParamsAddr || s.Seg[cpu.CS].Sel != 0x10 || s.Seg[cpu.DS].Sel != 0x18 ||
		s.Seg[cpu.SS].Sel != 0x18 || s.Seg[cpu.ES].Sel != 0x18 || s.RFLAGS&x86.FlagIF != 0 {
		t.Errorf("entry state: rip %#x rsi %#x cs %#x ds %#x ss %#x rflags %#x", s.RIP, s.GPR[cpu.RSI], s.Seg[cpu.CS].Sel, s.Seg[cpu.DS].Sel, s.Seg[cpu.SS].Sel, s.RFLAGS)
	}
	if s.CR0&(x86.CR0PE|x86.CR0PG) != x86.CR0PE|x86.CR0PG || s.CR4&x86.CR4PAE == 0 || s.EFER&(x86.EFERLME|x86.EFERLMA) != x86.EFERLME|x86.EFERLMA || s.Seg[cpu.CS].Attr&0x2000 == 0 {
		t.Errorf("not in long mode: cr0 %#x cr4 %#x efer %#x cs attr %#x", s.CR0, s.CR4, s.EFER, s.Seg[cpu.CS].Attr)
	}
	// The GDT holds what the selectors name.
	if d := le.Uint64(mem[GDTAddr+0x10:]); d>>40&0xff != 0x9b || d>>53&1 != 1 {
		t.Errorf("__BOOT_CS descriptor %#x: want present 64-bit code", d)
	}
	if d := le.Uint64(mem[GDTAddr+0x18:]); d>>40&0xff != 0x93 {
		t.Errorf("__BOOT_DS descriptor %#x: want present read/write data", d)
	}
}

// TestInitrdPlacementAsQEMU: QEMU's x86_load_linux puts the initrd at
// (initrd_max - size) & ~4095 with initrd_max the last usable byte, so a
// page-multiple initrd ends a page below the limit.
func TestInitrdPlacementAsQEMU(t *testing.T) {
	const ram = 256 << 20
	for _, tc := range []struct {
		size, want uint64
	}{
		{1031104, 0x0fee4000}, // logged by QEMU 7.2: RAMDISK: [mem 0x0fee4000-0x0ffdffff]
		{0x100000, 0x0fedf000},
		{0x100001, 0x0fedf000},
		{0xfffff, 0x0fee0000},
	} {
		h := &Header{Version: 0x020f, XLoadFlags: xlfKernel64 | xlfAbove4G}
		r, err := placeInitrd(h, ram, KernelAddr+0x1000, tc.size)
		if err != nil || r.Start != tc.want || r.End != tc.want+tc.size {
			t.Errorf("size %#x: %+v %v, want start %#x", tc.size, r, err, tc.want)
		}
	}
}

// TestIdentityMap walks the loader's page tables for addresses the kernel
// touches before it switches to its own: itself, boot_params, the initrd.
func TestIdentityMap(t *testing.T) {
	mem := make([]byte, 64<<20)
	if _, err := (Loader{}).Load(mem, boot.Files{Kernel: fakeBzImage(0x020f, 0, xlfKernel64, 4096), KernelName: "k"}); err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	for _, lin := range []uint64{0, BootParamsAddr, KernelAddr + 0x200, 0x3ffffff, 0xfee4123, 0xffffffff} {
		pml4e := le.Uint64(mem[PML4Addr+8*(lin>>39&511):])
		pdpte := le.Uint64(mem[pml4e&^0xfff+8*(lin>>30&511):])
		pde := le.Uint64(mem[pdpte&^0xfff+8*(lin>>21&511):])
		if pml4e&1 == 0 || pdpte&1 == 0 || pde&0x81 != 0x81 {
			t.Fatalf("%#x: not mapped by a present 2 MiB page (%#x %#x %#x)", lin, pml4e, pdpte, pde)
		}
		if phys := pde&^0x1fffff&(1<<52-1) | lin&0x1fffff; phys != lin {
			t.Errorf("%#x maps to %#x", lin, phys)
		}
	}
}

func TestLoadRefuses(t *testing.T) {
	ok := fakeBzImage(0x020f, 4, xlfKernel64, 4096)
	for _, tc := range []struct {
		name   string
		kernel []byte
		initrd []byte
		ram    int
		cmd    string
		want   string
	}{
		{"old protocol", fakeBzImage(0x020b, 4, 0, 4096), nil, 64 << 20, "", "protocol 2.11: this machine needs 2.12 or later"},
		{"32-bit kernel", fakeBzImage(0x020f, 4, 0, 4096), nil, 64 << 20, "", "XLF_KERNEL_64 clear"},
		{"short", ok[:0x100], nil, 64 << 20, "", "too short"},
		{"no magic", make([]byte, 8192), nil, 64 << 20, "", "no Linux setup header"},
		{"no protected-mode part", ok[:5*512], nil, 64 << 20, "", "leaves no protected-mode kernel"},
		{"initrd too big", ok, make([]byte, 70<<20), 64 << 20, "", "initrd of 70 MiB does not fit"},
		{"kernel too big", fakeBzImage(0x020f, 4, xlfKernel64, 20<<20), nil, 16 << 20, "", "does not fit in 16 MiB"},
		{"tiny RAM", ok, nil, 8 << 20, "", "too small for Linux"},
		{"long command line", ok, nil, 64 << 20, strings.Repeat("x", 2048), "the kernel takes at most 2047"},
		{"NUL in command line", ok, nil, 64 << 20, "a\x00b", "NUL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Loader{}.Load(make([]byte, tc.ram), boot.Files{Kernel: tc.kernel, KernelName: "vmlinuz", Initrd: tc.initrd, InitrdName: "initrd.img", Cmdline: tc.cmd})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "vmlinuz: ") && !strings.HasPrefix(err.Error(), "initrd.img: ") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestProbe(t *testing.T) {
	if !(Loader{}).Probe(fakeBzImage(0x020f, 4, xlfKernel64, 16)) {
		t.Error("a bzImage header was not recognised")
	}
	for _, b := range [][]byte{nil, []byte("\x7fELF"), make([]byte, 4096)} {
		if (Loader{}).Probe(b) {
			t.Errorf("%d bytes recognised as a bzImage", len(b))
		}
	}
}

// FuzzLoad: whatever the file, the loader answers with an image or an
// error, never a panic or an out-of-range write.
func FuzzLoad(f *testing.F) {
	f.Add(fakeBzImage(0x020f, 4, xlfKernel64, 4096), uint16(0))
	f.Add(fakeBzImage(0x020f, 4, xlfKernel64, 4096), uint16(1000))
	f.Add(fakeBzImage(0x020c, 0, xlfKernel64|xlfAbove4G, 100), uint16(1))
	// One 16 MiB guest for every input: allocating it per input made the
	// fuzzer spend its time in the allocator.
	mem := make([]byte, 16<<20)
	f.Fuzz(func(t *testing.T, kernel []byte, initrdKiB uint16) {
		var initrd []byte
		if initrdKiB != 0 {
			initrd = make([]byte, int(initrdKiB%(20<<10))<<10) // up to 20 MiB: some fit, some do not
		}
		Loader{}.Load(mem, boot.Files{Kernel: kernel, KernelName: "k", Initrd: initrd, InitrdName: "i", Cmdline: "x"})
	})
}
