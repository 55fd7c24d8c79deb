package cpu

// MOV with a moffs (A0-A3) has no ModRM: a block that rewrote it as if
// it had one ran a host access at an address of the guest's choosing (an
// independent review's reproducers, kept as regression tests).

import (
	"encoding/binary"
	"os"
	"testing"
	"unsafe"
)

// nativeEscapeHost is a Go global: in a non-PIE binary (the linux/amd64 default)
// it lies below 4 GiB, where a moffs that fits in 32 bits can name it.
var nativeEscapeHost [8192]byte

// nativeMoffsProgram maps guest linear page L>>12 to physical 0x300000 and
// returns code: jmp +0; 48 op moffs64(L); mov rcx,rax; mov rdx,rax; mov rsi,rax; hlt
func nativeMoffsProgram(t *testing.T, op byte) (c *CPU, ram []byte, hostAddr, guestLin uint64) {
	base := uint64(uintptr(unsafe.Pointer(&nativeEscapeHost[0])))
	for a := base + 0x100; a < base+0x1000; a++ {
		if a&0xc7 == 0x03 { // rewritten ModRM (a&0x38)|s, s = RBX
			hostAddr = a
			break
		}
	}
	if hostAddr == 0 || hostAddr >= 1<<30 {
		if os.Getenv("VMAPSTACK_REQUIRE_TOOLS") == "1" {
			t.Fatalf("host global at %#x: not below 1 GiB (a PIE build?), and VMAPSTACK_REQUIRE_TOOLS=1", base)
		}
		t.Skipf("host global at %#x: not below 1 GiB (a PIE build?); VMAPSTACK_REQUIRE_TOOLS=1 makes this a failure", base)
	}
	guestLin = hostAddr - 3
	code := []byte{0xeb, 0x00, 0x48, op}
	code = binary.LittleEndian.AppendUint64(code, guestLin)
	code = append(code, 0x48, 0x89, 0xc1, 0x48, 0x89, 0xc2, 0x48, 0x89, 0xc6, 0xf4)
	c, ram = newWB(t, code)
	// PD[L>>21] -> PT at 0x7000; PT[(L>>12)&511] -> 0x300000
	le64(ram, 0x3000+8*(guestLin>>21), 0x7000|7)
	le64(ram, 0x7000+8*((guestLin>>12)&511), 0x300000|7)
	return
}

func TestNativeMoffsLoadReadsGuestMemory(t *testing.T) {
	c, ram := (*CPU)(nil), []byte(nil)
	var hostAddr, lin uint64
	c, ram, hostAddr, lin = nativeMoffsProgram(t, 0xa1)
	binary.LittleEndian.PutUint64(ram[0x300000+lin&0xfff:], 0x1111111111111111) // the guest's value
	binary.LittleEndian.PutUint64(nativeEscapeHost[hostAddr-uint64(uintptr(unsafe.Pointer(&nativeEscapeHost[0]))):], 0xdeadbeefcafef00d)
	for run := 0; run < 3; run++ {
		c.rip = wbCode
		c.halted = false
		c.gpr[RAX] = 0
		if ex := c.Run(c.Instret() + 100); ex.Kind != ExitHalt {
			t.Fatalf("exit %v", ex.Kind)
		}
		t.Logf("run %d: rax=%#x (blocks run %d)", run, c.gpr[RAX], c.native.runs)
	}
	if c.gpr[RAX] != 0x1111111111111111 {
		t.Errorf("mov rax,[moffs %#x] gave %#x, guest memory holds 0x1111111111111111 (host %#x)", lin, c.gpr[RAX], hostAddr)
	}
}

func TestNativeMoffsStoreStaysInGuest(t *testing.T) {
	c, ram, hostAddr, lin := nativeMoffsProgram(t, 0xa3)
	off := hostAddr - uint64(uintptr(unsafe.Pointer(&nativeEscapeHost[0])))
	clear(nativeEscapeHost[:])
	for run := 0; run < 3; run++ {
		c.rip = wbCode
		c.halted = false
		c.gpr[RAX] = 0x4141414141414141 + uint64(run)
		if ex := c.Run(c.Instret() + 100); ex.Kind != ExitHalt {
			t.Fatalf("exit %v", ex.Kind)
		}
		t.Logf("run %d: guest [%#x]=%#x host [%#x]=%#x (blocks run %d)", run, lin,
			binary.LittleEndian.Uint64(ram[0x300000+lin&0xfff:]), hostAddr, binary.LittleEndian.Uint64(nativeEscapeHost[off:]), c.native.runs)
	}
	if v := binary.LittleEndian.Uint64(nativeEscapeHost[off:]); v != 0 {
		t.Errorf("a guest MOV [moffs], RAX wrote %#x into the stub's own memory at %#x", v, hostAddr)
	}
}

// 67 A1 moffs32: the rewrite drops 67, and the host decodes A1 with a
// moffs64 that swallows the block's following code.
func TestNativeMoffs32(t *testing.T) {
	code := []byte{0xeb, 0x00, 0x67, 0xa1, 0x00, 0x10, 0x20, 0x00, 0x48, 0x89, 0xc1, 0x48, 0x89, 0xc2, 0x48, 0x89, 0xc6, 0xf4}
	c, _ := newWB(t, code)
	for run := 0; run < 3; run++ {
		c.rip = wbCode
		c.halted = false
		ex := c.Run(c.Instret() + 100)
		t.Logf("run %d: exit %v rax=%#x", run, ex.Kind, c.gpr[RAX])
	}
}
