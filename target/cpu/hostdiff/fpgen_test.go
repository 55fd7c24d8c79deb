package hostdiff

// The generator's FP inputs: a random FP state every FP case starts
// from, and values biased to where floating point goes wrong.

import (
	"encoding/binary"
	"math"

	"vmapstack/target/x86"
)

// fpState generates the FP state of a case (SDM Vol. 1 8.1, 10.2.3):
//
//   - FCW: every exception masked (an unmasked one would fault on the
//     host: #MF at the next waiting x87 instruction, SDM Vol. 1 8.7),
//     random rounding control and precision control 00B, 10B or 11B (01B
//     is "Reserved", Table 8-2), bit 6 set and bits 12-15 clear as FNINIT
//     leaves them (bit 12, the infinity control, "is provided for
//     compatibility with the Intel 287" and bit 6 and 13-15 are
//     reserved: we do not find out what each processor keeps there).
//   - FSW: random condition codes and sticky exception flags, TOP
//     random; ES and B clear: with every exception masked, "ES is set if
//     any unmasked exception bit is set" cannot hold, and a set ES would
//     make the next waiting instruction raise #MF.
//   - a random stack depth: ST(0)..ST(depth-1) valid with the tags
//     FXRSTOR derives from the contents; the empty registers hold random
//     values too (MMX instructions read them).
//   - MXCSR: every exception masked (an unmasked one raises #XM on the
//     host, SDM Vol. 1 11.5.1), random sticky flags, rounding control,
//     FTZ and DAZ; bits 16-31 clear ("FXRSTOR ... #GP if ... attempting
//     to set reserved bits in the MXCSR").
//   - XMM0-15: each of a random kind (packed singles, doubles, integer
//     edges, random bytes).
func (g *gen) fpState() fpState {
	var s fpState
	pc := []uint16{3, 3, 3, 2, 0}[g.r.Intn(5)]
	s.fcw = 0x7f | pc<<8 | uint16(g.r.Intn(4))<<10
	top := g.r.Intn(8)
	var flags uint16
	if g.chance(2) {
		flags = uint16(g.r.Intn(0x80))
	}
	s.fsw = flags | uint16(g.r.Intn(16))&0x7<<8 | uint16(g.r.Intn(2))<<14 | uint16(top)<<11
	depth := []int{0, 1, 2, 2, 3, 3, 4, 5, 8, 8, 7, 6}[g.r.Intn(12)]
	for i := 0; i < 8; i++ {
		p := (top + i) & 7
		if i >= depth && g.chance(3) {
			// An empty register may hold any bits (MMX instructions
			// read them as integers); a valid one holds only canonical
			// values (f80).
			binary.LittleEndian.PutUint64(s.st[p][:], g.value())
			binary.LittleEndian.PutUint16(s.st[p][8:], uint16(g.r.Intn(0x10000)))
		} else {
			s.st[p] = g.f80()
		}
		if i < depth {
			s.tags |= 1 << p
		}
	}
	s.mxcsr = x86.MXCSRMasks | uint32(g.r.Intn(4))<<13
	if g.chance(2) {
		s.mxcsr |= uint32(g.r.Intn(64))
	}
	if g.chance(3) {
		s.mxcsr |= x86.MXCSRDAZ
	}
	if g.chance(3) {
		s.mxcsr |= x86.MXCSRFZ
	}
	for r := range s.xmm {
		s.xmm[r] = g.xmmValue("")
	}
	return s
}

// xmmValue is a 16-byte value of a kind: "ps"/"ss" four singles, "pd"/"sd"
// two doubles, "i" integer edges of a random lane size, "" any of these
// or random bytes.
func (g *gen) xmmValue(kind string) (x [16]byte) {
	if kind == "" {
		kind = []string{"ps", "pd", "i", "i", "r", "ps", "pd"}[g.r.Intn(7)]
	}
	switch kind {
	case "ps", "ss":
		for i := 0; i < 4; i++ {
			binary.LittleEndian.PutUint32(x[4*i:], g.f32())
		}
	case "pd", "sd":
		for i := 0; i < 2; i++ {
			binary.LittleEndian.PutUint64(x[8*i:], g.f64())
		}
	case "i":
		g.intLanes(x[:])
	default:
		g.r.Read(x[:])
	}
	return x
}

// intLanes fills b with integer lanes of one random size: edges of that
// size (saturation and sign boundaries), small values, random.
func (g *gen) intLanes(b []byte) {
	size := []int{1, 2, 4, 8}[g.r.Intn(4)]
	for i := 0; i+size <= len(b); i += size {
		var v uint64
		switch g.r.Intn(4) {
		case 0:
			v = []uint64{0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
				0x7fffffffffffffff, 0x8000000000000000, ^uint64(0)}[g.r.Intn(14)]
			if size < 8 && v > mask(8*size) {
				v = mask(8 * size)
			}
		case 1:
			v = uint64(g.r.Intn(33) - 16)
		default:
			v = g.r.Uint64()
		}
		for j := 0; j < size; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
}

// f32 is a single-precision value (SDM Vol. 1 4.2.2, 4.8): zeros,
// denormals, infinities, QNaNs (the indefinite among them), SNaNs, small
// integers and halves (rounding ties of the conversions), the integer
// conversion limits, values one ulp either side of 1 and of powers of
// two, the largest and smallest normals, and random values.
func (g *gen) f32() uint32 {
	sign := uint32(g.r.Intn(2)) << 31
	switch g.r.Intn(13) {
	case 0:
		return sign
	case 1:
		return sign | []uint32{1, 0x7fffff, 0x400000, uint32(1 + g.r.Intn(0x7fffff))}[g.r.Intn(4)]
	case 2:
		return sign | 0x7f800000
	case 3:
		if g.chance(3) {
			return 0xffc00000 // the QNaN floating-point indefinite
		}
		return sign | 0x7fc00000 | uint32(g.r.Intn(0x400000))
	case 4:
		return sign | 0x7f800000 | uint32(1+g.r.Intn(0x3fffff))
	case 5:
		v := []float32{1, 2, 3, 0.5, 1.5, 2.5, 3.5, 0.25, 0.75, 10, 100, 65535, 65536, 32767.5, 32768, -32768.5,
			2147483520, 2147483648, 4294967296, 9.223371e18, 9.223372e18, 1e-3, 0.1}[g.r.Intn(23)]
		return sign | math.Float32bits(v)&^(1<<31)
	case 6:
		// One ulp around a power of two.
		e := uint32(100 + g.r.Intn(55))
		return sign | uint32(int64(e<<23)+int64(g.r.Intn(5)-2))
	case 7:
		return sign | []uint32{0x7f7fffff, 0x00800000, 0x00800001, 0x7f7ffffe, 0x3f7fffff, 0x3f800001}[g.r.Intn(6)]
	case 8:
		// A significand ending in a tie-like pattern: products and sums
		// of these round at the half-way point.
		m := uint32(g.r.Intn(1<<23)) | 0xfff
		if g.chance(2) {
			m &^= 0xffe
		}
		return sign | uint32(100+g.r.Intn(55))<<23 | m&0x7fffff
	case 9:
		return g.r.Uint32()
	case 10:
		// Near the underflow threshold: a few ulps around 2^-63 (whose
		// products land next to the smallest normal 2^-126) and around
		// 2^-126 itself, where tininess and denormal rounding meet.
		e := []uint32{64, 63, 1, 2, 126, 127}[g.r.Intn(6)]
		return sign | uint32(int64(e<<23)+int64(g.r.Intn(9)-4))
	}
	return sign | uint32(110+g.r.Intn(35))<<23 | uint32(g.r.Intn(1<<23))
}

// f64 is f32's double-precision counterpart.
func (g *gen) f64() uint64 {
	sign := uint64(g.r.Intn(2)) << 63
	switch g.r.Intn(13) {
	case 0:
		return sign
	case 1:
		return sign | []uint64{1, 1<<52 - 1, 1 << 51, uint64(1 + g.r.Int63n(1<<52-1))}[g.r.Intn(4)]
	case 2:
		return sign | 0x7ff0000000000000
	case 3:
		if g.chance(3) {
			return 0xfff8000000000000
		}
		return sign | 0x7ff8000000000000 | uint64(g.r.Int63n(1<<51))
	case 4:
		return sign | 0x7ff0000000000000 | uint64(1+g.r.Int63n(1<<51-1))
	case 5:
		v := []float64{1, 2, 3, 0.5, 1.5, 2.5, 3.5, 0.25, 0.75, 10, 100, 65535, 65536, 32767.5, 32768, 32768.5,
			2147483647, 2147483647.5, 2147483648, 2147483648.5, 4294967296, 9223372036854774784, 9223372036854775808,
			1e-3, 0.1, float64(math.MaxFloat32), 1.401298464324817e-45, 1.1754943508222875e-38, 3.4028235677973366e+38}[g.r.Intn(29)]
		return sign | math.Float64bits(v)&^(1<<63)
	case 6:
		e := uint64(900 + g.r.Intn(250))
		return sign | uint64(int64(e<<52)+int64(g.r.Intn(5)-2))
	case 7:
		return sign | []uint64{0x7fefffffffffffff, 0x0010000000000000, 0x0010000000000001, 0x3fefffffffffffff, 0x3ff0000000000001,
			0x36a0000000000000, 0x3690000000000000, 0x47efffffe0000000, 0x47effffff0000000}[g.r.Intn(9)]
	case 8:
		// Doubles whose conversion to single rounds at a tie, or next to one.
		m := uint64(g.r.Int63n(1<<52))&^(1<<29-1) | 1<<28 | uint64(g.r.Intn(3))
		return sign | uint64(900+g.r.Intn(250))<<52 | m&(1<<52-1)
	case 9:
		return g.r.Uint64()
	case 10:
		// Near the underflow threshold (see f32): 2^-511, 2^-1022, and
		// the single-precision threshold 2^-126 for CVTSD2SS.
		e := []uint64{512, 511, 1, 2, 1023, 1023 - 126, 1023 - 127, 1023 - 149, 1023 - 150}[g.r.Intn(9)]
		return sign | uint64(int64(e<<52)+int64(g.r.Intn(9)-4)<<g.r.Intn(30))
	}
	return sign | uint64(1000+g.r.Intn(50))<<52 | uint64(g.r.Int63n(1<<52))
}

// f80 is a canonical extended-precision value (SDM Vol. 1 4.2.2, Table
// 4-3, 8.2.2): zeros, denormals (exponent 0, integer bit 0), normals
// (integer bit 1), infinities, QNaNs and SNaNs (integer bit 1). Pseudo-
// denormals, unnormals, pseudo-NaNs and pseudo-infinities are not
// generated: "The Intel 387 math coprocessor and later IA-32 processors
// generate an invalid-operation exception when [unnormals, pseudo-NaNs,
// pseudo-infinities] are encountered as operands" while pseudo-denormals
// are still accepted (8.2.2), a corner processors need not agree on
// beyond that, and no instruction produces them.
func (g *gen) f80() (r [10]byte) {
	sign := uint16(g.r.Intn(2)) << 15
	put := func(e uint16, m uint64) [10]byte {
		binary.LittleEndian.PutUint64(r[:], m)
		binary.LittleEndian.PutUint16(r[8:], sign|e)
		return r
	}
	switch g.r.Intn(13) {
	case 0:
		return put(0, 0)
	case 1:
		return put(0, []uint64{1, 1<<63 - 1, uint64(1 + g.r.Int63n(1<<63-1))}[g.r.Intn(3)])
	case 2:
		return put(0x7fff, 1<<63)
	case 3:
		if g.chance(3) {
			sign = 1 << 15
			return put(0x7fff, 0xc000000000000000) // the indefinite
		}
		return put(0x7fff, 0xc000000000000000|uint64(g.r.Int63n(1<<62)))
	case 4:
		return put(0x7fff, 1<<63|uint64(1+g.r.Int63n(1<<62-1)))
	case 5, 6:
		// An exactly representable double or single: the values
		// f32/f64 bias towards, and exact stores to memory.
		var f float64
		if g.chance(2) {
			f = float64(math.Float32frombits(g.f32()))
		} else {
			f = math.Float64frombits(g.f64())
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			f = float64(g.r.Intn(2000) - 1000)
		}
		return f80FromFloat(f)
	case 7:
		// Integers near the limits of FIST m16/m32/m64 and of FBSTP
		// (18 digits), and halves (ties of FRNDINT and FIST).
		v := []float64{32767, 32768, -32768, -32769, 32767.5, -32768.5, 2147483647, 2147483648, -2147483648, -2147483649,
			2147483647.5, 0.5, 1.5, 2.5, -0.5, -2.5, 999999999999999999, 1e18, 9223372036854775807, 9223372036854775808, 1e17}[g.r.Intn(21)]
		if v == 9223372036854775807 {
			return put(0x403d, ^uint64(0)) // 2^64-1 as an integer: exactly, not the double
		}
		r = f80FromFloat(v)
		if v == 999999999999999999 {
			binary.LittleEndian.PutUint64(r[:], 999999999999999999<<(63-59))
		}
		return r
	case 8:
		// One ulp around a power of two, and the largest and smallest
		// normals.
		e := uint16(16383 + g.r.Intn(130) - 65)
		switch g.r.Intn(4) {
		case 0:
			return put(e, ^uint64(0))
		case 1:
			return put(e, 1<<63|1)
		case 2:
			return put([]uint16{0x7ffe, 1}[g.r.Intn(2)], []uint64{^uint64(0), 1 << 63}[g.r.Intn(2)])
		}
		return put(e, 1<<63)
	case 9:
		// Significands with a tie at 24 or 53 bits (precision control)
		// or 64 bits (the FPU's own rounding).
		m := 1<<63 | uint64(g.r.Int63())
		switch g.r.Intn(3) {
		case 0:
			m = m&^(1<<40-1) | 1<<39
		case 1:
			m = m&^(1<<11-1) | 1<<10
		}
		return put(uint16(16383+g.r.Intn(80)-40), m)
	case 10:
		// Around the limits of the single and double formats: stores
		// to m32/m64 that overflow, underflow, or round into their
		// denormals.
		e := []int{127, 128, -126, -127, -149, -150, 1023, 1024, -1022, -1023, -1074, -1075}[g.r.Intn(12)]
		return put(uint16(16383+e), 1<<63|uint64(g.r.Int63())>>uint(g.r.Intn(64)))
	}
	return put(uint16(16383+g.r.Intn(200)-100), 1<<63|uint64(g.r.Int63()))
}

// f80FromFloat converts a finite float64 exactly.
func f80FromFloat(f float64) (r [10]byte) {
	var sign uint16
	if math.Signbit(f) {
		sign = 1 << 15
		f = -f
	}
	if f == 0 {
		binary.LittleEndian.PutUint16(r[8:], sign)
		return r
	}
	frac, exp := math.Frexp(f) // f = frac * 2^exp, frac in [0.5, 1)
	m := uint64(frac * (1 << 53))
	binary.LittleEndian.PutUint64(r[:], m<<11)
	binary.LittleEndian.PutUint16(r[8:], sign|uint16(exp-1+16383))
	return r
}
