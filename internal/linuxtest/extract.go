package linuxtest

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
)

// Compressed payloads a bzImage can carry (arch/x86/boot/compressed,
// CONFIG_KERNEL_*), by their magic, and the command that unpacks each
// (gzip is unpacked in Go). Debian's 6.1 kernels use LZ4 (legacy frames).
var payloadFormats = []struct {
	name  string
	magic []byte
	tool  []string // nil: Go's compress/gzip
}{
	{"gzip", []byte{0x1f, 0x8b}, nil},
	{"lz4", []byte{0x02, 0x21, 0x4c, 0x18}, []string{"lz4", "-dc"}},
	{"xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0}, []string{"xz", "-dc"}},
	{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd}, []string{"zstd", "-dc"}},
}

// PayloadTool returns the command ExtractVmlinux runs for bzImage's
// payload ("" for gzip, which needs none), for tests to require it.
func PayloadTool(bzImage []byte) (string, error) {
	p, err := payload(bzImage)
	if err != nil {
		return "", err
	}
	for _, f := range payloadFormats {
		if bytes.HasPrefix(p, f.magic) {
			if f.tool == nil {
				return "", nil
			}
			return f.tool[0], nil
		}
	}
	return "", fmt.Errorf("payload of unknown compression (magic % x)", p[:min(6, len(p))])
}

// payload returns the compressed vmlinux inside a bzImage: boot.rst's
// payload_offset and payload_length (protocol 2.08+), counted from the
// start of the protected-mode code.
func payload(img []byte) ([]byte, error) {
	if len(img) < 0x250 || string(img[0x202:0x206]) != "HdrS" {
		return nil, fmt.Errorf("not a bzImage")
	}
	setup := int(img[0x1f1])
	if setup == 0 {
		setup = 4
	}
	le := binary.LittleEndian
	start := (setup+1)*512 + int(le.Uint32(img[0x248:]))
	end := start + int(le.Uint32(img[0x24c:]))
	if le.Uint16(img[0x206:]) < 0x0208 || start >= end || end > len(img) {
		return nil, fmt.Errorf("no payload_offset/payload_length in the setup header")
	}
	return img[start:end], nil
}

// ExtractVmlinux writes the uncompressed ELF vmlinux inside the bzImage
// at path to dst (what Linux's scripts/extract-vmlinux does): it carries a
// PVH note when the kernel was built with CONFIG_PVH, as Debian's is.
func ExtractVmlinux(path, dst string) error {
	img, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	p, err := payload(img)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer out.Close()
	for _, f := range payloadFormats {
		if !bytes.HasPrefix(p, f.magic) {
			continue
		}
		if f.tool == nil {
			zr, err := gzip.NewReader(bytes.NewReader(p))
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if _, err := io.Copy(out, zr); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			return out.Close()
		}
		// The kernel's build appends the uncompressed size, 4 bytes, to
		// the lz4, xz and zstd streams (scripts/Makefile.lib,
		// size_append); the tools would read it as a broken frame.
		cmd := exec.Command(f.tool[0], f.tool[1:]...)
		cmd.Stdin, cmd.Stdout = bytes.NewReader(p[:len(p)-4]), out
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %s: %v: %s", path, f.tool[0], err, stderr.String())
		}
		if err := out.Close(); err != nil {
			return err
		}
		head := make([]byte, 4)
		if fh, err := os.Open(dst); err == nil {
			io.ReadFull(fh, head)
			fh.Close()
		}
		if string(head) != "\x7fELF" {
			return fmt.Errorf("%s: the %s payload did not unpack to an ELF file", path, f.name)
		}
		return nil
	}
	return fmt.Errorf("%s: payload of unknown compression (magic % x)", path, p[:min(6, len(p))])
}
