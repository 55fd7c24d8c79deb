package vmcoreinfo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// ErrNotFound is wrapped by Find's error when guest memory holds no
// VMCOREINFO.
var ErrNotFound = errors.New("no VMCOREINFO in guest memory: the kernel has not set it up yet (it does so at subsys_initcall) or was built without CONFIG_CRASH_CORE")

const (
	// scanChunk is how much guest memory Find reads at once: large enough
	// that the per-call cost vanishes, small enough to stay in cache.
	scanChunk = 1 << 20
	// scanOverlap covers a note header that starts near a chunk's end:
	// Elf64_Nhdr (12 bytes) and the 11-byte name.
	scanOverlap = 32
	// pageAlign is the alignment of vmcoreinfo_data, a page from
	// get_zeroed_page (4 KiB is the smallest page size Linux has).
	pageAlign = 4096
)

// noteName is the note's name with its NUL (VMCOREINFO_NOTE_NAME,
// include/linux/crash_core.h); the name's 11 bytes are padded to 12.
var noteName = []byte("VMCOREINFO\x00")

// pageStart is how vmcoreinfo_data begins: crash_save_vmcoreinfo_init
// writes OSRELEASE first.
var pageStart = []byte("OSRELEASE=")

// Find locates the VMCOREINFO text in guest physical memory, reading it
// through phys up to memSize bytes, and returns it parsed with the
// physical address of its first byte.
//
// It looks for both copies the kernel keeps (kernel/crash_core.c): the
// ELF note vmcoreinfo_note (Elf64_Nhdr: namesz 11, descsz, type 0; the
// name "VMCOREINFO"; the text, descsz bytes) anywhere, and the page
// vmcoreinfo_data, which starts with "OSRELEASE=" at a page boundary and
// ends at its first NUL. A candidate counts only when it parses and has
// OSRELEASE and PAGESIZE lines, so the format strings in the kernel's
// .rodata ("OSRELEASE=%s") and stray bytes do not. The valid candidate
// at the lowest address wins; both copies hold the same text.
//
// Memory that phys cannot read is skipped (and counted in the error when
// nothing is found); garbage never makes Find panic.
func Find(phys func(addr uint64, buf []byte) (int, error), memSize uint64) (*Info, uint64, error) {
	if memSize == 0 {
		return nil, 0, fmt.Errorf("vmcoreinfo: no guest memory to search")
	}
	buf := make([]byte, scanChunk+scanOverlap)
	var unreadable uint64
	var rejected error // the first candidate that did not validate, for the message
	for base := uint64(0); base < memSize; base += scanChunk {
		chunk := buf[:min(uint64(len(buf)), memSize-base)]
		body := min(len(chunk), scanChunk)
		unreadable += readZeroFill(phys, base, chunk[:body])
		if body < len(chunk) {
			readZeroFill(phys, base+scanChunk, chunk[body:]) // counted with the next chunk
		}

		var cands []candidate
		for from := 0; ; {
			i := bytes.Index(chunk[from:], noteName)
			if i < 0 {
				break
			}
			i += from
			from = i + 1
			hdr := i - 12
			if hdr < 0 || hdr >= scanChunk {
				continue // the previous chunk or the next one sees it whole
			}
			namesz := binary.LittleEndian.Uint32(chunk[hdr:])
			descsz := binary.LittleEndian.Uint32(chunk[hdr+4:])
			typ := binary.LittleEndian.Uint32(chunk[hdr+8:])
			if namesz != uint32(len(noteName)) || typ != 0 || descsz == 0 || descsz > MaxBytes {
				continue
			}
			cands = append(cands, candidate{addr: base + uint64(i) + 12, size: uint64(descsz), note: true})
		}
		for off := 0; off < body; off += pageAlign {
			if bytes.HasPrefix(chunk[off:], pageStart) {
				cands = append(cands, candidate{addr: base + uint64(off), size: MaxBytes})
			}
		}
		sort.Slice(cands, func(a, b int) bool { return cands[a].addr < cands[b].addr })
		for _, c := range cands {
			info, err := c.load(phys, memSize)
			if err == nil {
				return info, c.addr, nil
			}
			if rejected == nil {
				rejected = err
			}
		}
	}
	msg := fmt.Sprintf("searched %d MiB", memSize>>20)
	if unreadable > 0 {
		msg += fmt.Sprintf(", %d KiB of it unreadable", unreadable>>10)
	}
	if rejected != nil {
		msg += "; the first look-alike was rejected: " + rejected.Error()
	}
	return nil, 0, fmt.Errorf("vmcoreinfo: %w (%s)", ErrNotFound, msg)
}

// candidate is a place that may hold the text.
type candidate struct {
	addr, size uint64 // the text's address and its (maximum) size
	note       bool   // from a note header (size exact), else a page start
}

// load reads, parses and validates a candidate.
func (c candidate) load(phys func(uint64, []byte) (int, error), memSize uint64) (*Info, error) {
	what := "page"
	if c.note {
		what = "note"
	}
	size := min(c.size, memSize-min(c.addr, memSize))
	text := make([]byte, size)
	if bad := readZeroFill(phys, c.addr, text); c.note && (bad > 0 || size < c.size) {
		return nil, fmt.Errorf("VMCOREINFO %s at %#x: %d of its %d bytes unreadable", what, c.addr, c.size-size+bad, c.size)
	}
	if !c.note {
		if end := bytes.IndexByte(text, 0); end >= 0 {
			text = text[:end]
		}
	}
	info, err := Parse(text)
	if err == nil {
		err = info.validate()
	}
	if err != nil {
		return nil, fmt.Errorf("VMCOREINFO %s at %#x: %w", what, c.addr, err)
	}
	return info, nil
}

// readZeroFill reads buf from addr through phys and returns how many of
// its bytes phys could not give, which it leaves zero. After a failure
// or a short read it goes on page by page, so that one hole (or a reader
// that stops at the first page it cannot serve) does not hide the rest.
// A count outside [0, len] from phys is not believed.
func readZeroFill(phys func(uint64, []byte) (int, error), addr uint64, buf []byte) (unreadable uint64) {
	n, err := phys(addr, buf)
	if n < 0 || n > len(buf) {
		n, err = 0, errBadCount
	}
	if err == nil && n == len(buf) {
		return 0
	}
	clear(buf[n:])
	next := (n + pageAlign) &^ (pageAlign - 1) // the failing page is lost
	unreadable = uint64(min(next, len(buf)) - n)
	for off := next; off < len(buf); off += pageAlign {
		end := min(off+pageAlign, len(buf))
		m, err := phys(addr+uint64(off), buf[off:end])
		if m < 0 || m > end-off {
			m, err = 0, errBadCount
		}
		if err != nil || m < end-off {
			clear(buf[off+m : end])
			unreadable += uint64(end - off - m)
		}
	}
	return unreadable
}

var errBadCount = errors.New("the reader returned a byte count outside the buffer")
