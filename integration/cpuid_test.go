package integration

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"vmapstack/internal/testtool"
	"vmapstack/kernelimg/qemutest"
)

// cpuidLeaves are the (leaf, subleaf) pairs compared with QEMU: every
// basic leaf up to qemu64's maximum (0xd) and one past it, every extended
// leaf up to 0x8000000a and one past it, the subleaves Linux reads, and the
// hypervisor range.
var cpuidLeaves = func() [][2]uint32 {
	var l [][2]uint32
	for leaf := uint32(0); leaf <= 0xe; leaf++ {
		l = append(l, [2]uint32{leaf, 0})
	}
	l = append(l, [2]uint32{4, 1}, [2]uint32{4, 2}, [2]uint32{4, 3}, [2]uint32{4, 4}, [2]uint32{7, 1},
		[2]uint32{0xb, 1}, [2]uint32{0xb, 2}, [2]uint32{0xd, 1}, [2]uint32{0xd, 2})
	for leaf := uint32(0x80000000); leaf <= 0x8000000b; leaf++ {
		l = append(l, [2]uint32{leaf, 0})
	}
	return append(l, [2]uint32{0x40000000, 0}, [2]uint32{0x40000001, 0}, [2]uint32{0xc0000000, 0})
}()

// cpuidKernel is a PVH kernel that executes CPUID for each of leaves (in
// 32-bit protected mode, as the PVH entry leaves it), writes EAX EBX ECX
// EDX of each, little-endian, to COM1, and exits through isa-debug-exit.
func cpuidKernel(leaves [][2]uint32) []byte {
	const base = 0x100000
	var c bytes.Buffer
	le := binary.LittleEndian
	u32 := func(v uint32) { binary.Write(&c, le, v) }
	c.Write([]byte{0xbc}) // mov esp, 0x90000
	u32(0x90000)
	c.Write([]byte{0xbe}) // mov esi, table (patched below)
	tableFix := c.Len()
	u32(0)
	loop := c.Len()
	c.Write([]byte{0x8b, 0x06, 0x83, 0xf8, 0xff}) // mov eax,[esi]; cmp eax,-1
	c.Write([]byte{0x74, 0})                      // je done (patched)
	jeFix := c.Len() - 1
	c.Write([]byte{0x8b, 0x4e, 0x04, 0x0f, 0xa2}) // mov ecx,[esi+4]; cpuid
	c.Write([]byte{0x52, 0x51, 0x53, 0x50})       // push edx, ecx, ebx, eax
	var callFix []int
	for i := 0; i < 4; i++ {
		c.Write([]byte{0x5f, 0xe8}) // pop edi; call put
		callFix = append(callFix, c.Len())
		u32(0)
	}
	c.Write([]byte{0x83, 0xc6, 0x08, 0xeb}) // add esi,8; jmp loop
	c.WriteByte(byte(loop - (c.Len() + 1)))
	done := c.Len()
	c.Write([]byte{0xba, 0x01, 0x05, 0, 0, 0xb0, 0x00, 0xee, 0xf4}) // mov edx,0x501; mov al,0; out dx,al; hlt
	put := c.Len()
	c.Write([]byte{0xba, 0xf8, 0x03, 0, 0, 0x89, 0xf8}) // mov edx,0x3f8; mov eax,edi
	for i := 0; i < 4; i++ {
		c.Write([]byte{0xee, 0xc1, 0xe8, 0x08}) // out dx,al; shr eax,8
	}
	c.WriteByte(0xc3) // ret
	table := c.Len()
	for _, l := range leaves {
		u32(l[0])
		u32(l[1])
	}
	u32(0xffffffff)
	u32(0)
	code := c.Bytes()
	le.PutUint32(code[tableFix:], uint32(base+table))
	code[jeFix] = byte(done - (jeFix + 1))
	for _, at := range callFix {
		le.PutUint32(code[at:], uint32(put-(at+4)))
	}
	return testtool.PVHKernel(code)
}

// cpuidOmissions are the bits our CPU clears from QEMU's qemu64 model
// because it does not implement what they announce (docs/qemu-differences.md
// §8): leaf, subleaf, register (0 EAX .. 3 EDX), mask of the bits that differ.
var cpuidOmissions = []struct {
	leaf, sub uint32
	reg       int
	mask      uint32
	what      string
}{
	{0x80000001, 0, 2, 1 << 2, "SVM"},
	{0x8000000a, 0, 0, 0xffffffff, "SVM revision"},
	{0x8000000a, 0, 1, 0xffffffff, "SVM ASIDs"},
	{0x8000000a, 0, 3, 0xffffffff, "SVM features"},
}

// TestCPUIDMatchesQEMU runs CPUID for every leaf of QEMU's default
// qemu64 model in QEMU 7.2 and in our machine, and compares the registers
// leaf for leaf: Linux takes its paths (and prints its log) from these.
func TestCPUIDMatchesQEMU(t *testing.T) {
	qemu := testtool.Require(t, qemutest.QEMU)
	acquireHeavy(t)
	ctx := testContext(t)
	kernel := filepath.Join(t.TempDir(), "cpuid.elf")
	if err := os.WriteFile(kernel, cpuidKernel(cpuidLeaves), 0o644); err != nil {
		t.Fatal(err)
	}
	want := len(cpuidLeaves) * 16
	q, err := exec.CommandContext(ctx, qemu, qemutest.Args(kernel, "")...).Output()
	if len(q) != want {
		t.Fatalf("QEMU wrote %d bytes, want %d (%v)", len(q), want, err)
	}
	ours := exec.CommandContext(ctx, stubBin, "--listen", "none", "--kernel", kernel, "--append", "")
	var stderr bytes.Buffer
	ours.Stderr = &stderr
	o, _ := ours.Output()
	if len(o) != want {
		t.Fatalf("our machine wrote %d bytes, want %d; stderr: %s", len(o), want, stderr.String())
	}
	le := binary.LittleEndian
	var diffs []string
	for i, l := range cpuidLeaves {
		for r := 0; r < 4; r++ {
			qv, ov := le.Uint32(q[16*i+4*r:]), le.Uint32(o[16*i+4*r:])
			for _, om := range cpuidOmissions {
				if om.leaf == l[0] && om.sub == l[1] && om.reg == r {
					if ov&om.mask != 0 {
						diffs = append(diffs, fmt.Sprintf("leaf %#x.%d %s: %#08x sets omitted bits %#x (%s)", l[0], l[1], "ABCD"[r:r+1], ov, om.mask, om.what))
					}
					qv &^= om.mask
					ov &^= om.mask
				}
			}
			if qv != ov {
				diffs = append(diffs, fmt.Sprintf("leaf %#x.%d E%sX: QEMU %#08x, ours %#08x", l[0], l[1], "ABCD"[r:r+1], qv, ov))
			}
		}
	}
	if len(diffs) > 0 {
		t.Errorf("CPUID differs from QEMU's qemu64 beyond the listed omissions:\n%s", strings.Join(diffs, "\n"))
	}
}
