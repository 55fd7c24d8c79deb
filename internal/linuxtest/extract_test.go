package linuxtest

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeBzImage is a setup header of protocol 2.15 whose payload is p.
func fakeBzImage(p []byte) []byte {
	img := make([]byte, 5*512+0x100+len(p))
	img[0x1f1] = 4
	copy(img[0x202:], "HdrS")
	binary.LittleEndian.PutUint16(img[0x206:], 0x020f)
	binary.LittleEndian.PutUint32(img[0x248:], 0x100)
	binary.LittleEndian.PutUint32(img[0x24c:], uint32(len(p)))
	copy(img[5*512+0x100:], p)
	return img
}

func TestExtractVmlinux(t *testing.T) {
	elf := append([]byte("\x7fELF"), bytes.Repeat([]byte{0xaa}, 1000)...)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(elf)
	w.Close()
	dir := t.TempDir()
	for _, tc := range []struct {
		name, tool, err string
		img             []byte
	}{
		{"gzip", "", "", fakeBzImage(gz.Bytes())},
		{"unknown", "", "payload of unknown compression (magic 01 02 03", fakeBzImage([]byte{1, 2, 3, 4, 5, 6, 7})},
		{"not a bzImage", "", "not a bzImage", make([]byte, 4096)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := filepath.Join(dir, tc.name+".bz")
			out := filepath.Join(dir, tc.name+".elf")
			os.WriteFile(in, tc.img, 0o644)
			err := ExtractVmlinux(in, out)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(out); !bytes.Equal(got, elf) {
				t.Errorf("unpacked %d bytes, want the %d-byte ELF", len(got), len(elf))
			}
			if tool, err := PayloadTool(tc.img); err != nil || tool != tc.tool {
				t.Errorf("PayloadTool = %q, %v", tool, err)
			}
		})
	}
	lz4 := fakeBzImage([]byte{0x02, 0x21, 0x4c, 0x18, 0})
	if tool, err := PayloadTool(lz4); err != nil || tool != "lz4" {
		t.Errorf("PayloadTool(lz4 payload) = %q, %v", tool, err)
	}
}
