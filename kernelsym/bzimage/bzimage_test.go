package bzimage

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"vmapstack/internal/testtool"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// fakeBzImage is a protocol 2.15 setup header with setupSects (0 means
// 4) whose payload is p, placed 0x100 bytes into the protected-mode code
// as Linux places its own after the decompressor's head.
func fakeBzImage(setupSects byte, p []byte) []byte {
	sects := int(setupSects)
	if sects == 0 {
		sects = 4
	}
	pm := (sects + 1) * 512
	img := make([]byte, pm+0x100+len(p)+64)
	img[hdrSetupSects] = setupSects
	binary.LittleEndian.PutUint16(img[hdrBootFlag:], 0xaa55)
	copy(img[hdrMagic:], "HdrS")
	binary.LittleEndian.PutUint16(img[hdrVersion:], 0x020f)
	binary.LittleEndian.PutUint32(img[hdrPayloadOffset:], 0x100)
	binary.LittleEndian.PutUint32(img[hdrPayloadLength:], uint32(len(p)))
	copy(img[pm+0x100:], p)
	return img
}

// elfHeader is an ELF64 header with no sections or segments for machine.
func elfHeader(class elf.Class, machine elf.Machine) []byte {
	h := make([]byte, 64)
	copy(h, elf.ELFMAG)
	h[elf.EI_CLASS] = byte(class)
	h[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	le := binary.LittleEndian
	le.PutUint16(h[16:], uint16(elf.ET_EXEC))
	le.PutUint16(h[18:], uint16(machine))
	le.PutUint32(h[20:], uint32(elf.EV_CURRENT))
	le.PutUint16(h[52:], 64) // e_ehsize
	le.PutUint16(h[54:], 56) // e_phentsize
	le.PutUint16(h[58:], 64) // e_shentsize
	return h
}

// sample is what the synthetic payloads unpack to: an x86-64 ELF header
// followed by 16 KiB that look like x86 code to the BCJ filter (E8/E9
// with rel32 targets whose top byte is 0x00 or 0xff, between runs of
// other bytes and repeats), then a relocation-table-like tail.
func sample() []byte { return sampleOf(16 << 10) }

// small is a sample of 512 bytes of code, for the fuzz target's seeds:
// the fuzzer minimizes every input that finds new coverage, which takes
// long on big ones.
func small() []byte { return sampleOf(512) }

func sampleOf(code int) []byte {
	b := elfHeader(elf.ELFCLASS64, elf.EM_X86_64)
	r := rand.New(rand.NewPCG(1, 2))
	for len(b) < 64+code {
		switch r.IntN(6) {
		case 0, 1:
			b = append(b, 0xe8+byte(r.IntN(2)))
			b = binary.LittleEndian.AppendUint32(b, uint32(int32(r.IntN(1<<20)-1<<19)))
		case 2:
			n := r.IntN(24)
			if n < len(b) {
				b = append(b, b[len(b)-n-8:len(b)-8]...)
			}
		default:
			for range r.IntN(8) {
				b = append(b, byte(r.Uint32()))
			}
		}
	}
	for i := range code / 64 {
		b = binary.LittleEndian.AppendUint32(b, 0x81000000+uint32(i)*24)
	}
	return b
}

// withSize is the kernel's size_append: the output size, 4 bytes LE.
func withSize(c []byte, n int) []byte {
	return binary.LittleEndian.AppendUint32(bytes.Clone(c), uint32(n))
}

// payloads are the synthetic payloads, by name, each unpacking to
// sample(), or small() when small: Go encoders for gzip, xz (LZMA2 alone,
// CRC64 and SHA-256), LZMA, LZ4 legacy frames and zstd; the command-line
// tools' output, committed, for bzip2 (Go has no encoder), xz with the
// x86 BCJ filter and lzma -9 (see TestToolFixtures).
func payloads(t testing.TB) map[string][]byte { return payloadsOf(t, false) }

func payloadsOf(t testing.TB, isSmall bool) map[string][]byte {
	data := sample()
	if isSmall {
		data = small()
	}
	p := map[string][]byte{}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(data)
	must(zw.Close())
	p["gzip"] = gz.Bytes()

	for name, check := range map[string]byte{"xz-crc64": xz.CRC64, "xz-sha256": xz.SHA256, "xz-crc32": xz.CRC32} {
		var b bytes.Buffer
		w, err := xz.WriterConfig{CheckSum: check, DictCap: 1 << 20}.NewWriter(&b)
		must(err)
		w.Write(data)
		must(w.Close())
		p[name] = withSize(b.Bytes(), len(data))
	}

	var lz bytes.Buffer
	lw, err := lzma.WriterConfig{EOSMarker: true, DictCap: 1 << 20}.NewWriter(&lz)
	must(err)
	lw.Write(data)
	must(lw.Close())
	p["lzma-go"] = withSize(lz.Bytes(), len(data))

	var l4 bytes.Buffer
	w4 := lz4.NewWriter(&l4)
	must(w4.Apply(lz4.LegacyOption(true), lz4.CompressionLevelOption(lz4.Level9)))
	w4.Write(data)
	must(w4.Close())
	p["lz4"] = withSize(l4.Bytes(), len(data))

	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithEncoderConcurrency(1))
	must(err)
	p["zstd"] = withSize(enc.EncodeAll(data, nil), len(data))
	enc.Close()

	for name, file := range fixtures {
		c, err := os.ReadFile(fixturePath(file.name, isSmall))
		must(err)
		p[name] = withSize(c, len(data))
	}
	return p
}

// fixtures are payloads made by the command-line tools, as the kernel's
// build runs them (scripts/Makefile.lib, scripts/xz_wrap.sh for x86),
// from sample() and small() on standard input.
var fixtures = map[string]struct {
	name string
	cmd  []string
}{
	"bzip2":  {"sample.bz2", []string{"bzip2", "-9"}},
	"xz-x86": {"sample.xz", []string{"xz", "--check=crc32", "--x86", "--lzma2=,dict=32MiB"}},
	"lzma":   {"sample.lzma", []string{"lzma", "-9"}},
}

// TestToolFixtures runs the command-line tools the kernel's build uses on
// sample() and small() now, and unpacks what they make: the committed
// fixtures check our decoders against the tools' output of the day they
// were made, this against the tools installed (CI installs them). With
// BZIMAGE_WRITE_FIXTURES=1 it also rewrites testdata/ with that output.
func TestToolFixtures(t *testing.T) {
	write := os.Getenv("BZIMAGE_WRITE_FIXTURES") == "1"
	for name, f := range fixtures {
		t.Run(name, func(t *testing.T) {
			tool := testtool.Require(t, f.cmd[0])
			for _, isSmall := range []bool{false, true} {
				in := sample()
				if isSmall {
					in = small()
				}
				cmd := exec.Command(tool, f.cmd[1:]...)
				cmd.Stdin = bytes.NewReader(in)
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("%v: %v", f.cmd, err)
				}
				got, err := Vmlinux(fakeBzImage(1, withSize(out, len(in))))
				if err != nil {
					t.Fatalf("small=%v: unpacking %v's output: %v", isSmall, f.cmd, err)
				}
				if !bytes.Equal(got, in) {
					t.Fatalf("small=%v: %v's output unpacked to %d bytes, differing from the %d-byte input", isSmall, f.cmd, len(got), len(in))
				}
				if write {
					if err := os.WriteFile(fixturePath(f.name, isSmall), out, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
		})
	}
}

func fixturePath(name string, isSmall bool) string {
	if isSmall {
		name = "small" + strings.TrimPrefix(name, "sample")
	}
	return filepath.Join("testdata", name)
}

func TestFormats(t *testing.T) {
	testFormats(t, sample(), payloads(t))
	t.Run("small", func(t *testing.T) { testFormats(t, small(), payloadsOf(t, true)) })
}

func testFormats(t *testing.T, want []byte, payloads map[string][]byte) {
	for name, p := range payloads {
		t.Run(name, func(t *testing.T) {
			for _, sects := range []byte{0, 1, 27} {
				got, err := Vmlinux(fakeBzImage(sects, p))
				if err != nil {
					t.Fatalf("setup_sects %d: %v", sects, err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("setup_sects %d: %d bytes unpacked, differing from the %d-byte sample", sects, len(got), len(want))
				}
			}
		})
	}
}

// TestX86BCJ checks that the BCJ decoder undoes its encoder on data full
// of E8/E9 bytes, at start offsets where the 32-bit position wraps, and
// that it does change the data (so the xz-x86 fixture tests something).
func TestX86BCJ(t *testing.T) {
	data := sample()
	for _, start := range []uint32{0, 1, 0x1000, 0xfffffff0} {
		b := bytes.Clone(data)
		x86BCJ(b, start, true)
		if bytes.Equal(b, data) {
			t.Fatalf("start %#x: encoding changed nothing", start)
		}
		x86BCJ(b, start, false)
		if !bytes.Equal(b, data) {
			t.Errorf("start %#x: decode(encode(data)) differs", start)
		}
	}
	for n := range 5 {
		b := bytes.Repeat([]byte{0xe8}, n)
		x86BCJ(b, 0, false) // shorter than an instruction: untouched
		if !bytes.Equal(b, bytes.Repeat([]byte{0xe8}, n)) {
			t.Errorf("%d bytes changed", n)
		}
	}
}

func TestHeaderErrors(t *testing.T) {
	good := fakeBzImage(0, payloads(t)["gzip"])
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	le := binary.LittleEndian
	for _, tc := range []struct {
		name, err string
		img       []byte
	}{
		{"empty", "too short for a setup header", nil},
		{"short", "too short for a setup header", good[:hdrPayloadEnd-1]},
		{"no HdrS", "not a bzImage", edit(func(b []byte) []byte { b[hdrMagic] = 'h'; return b })},
		{"no boot flag", "not a bzImage", edit(func(b []byte) []byte { b[hdrBootFlag] = 0; return b })},
		{"protocol 2.07", "boot protocol 2.07 has no payload_offset", edit(func(b []byte) []byte { le.PutUint16(b[hdrVersion:], 0x0207); return b })},
		{"payload past the end", "is not inside the", edit(func(b []byte) []byte { le.PutUint32(b[hdrPayloadLength:], 0xffffffff); return b })},
		{"offset past the end", "is not inside the", edit(func(b []byte) []byte { le.PutUint32(b[hdrPayloadOffset:], 0xffffffff); return b })},
		{"empty payload", "is not inside the", edit(func(b []byte) []byte { le.PutUint32(b[hdrPayloadLength:], 0); return b })},
		{"truncated image", "is not inside the", good[:len(good)-100]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Vmlinux(tc.img)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want one saying %q", err, tc.err)
			}
		})
	}
}

func TestPayloadErrors(t *testing.T) {
	ps := payloads(t)
	notX86 := func(h []byte) []byte {
		var gz bytes.Buffer
		w := gzip.NewWriter(&gz)
		w.Write(h)
		w.Close()
		return gz.Bytes()
	}
	for _, tc := range []struct {
		name, err   string
		payload     []byte
		unsupported bool
	}{
		{"lzo", "lzo-compressed payload: unsupported compression", withSize([]byte{0x89, 'L', 'Z', 'O', 0, 0x0d, 0x0a, 0x1a, 0x0a}, 100), true},
		{"unknown", "payload of unknown compression (magic 01 02 03 04 05 06)", []byte{1, 2, 3, 4, 5, 6, 7, 8}, true},
		{"declares 0 bytes", "declares a 0-byte vmlinux", withSize(ps["lz4"][:len(ps["lz4"])-4], 0), false},
		{"declares too much", "unpacks at most 536870912 (MaxSize, 512 MiB)", withSize(ps["zstd"][:len(ps["zstd"])-4], MaxSize+1), false},
		{"declares less", "decompresses to more than the 100 bytes its last 4 bytes declare", withSize(ps["zstd"][:len(ps["zstd"])-4], 100), false},
		{"declares more", fmt.Sprintf("decompresses to %d bytes, not the %d", len(sample()), len(sample())+1), withSize(ps["lz4"][:len(ps["lz4"])-4], len(sample())+1), false},
		{"xz declares less", "decompresses to more than the 64 bytes", withSize(ps["xz-x86"][:len(ps["xz-x86"])-4], 64), false},
		{"not ELF", "are not an x86-64 vmlinux: bad magic number", notX86([]byte("this is not an ELF file at all")), false},
		{"ELF32", "not an x86-64 vmlinux: an ELF file of class ELFCLASS32", notX86(elfHeader(elf.ELFCLASS32, elf.EM_386)), false},
		{"aarch64", "not an x86-64 vmlinux: an ELF file of class ELFCLASS64 for EM_AARCH64", notX86(elfHeader(elf.ELFCLASS64, elf.EM_AARCH64)), false},
		{"too short", "too short for a compressed stream", []byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Vmlinux(fakeBzImage(0, tc.payload))
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want one saying %q", err, tc.err)
			}
			if errors.Is(err, ErrUnsupported) != tc.unsupported {
				t.Errorf("errors.Is(%v, ErrUnsupported) = %v", err, !tc.unsupported)
			}
		})
	}
}

// TestCorrupt cuts every payload short everywhere and flips bits all
// over it: errors, never a panic, and never an output of the wrong size.
func TestCorrupt(t *testing.T) {
	want := len(sample())
	for name, p := range payloads(t) {
		t.Run(name, func(t *testing.T) {
			step := max(1, len(p)/300)
			for n := 0; n < len(p); n += step {
				if _, err := Vmlinux(fakeBzImage(0, p[:n])); err == nil {
					t.Errorf("payload cut to %d of %d bytes: no error", n, len(p))
				}
			}
			r := rand.New(rand.NewPCG(3, uint64(len(p))))
			for range 300 {
				b := bytes.Clone(p)
				b[r.IntN(len(b)-4)] ^= 1 << r.IntN(8)
				out, err := Vmlinux(fakeBzImage(0, b))
				if err == nil && len(out) != want {
					t.Errorf("a flipped bit gave %d bytes and no error", len(out))
				}
			}
		})
	}
}

func FuzzVmlinux(f *testing.F) {
	for _, p := range payloadsOf(f, true) {
		f.Add(fakeBzImage(1, p))
	}
	f.Fuzz(func(t *testing.T, img []byte) {
		out, err := Vmlinux(img)
		if err != nil {
			return
		}
		if len(out) > MaxSize {
			t.Fatalf("%d bytes unpacked, over MaxSize", len(out))
		}
		if err := checkELF(out); err != nil {
			t.Fatalf("Vmlinux returned a non-vmlinux: %v", err)
		}
	})
}
