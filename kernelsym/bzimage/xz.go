package bzimage

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/crc64"

	"github.com/ulikunitz/xz/lzma"
)

// The kernel's xz payload is what scripts/xz_wrap.sh makes for x86:
// `xz --check=crc32 --x86 --lzma2=,dict=32MiB`, an x86 BCJ filter in front
// of LZMA2. ulikunitz/xz's Reader takes only a lone LZMA2 filter ("xz:
// unsupported filter count"), so this file reads the .xz container itself
// (XZ Utils' doc/xz-file-format.txt, version 1.2.1; section numbers below
// are that document's), hands each block's LZMA2 data to ulikunitz/xz's
// lzma.Reader2, and undoes the BCJ filter on the block's output.

const (
	xzMagic       = "\xfd7zXZ\x00" // §2.1.1.1, Header Magic Bytes
	xzFooterMagic = "YZ"           // §2.1.2.4

	xzFilterX86   = 0x04 // §5.3.3, Branch/Call/Jump filters: x86
	xzFilterLZMA2 = 0x21 // §5.3.1
)

var crc64Table = crc64.MakeTable(crc64.ECMA) // §7.2: CRC64 with the ECMA-182 polynomial, as Go's

// xzInput is the compressed data and how far it has been read, so that
// errors can say where.
type xzInput struct {
	b   []byte
	pos int
}

func (in *xzInput) take(n int, what string) ([]byte, error) {
	if n < 0 || n > len(in.b)-in.pos {
		return nil, fmt.Errorf("%s at offset %d: truncated (%d bytes, %d left)", what, in.pos, n, len(in.b)-in.pos)
	}
	b := in.b[in.pos : in.pos+n]
	in.pos += n
	return b, nil
}

// uvarint decodes §1.2's multibyte integer from the start of b: 7 bits a
// byte, least significant first, at most 9 bytes, no needless zero byte.
func uvarint(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < len(b) && i < 9; i++ {
		if i > 0 && b[i] == 0 {
			return 0, 0, errors.New("integer with a needless zero byte")
		}
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errors.New("integer longer than 9 bytes or truncated")
}

func (in *xzInput) uvarint(what string) (uint64, error) {
	v, n, err := uvarint(in.b[in.pos:])
	if err != nil {
		return 0, fmt.Errorf("%s at offset %d: %w", what, in.pos, err)
	}
	in.pos += n
	return v, nil
}

// unpackXz decodes one or more concatenated .xz streams (§2), each
// possibly followed by Stream Padding (§2.2).
func unpackXz(c []byte, out *output) error {
	in := &xzInput{b: c}
	for {
		if err := in.stream(out); err != nil {
			return err
		}
		start := in.pos
		for in.pos < len(in.b) && in.b[in.pos] == 0 {
			in.pos++
		}
		if (in.pos-start)%4 != 0 {
			return fmt.Errorf("stream padding at offset %d: %d null bytes, not a multiple of 4", start, in.pos-start)
		}
		if in.pos == len(in.b) {
			return nil
		}
	}
}

// xzRecord is a block's Index Record (§4.3).
type xzRecord struct {
	unpadded, uncompressed uint64
}

func (in *xzInput) stream(out *output) error {
	h, err := in.take(12, "stream header")
	if err != nil {
		return err
	}
	if string(h[:6]) != xzMagic {
		return fmt.Errorf("stream header at offset %d: no xz magic", in.pos-12)
	}
	flags := h[6:8]
	if crc32.ChecksumIEEE(flags) != binary.LittleEndian.Uint32(h[8:]) {
		return fmt.Errorf("stream header at offset %d: CRC32 mismatch", in.pos-12)
	}
	if flags[0] != 0 || flags[1]&0xf0 != 0 {
		return fmt.Errorf("stream header at offset %d: reserved stream flags % x set", in.pos-12, flags)
	}
	check := flags[1]
	var records []xzRecord
	for {
		if in.pos >= len(in.b) {
			return fmt.Errorf("offset %d: truncated before the index", in.pos)
		}
		if in.b[in.pos] == 0 { // §3.1.1: 0x00 is the Index Indicator
			break
		}
		r, err := in.block(check, out)
		if err != nil {
			return err
		}
		records = append(records, r)
	}
	indexStart := in.pos
	if err := in.index(records); err != nil {
		return err
	}
	f, err := in.take(12, "stream footer")
	if err != nil {
		return err
	}
	at := in.pos - 12
	switch {
	case crc32.ChecksumIEEE(f[4:10]) != binary.LittleEndian.Uint32(f):
		return fmt.Errorf("stream footer at offset %d: CRC32 mismatch", at)
	case (uint64(binary.LittleEndian.Uint32(f[4:]))+1)*4 != uint64(at-indexStart):
		return fmt.Errorf("stream footer at offset %d: backward size %d, the index is %d bytes",
			at, (uint64(binary.LittleEndian.Uint32(f[4:]))+1)*4, at-indexStart)
	case !bytes.Equal(f[8:10], flags):
		return fmt.Errorf("stream footer at offset %d: stream flags % x differ from the header's % x", at, f[8:10], flags)
	case string(f[10:]) != xzFooterMagic:
		return fmt.Errorf("stream footer at offset %d: no footer magic \"YZ\"", at)
	}
	return nil
}

// checkSize is the size of a block's Check field for each check type
// (§3.4: 0, then 4, 8, 16, 32 and 64 bytes for three IDs each).
func checkSize(id byte) int {
	if id == 0 {
		return 0
	}
	return 4 << ((id - 1) / 3)
}

// block decodes one block (§3) into out and returns its index record.
func (in *xzInput) block(check byte, out *output) (xzRecord, error) {
	start := in.pos
	size := (int(in.b[in.pos]) + 1) * 4 // §3.1.1: Block Header Size
	hdr, err := in.take(size, "block header")
	if err != nil {
		return xzRecord{}, err
	}
	bad := func(format string, args ...any) (xzRecord, error) {
		return xzRecord{}, fmt.Errorf("block at offset %d: "+format, append([]any{start}, args...)...)
	}
	if crc32.ChecksumIEEE(hdr[:size-4]) != binary.LittleEndian.Uint32(hdr[size-4:]) {
		return bad("header CRC32 mismatch")
	}
	flags := hdr[1] // §3.1.2
	if flags&0x3c != 0 {
		return bad("reserved block flags 0x%02x set", flags)
	}
	h := &xzInput{b: hdr[:size-4], pos: 2}
	compressed, uncompressed := int64(-1), int64(-1)
	if flags&0x40 != 0 {
		v, err := h.uvarint("compressed size")
		if err != nil || v == 0 {
			return bad("bad compressed size (%v)", err)
		}
		compressed = int64(v)
	}
	if flags&0x80 != 0 {
		v, err := h.uvarint("uncompressed size")
		if err != nil {
			return bad("%v", err)
		}
		uncompressed = int64(v)
	}
	// §3.1.5: the filters in encoding order; LZMA2 must come last. The
	// kernel's chain is [x86, LZMA2]; a lone LZMA2 is the xz default.
	n := int(flags&3) + 1
	var x86 bool
	var x86Start uint32
	var dict int64
	for i := range n {
		id, err := h.uvarint("filter ID")
		if err != nil {
			return bad("%v", err)
		}
		psize, err := h.uvarint("filter properties size")
		if err != nil {
			return bad("%v", err)
		}
		if psize > uint64(len(h.b)-h.pos) {
			return bad("filter 0x%x: %d bytes of properties run past the header", id, psize)
		}
		props, _ := h.take(int(psize), "filter properties")
		switch {
		case id == xzFilterLZMA2 && i == n-1:
			// §5.3.1: one byte, the dictionary size code, at most 40.
			if len(props) != 1 || props[0] > 40 {
				return bad("LZMA2 properties % x", props)
			}
			d, err := lzma.DecodeDictCap(props[0])
			if err != nil {
				return bad("LZMA2 dictionary: %v", err)
			}
			dict = d
		case id == xzFilterX86 && i == 0 && n == 2:
			// §5.3.3: no properties, or a 4-byte start offset.
			switch len(props) {
			case 0:
			case 4:
				x86Start = binary.LittleEndian.Uint32(props)
			default:
				return bad("x86 BCJ filter properties % x", props)
			}
			x86 = true
		default:
			return bad("filter chain with filter 0x%x in place %d of %d: %w (only x86 BCJ then LZMA2, or LZMA2 alone, as the kernel's build writes)",
				id, i+1, n, ErrUnsupported)
		}
	}
	for _, b := range h.b[h.pos:] { // §3.1.6: Header Padding
		if b != 0 {
			return bad("non-zero header padding")
		}
	}

	// LZMA2 never refers further back than what it has output, so a
	// dictionary larger than the whole output is never needed: reading a
	// hostile header's 4 GiB dictionary would allocate it up front.
	dictCap := max(lzma.MinDictCap, min(dict, int64(out.max)))
	data := in.b[in.pos:]
	br := bytes.NewReader(data)
	r, err := lzma.Reader2Config{DictCap: int(dictCap)}.NewReader2(br)
	if err != nil {
		return bad("LZMA2: %v", err)
	}
	first := len(out.buf)
	if err := out.readFrom(r); err != nil {
		return bad("LZMA2 data: %v", err)
	}
	used := len(data) - br.Len()
	in.pos += used
	got := out.buf[first:]
	if compressed >= 0 && int64(used) != compressed {
		return bad("LZMA2 data is %d bytes, the header says %d", used, compressed)
	}
	if uncompressed >= 0 && int64(len(got)) != uncompressed {
		return bad("unpacks to %d bytes, the header says %d", len(got), uncompressed)
	}
	if x86 {
		x86BCJ(got, x86Start, false)
	}
	for (in.pos-start)%4 != 0 { // §3.3: Block Padding
		p, err := in.take(1, "block padding")
		if err != nil {
			return xzRecord{}, err
		}
		if p[0] != 0 {
			return bad("non-zero block padding")
		}
	}
	// §3.4: the Check is of the uncompressed data, after all filters.
	sum, err := in.take(checkSize(check), "block check")
	if err != nil {
		return xzRecord{}, err
	}
	switch check {
	case 0x00:
	case 0x01:
		if crc32.ChecksumIEEE(got) != binary.LittleEndian.Uint32(sum) {
			return bad("CRC32 of the %d unpacked bytes does not match", len(got))
		}
	case 0x04:
		if crc64.Checksum(got, crc64Table) != binary.LittleEndian.Uint64(sum) {
			return bad("CRC64 of the %d unpacked bytes does not match", len(got))
		}
	case 0x0a:
		if s := sha256.Sum256(got); !bytes.Equal(s[:], sum) {
			return bad("SHA-256 of the %d unpacked bytes does not match", len(got))
		}
	default:
		return bad("check type 0x%x: %w", check, ErrUnsupported)
	}
	return xzRecord{
		unpadded:     uint64(size + used + len(sum)),
		uncompressed: uint64(len(got)),
	}, nil
}

// index reads the Index (§4) and checks it lists the blocks just read.
func (in *xzInput) index(blocks []xzRecord) error {
	start := in.pos
	in.pos++ // the Index Indicator, checked by the caller
	count, err := in.uvarint("index")
	if err != nil {
		return err
	}
	if count != uint64(len(blocks)) {
		return fmt.Errorf("index at offset %d: %d records for %d blocks", start, count, len(blocks))
	}
	for i, b := range blocks {
		u, err := in.uvarint("index record")
		if err != nil {
			return err
		}
		n, err := in.uvarint("index record")
		if err != nil {
			return err
		}
		if u != b.unpadded || n != b.uncompressed {
			return fmt.Errorf("index at offset %d: record %d says %d/%d bytes, block %d is %d/%d (unpadded/uncompressed)",
				start, i, u, n, i, b.unpadded, b.uncompressed)
		}
	}
	for (in.pos-start)%4 != 0 { // §4.4: Index Padding
		p, err := in.take(1, "index padding")
		if err != nil {
			return err
		}
		if p[0] != 0 {
			return fmt.Errorf("index at offset %d: non-zero padding", start)
		}
	}
	body := in.b[start:in.pos]
	sum, err := in.take(4, "index CRC32")
	if err != nil {
		return err
	}
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(sum) {
		return fmt.Errorf("index at offset %d: CRC32 mismatch", start)
	}
	return nil
}

// x86BCJ undoes (or, encoding, applies) the x86 branch converter over
// buf, whose first byte is at stream position pos: the relative targets
// of E8 (CALL) and E9 (JMP) instructions were made absolute so that
// LZMA finds more repeats. This is XZ Utils' liblzma/simple/x86.c
// (public domain), run over the whole block at once: the streaming
// filter converts each position once it has the following 4 bytes and
// leaves the last 4 of the block as they are, as one pass over the
// whole block does.
func x86BCJ(buf []byte, pos uint32, encode bool) {
	// Which prev_mask states allow a conversion, and which byte of the
	// target a mask state inspects.
	allowed := [8]bool{true, true, true, false, true, false, false, false}
	bitNumber := [8]uint32{0, 1, 2, 2, 3, 3, 3, 3}
	msByte := func(b byte) bool { return b == 0 || b == 0xff } // Test86MSByte

	if len(buf) < 5 {
		return
	}
	// x86_coder_init sets prev_pos to (uint32_t)-5, and x86_code moves it
	// up to now_pos-5 when it is further back: either way, pos-5.
	prevMask, prevPos := uint32(0), pos-5
	limit := len(buf) - 5
	for i := 0; i <= limit; {
		b := buf[i]
		if b != 0xe8 && b != 0xe9 {
			i++
			continue
		}
		offset := pos + uint32(i) - prevPos
		prevPos = pos + uint32(i)
		if offset > 5 {
			prevMask = 0
		} else {
			for range offset {
				prevMask &= 0x77
				prevMask <<= 1
			}
		}
		b = buf[i+4]
		if msByte(b) && allowed[(prevMask>>1)&7] && prevMask>>1 < 0x10 {
			src := binary.LittleEndian.Uint32(buf[i+1:])
			var dest uint32
			for {
				if encode {
					dest = src + (pos + uint32(i) + 5)
				} else {
					dest = src - (pos + uint32(i) + 5)
				}
				if prevMask == 0 {
					break
				}
				j := bitNumber[prevMask>>1]
				if !msByte(byte(dest >> (24 - j*8))) {
					break
				}
				src = dest ^ (1<<(32-j*8) - 1)
			}
			// The top byte becomes 0x00 or 0xff from bit 24, the target's
			// sign within the ±16 MiB range the filter converts.
			buf[i+4] = ^byte((dest>>24)&1 - 1)
			buf[i+3] = byte(dest >> 16)
			buf[i+2] = byte(dest >> 8)
			buf[i+1] = byte(dest)
			i += 5
			prevMask = 0
		} else {
			i++
			prevMask |= 1
			if msByte(b) {
				prevMask |= 0x10
			}
		}
	}
}
