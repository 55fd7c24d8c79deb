package testtool

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// BuildStub builds cmd/stub into dir and returns the binary's path, so
// that suites driving it as a real process test this tree's stub. A
// binary named by VMAPSTACK_STUB is used instead when set.
func BuildStub(dir string) (string, error) {
	if p := os.Getenv("VMAPSTACK_STUB"); p != "" {
		return p, nil
	}
	bin := filepath.Join(dir, "stub")
	out, err := exec.Command("go", "build", "-o", bin, "vmapstack/cmd/stub").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build vmapstack/cmd/stub: %w\n%s", err, out)
	}
	return bin, nil
}

// SyncBuffer is a bytes.Buffer a process may write while the test reads.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// PVHKernel returns the smallest kernel the PVH loader accepts: an ELF64
// whose one PT_LOAD segment puts code at physical 0x100000 and whose Xen
// PHYS32_ENTRY note (type 18) points there. Tests that build their own
// machine state boot it instead of the real kernel.
func PVHKernel(code []byte) []byte {
	le := binary.LittleEndian
	var note bytes.Buffer
	for _, v := range []any{uint32(4), uint32(4), uint32(18)} { // namesz "Xen\0", descsz, XEN_ELFNOTE_PHYS32_ENTRY
		binary.Write(&note, le, v)
	}
	note.WriteString("Xen\x00")
	binary.Write(&note, le, uint32(0x100000))
	const ehsize, phentsize, nph = 64, 56, 2
	noteOff := uint64(ehsize + nph*phentsize)
	codeOff := noteOff + uint64(note.Len())
	var b bytes.Buffer
	b.Write([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	for _, v := range []any{uint16(2), uint16(62), uint32(1), uint64(0x100000), uint64(ehsize), uint64(0), uint32(0),
		uint16(ehsize), uint16(phentsize), uint16(nph), uint16(64), uint16(0), uint16(0)} {
		binary.Write(&b, le, v)
	}
	ph := func(typ uint32, off, paddr, size uint64) {
		for _, v := range []any{typ, uint32(7), off, paddr, paddr, size, size, uint64(4)} {
			binary.Write(&b, le, v)
		}
	}
	ph(4, noteOff, 0, uint64(note.Len()))
	ph(1, codeOff, 0x100000, uint64(len(code)))
	b.Write(note.Bytes())
	b.Write(code)
	return b.Bytes()
}
