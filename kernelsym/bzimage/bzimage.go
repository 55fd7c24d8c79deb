// Package bzimage takes the vmlinux out of a Linux/x86 bzImage in pure Go,
// as Linux's scripts/extract-vmlinux does with the command-line
// decompressors: what kernelsym needs of Debian's /boot/vmlinuz-* (its
// kallsyms, its ELF sections) without a -dbg package and without the lz4,
// xz or zstd programs on the host.
//
// A bzImage is the real-mode setup code followed by the protected-mode
// decompressor, which carries the kernel as one compressed payload
// (arch/x86/boot/compressed/Makefile, piggy.S). Since boot protocol 2.08
// the setup header says where it is: payload_offset and payload_length
// (Documentation/arch/x86/boot.rst, "Details of Header Fields"). The
// payload is vmlinux.bin, vmlinux stripped of its symbols and .comment
// (objcopy -R .comment -S) but still an ELF file, followed by the
// relocation table when the kernel is relocatable (vmlinux.relocs); that is
// what Vmlinux returns, byte for byte what extract-vmlinux writes.
//
// Everything here reads untrusted input: a hostile image gets an error,
// never a panic, and never makes us allocate more than MaxSize for the
// output (plus the decompressor's window, itself bounded by MaxSize).
package bzimage

import (
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz/lzma"
)

// MaxSize bounds the vmlinux Vmlinux returns: 512 MiB, ten times
// Debian's (51 MiB with its relocations) and far above any x86
// kernel that boots (the decompressor must fit it below KERNEL_IMAGE_SIZE,
// 1 GiB, with its own code and the boot heap).
const MaxSize = 512 << 20

// ErrUnsupported is wrapped by the errors for a payload compressed in a
// format this package does not decompress (LZO, or a magic no kernel
// build writes), as opposed to a payload that is corrupt.
var ErrUnsupported = errors.New("unsupported compression")

// Offsets in the setup header (boot.rst, "THE REAL-MODE KERNEL HEADER").
const (
	hdrSetupSects    = 0x1f1 // u8: 512-byte sectors of setup code after the boot sector; 0 means 4
	hdrBootFlag      = 0x1fe // u16: 0xaa55
	hdrMagic         = 0x202 // u32: "HdrS"
	hdrVersion       = 0x206 // u16: boot protocol version
	hdrPayloadOffset = 0x248 // u32 (2.08+): from the start of the protected-mode code
	hdrPayloadLength = 0x24c // u32 (2.08+)
	hdrPayloadEnd    = 0x250

	// minVersion is the first protocol with payload_offset and
	// payload_length.
	minVersion = 0x0208
)

// Vmlinux returns the uncompressed kernel inside the bzImage img: an
// ELF64 x86-64 file, with the relocations the build appends after it
// when the kernel is relocatable. It decompresses gzip, bzip2, LZMA, xz
// (with the x86 BCJ filter the kernel's build uses), LZ4 (the legacy
// frames lz4 -l writes) and zstd payloads; LZO is refused with an error
// wrapping ErrUnsupported.
func Vmlinux(img []byte) ([]byte, error) {
	p, err := Payload(img)
	if err != nil {
		return nil, err
	}
	f, err := identify(p)
	if err != nil {
		return nil, err
	}
	out, err := f.decompress(p)
	if err != nil {
		return nil, fmt.Errorf("bzimage: %s payload of %d bytes: %w", f.name, len(p), err)
	}
	if err := checkELF(out); err != nil {
		return nil, fmt.Errorf("bzimage: the %s payload unpacked to %d bytes that are not an x86-64 vmlinux: %w", f.name, len(out), err)
	}
	return out, nil
}

// Payload returns the compressed payload of a bzImage, as the setup
// header places it: payload_offset bytes after the start of the
// protected-mode code, which begins after the boot sector and
// setup_sects sectors of setup code (boot.rst: "the protected-mode
// kernel ... at offset (setup_sects+1)*512 in the kernel file"), for
// payload_length bytes.
func Payload(img []byte) ([]byte, error) {
	if len(img) < hdrPayloadEnd {
		return nil, fmt.Errorf("bzimage: %d bytes is too short for a setup header with a payload (0x%x bytes)", len(img), hdrPayloadEnd)
	}
	le := binary.LittleEndian
	if le.Uint16(img[hdrBootFlag:]) != 0xaa55 || string(img[hdrMagic:hdrMagic+4]) != "HdrS" {
		return nil, errors.New("bzimage: not a bzImage: no boot flag 0xaa55 at 0x1fe and \"HdrS\" at 0x202")
	}
	if v := le.Uint16(img[hdrVersion:]); v < minVersion {
		return nil, fmt.Errorf("bzimage: boot protocol %d.%02d has no payload_offset/payload_length (2.08 and later)", v>>8, v&0xff)
	}
	setup := uint64(img[hdrSetupSects])
	if setup == 0 {
		setup = 4 // boot.rst: "If this field is 0, the real value is 4."
	}
	off, n := uint64(le.Uint32(img[hdrPayloadOffset:])), uint64(le.Uint32(img[hdrPayloadLength:]))
	start := (setup+1)*512 + off
	if end := start + n; n == 0 || end > uint64(len(img)) {
		return nil, fmt.Errorf("bzimage: payload at 0x%x (payload_offset 0x%x after %d setup sectors), %d bytes long, is not inside the %d-byte image",
			start, off, setup, n, len(img))
	}
	return img[start : start+n], nil
}

// format is one compression the kernel's build can use for its payload
// (CONFIG_KERNEL_*), told by the magic that lib/decompress.c's
// compressed_formats table looks for.
type format struct {
	name  string
	magic []byte
	// sizeAppended: the build appends the uncompressed size, 4 bytes
	// little-endian, after the compressed stream (scripts/Makefile.lib,
	// size_append in the *_with_size commands); gzip's own trailer ends
	// with the same (ISIZE, RFC 1952). Either way mkpiggy reads the
	// payload's last 4 bytes as the output size (z_output_len).
	sizeAppended bool
	// unpack decompresses c (without the appended size) into out.
	unpack func(c []byte, out *output) error
}

var formats = []format{
	{"gzip", []byte{0x1f, 0x8b, 8}, false, unpackGzip},
	{"bzip2", []byte("BZh"), true, unpackBzip2},
	{"lzma", []byte{0x5d, 0}, true, unpackLzma},
	{"xz", []byte(xzMagic), true, unpackXz},
	{"lz4", []byte{0x02, 0x21, 0x4c, 0x18}, true, unpackLz4},
	{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd}, true, unpackZstd},
	{"lzo", []byte{0x89, 'L', 'Z', 'O', 0}, true, nil}, // lzop's magic; no well-kept Go decoder reads it
}

func identify(p []byte) (*format, error) {
	for i := range formats {
		f := &formats[i]
		if !bytes.HasPrefix(p, f.magic) {
			continue
		}
		if f.unpack == nil {
			return nil, fmt.Errorf("bzimage: %s-compressed payload: %w (supported: gzip, bzip2, lzma, xz, lz4, zstd)", f.name, ErrUnsupported)
		}
		return f, nil
	}
	return nil, fmt.Errorf("bzimage: payload of unknown compression (magic % x): %w", p[:min(6, len(p))], ErrUnsupported)
}

// decompress unpacks the payload p into exactly the size its last 4
// bytes give, refusing anything over MaxSize before it starts.
func (f *format) decompress(p []byte) ([]byte, error) {
	if len(p) < len(f.magic)+4 {
		return nil, errors.New("too short for a compressed stream and its size")
	}
	want := binary.LittleEndian.Uint32(p[len(p)-4:])
	if want == 0 || want > MaxSize {
		return nil, fmt.Errorf("the payload declares a %d-byte vmlinux; this package unpacks at most %d (MaxSize, 512 MiB)", want, MaxSize)
	}
	c := p
	if f.sizeAppended {
		c = p[:len(p)-4]
	}
	// Start from a guess from the compression ratio so that a hostile
	// small payload declaring a big output costs no more than what it
	// unpacks to; the kernel's payloads are 3 to 5 times smaller than
	// their output.
	out := &output{buf: make([]byte, 0, min(int(want), 8*len(p)+64<<10)), max: int(want)}
	if err := f.unpack(c, out); err != nil {
		return nil, err
	}
	if len(out.buf) != int(want) {
		return nil, fmt.Errorf("decompresses to %d bytes, not the %d its last 4 bytes declare", len(out.buf), want)
	}
	return out.buf, nil
}

// output is the decompressed data, never more than max bytes.
type output struct {
	buf []byte
	max int
}

// readFrom appends r's data up to its end, failing if that is more than
// the room left.
func (o *output) readFrom(r io.Reader) error {
	for empty := 0; ; {
		if len(o.buf) == cap(o.buf) {
			if len(o.buf) == o.max {
				var one [1]byte
				k, err := r.Read(one[:])
				switch {
				case k > 0:
					return fmt.Errorf("decompresses to more than the %d bytes its last 4 bytes declare", o.max)
				case err == io.EOF:
					return nil
				case err != nil:
					return fmt.Errorf("after %d bytes: %w", len(o.buf), err)
				}
				// 0, nil: ask again below.
			} else {
				grown := make([]byte, len(o.buf), min(o.max, 2*cap(o.buf)+4096))
				copy(grown, o.buf)
				o.buf = grown
				continue
			}
		} else {
			k, err := r.Read(o.buf[len(o.buf):cap(o.buf)])
			o.buf = o.buf[:len(o.buf)+k]
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("after %d bytes: %w", len(o.buf), err)
			}
			if k > 0 {
				empty = 0
				continue
			}
		}
		// A reader that neither reads nor fails (io.Reader allows it, a
		// broken one could do it forever): give up as io.ReadAtLeast does.
		if empty++; empty == 100 {
			return fmt.Errorf("after %d bytes: %w", len(o.buf), io.ErrNoProgress)
		}
	}
}

// checkELF checks that b is an ELF64 x86-64 file, as every x86-64
// vmlinux is.
func checkELF(b []byte) error {
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return err
	}
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 {
		return fmt.Errorf("an ELF file of class %v for %v", f.Class, f.Machine)
	}
	return nil
}

// unpackGzip reads what gzip -n -9 writes (scripts/Makefile.lib,
// cmd_gzip); the reader checks the member's CRC-32 and ISIZE.
func unpackGzip(c []byte, out *output) error {
	zr, err := gzip.NewReader(bytes.NewReader(c))
	if err != nil {
		return err
	}
	return out.readFrom(zr)
}

func unpackBzip2(c []byte, out *output) error {
	return out.readFrom(bzip2.NewReader(bytes.NewReader(c)))
}

// unpackLzma reads the .lzma ("LZMA alone") format lzma -9 writes
// (cmd_lzma_with_size). Its 13-byte header gives the dictionary size
// (bytes 1-4), which the reader allocates up front: lzma -9 says 64 MiB,
// a hostile header up to 4 GiB. LZMA never refers further back than what
// it has output, so a dictionary the size of the whole output decodes
// the same; the header's is lowered to that, on a copy.
func unpackLzma(c []byte, out *output) error {
	if len(c) >= lzma.HeaderLen {
		if d := binary.LittleEndian.Uint32(c[1:]); uint64(d) > uint64(max(out.max, lzma.MinDictCap)) {
			c = bytes.Clone(c)
			binary.LittleEndian.PutUint32(c[1:], uint32(max(out.max, lzma.MinDictCap)))
		}
	}
	r, err := lzma.ReaderConfig{DictCap: MaxSize}.NewReader(bytes.NewReader(c))
	if err != nil {
		return err
	}
	return out.readFrom(r)
}

// unpackLz4 reads the legacy LZ4 frames lz4 -l writes
// (cmd_lz4_with_size): pierrec/lz4's Reader knows them by their magic.
// Blocks are decoded one at a time, with no goroutines.
func unpackLz4(c []byte, out *output) error {
	r := lz4.NewReader(bytes.NewReader(c))
	if err := r.Apply(lz4.ConcurrencyOption(1)); err != nil {
		return err
	}
	return out.readFrom(r)
}

// unpackZstd reads zstd frames (cmd_zstd22_with_size: zstd -22 --ultra,
// whose window is 128 MiB), with the window and the decoder's memory
// bounded by MaxSize and no goroutines.
func unpackZstd(c []byte, out *output) error {
	d, err := zstd.NewReader(bytes.NewReader(c),
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(MaxSize),
		zstd.WithDecoderMaxMemory(MaxSize))
	if err != nil {
		return err
	}
	defer d.Close()
	return out.readFrom(d)
}
