package hostdiff

// The floating-point state of a case: the 512-byte FXSAVE image the
// trampoline loads with FXRSTOR before the instruction and stores with
// FXSAVE after it (SDM Vol. 1 10.5.1, Table 10-2), its conversion to and
// from cpu.State, the generator of interesting x87/SSE values, and the
// comparison with what the SDM leaves to the implementation masked.

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strings"

	"vmapstack/target/x86"

	"vmapstack/target/cpu"
)

// Code-page offsets of the three FXSAVE images (16-byte aligned, as
// FXSAVE and FXRSTOR require: SDM Vol. 2A FXSAVE, "#GP(0) If the memory
// operand is not aligned on a 16-byte boundary"). The trampoline ends
// before offFPIn (codePage checks).
const (
	offFPIn   = 0x1400 // the case's FP state, loaded by FXRSTOR
	offFPOut  = 0x1600 // the state after the instruction, FXSAVE
	offFPSave = 0x1800 // the Go caller's FP state, saved and restored
	fxSize    = 512
)

// FXSAVE image layout in 64-bit mode without REX.W (SDM Vol. 1 Table
// 10-2): the FPU instruction and data pointers are the 32-bit forms.
const (
	fxFCW   = 0
	fxFSW   = 2
	fxFTW   = 4 // abridged: bit i set when physical register Ri is not empty
	fxFOP   = 6
	fxFIP   = 8
	fxFDP   = 16
	fxMXCSR = 24
	fxST    = 32  // ST(0)..ST(7), 16 bytes each, stack order
	fxXMM   = 160 // XMM0..XMM15
)

// fpState is the FP state of one side, in the form both sides can give:
// the physical registers R0-R7 (TOP maps ST(i) to R((TOP+i) mod 8)) and
// the abridged tag word of FXSAVE.
type fpState struct {
	fcw, fsw uint16
	tags     uint8 // bit i: Ri is not empty
	st       [8][10]byte
	mxcsr    uint32
	xmm      [16][16]byte
}

func (s *fpState) top() int { return int(s.fsw >> 11 & 7) }

// phys is the physical register of ST(i).
func (s *fpState) phys(i int) int { return (s.top() + i) & 7 }

// parseFX reads an FXSAVE image.
func parseFX(im []byte) fpState {
	var s fpState
	s.fcw = binary.LittleEndian.Uint16(im[fxFCW:])
	s.fsw = binary.LittleEndian.Uint16(im[fxFSW:])
	s.tags = im[fxFTW]
	s.mxcsr = binary.LittleEndian.Uint32(im[fxMXCSR:])
	for i := 0; i < 8; i++ {
		copy(s.st[s.phys(i)][:], im[fxST+16*i:])
	}
	for i := range s.xmm {
		copy(s.xmm[i][:], im[fxXMM+16*i:])
	}
	return s
}

// image returns the FXSAVE image of s (FOP, FIP, FDP zero, MXCSR_MASK
// zero: FXRSTOR ignores it).
func (s *fpState) image() []byte {
	im := make([]byte, fxSize)
	binary.LittleEndian.PutUint16(im[fxFCW:], s.fcw)
	binary.LittleEndian.PutUint16(im[fxFSW:], s.fsw)
	im[fxFTW] = s.tags
	binary.LittleEndian.PutUint32(im[fxMXCSR:], s.mxcsr)
	for i := 0; i < 8; i++ {
		copy(im[fxST+16*i:], s.st[s.phys(i)][:])
	}
	for i := range s.xmm {
		copy(im[fxXMM+16*i:], s.xmm[i][:])
	}
	return im
}

// tagClass is the two-bit tag FXRSTOR computes for a non-empty register
// from its contents (SDM Vol. 1 10.5.1.1, Table 10-3): 00 valid, 01
// zero, 10 special (NaN, infinity, denormal, unsupported format).
func tagClass(r [10]byte) uint16 {
	exp := binary.LittleEndian.Uint16(r[8:]) & 0x7fff
	mant := binary.LittleEndian.Uint64(r[:])
	switch {
	case exp == 0x7fff:
		return 2
	case exp == 0 && mant == 0:
		return 1
	case exp == 0:
		return 2 // denormal or pseudo-denormal
	case mant>>63 == 0:
		return 2 // unnormal
	}
	return 0
}

// fullTag is the 16-bit tag word FXRSTOR reconstructs from the abridged
// one: 11 for an empty register, tagClass otherwise.
func (s *fpState) fullTag() uint16 {
	var t uint16
	for i := 0; i < 8; i++ {
		c := uint16(3)
		if s.tags&(1<<i) != 0 {
			c = tagClass(s.st[i])
		}
		t |= c << (2 * i)
	}
	return t
}

// toCPU gives the emulator the state FXRSTOR gives the host.
func (s *fpState) toCPU(st *cpu.State) {
	st.ST = s.st
	st.FCTRL, st.FSTAT, st.FTAG = uint32(s.fcw), uint32(s.fsw), uint32(s.fullTag())
	st.FISEG, st.FIOFF, st.FOSEG, st.FOOFF, st.FOP = 0, 0, 0, 0, 0
	st.XMM, st.MXCSR = s.xmm, s.mxcsr
}

// fromCPU is the emulator's state in the form FXSAVE shows the host's.
func fromCPU(st *cpu.State) fpState {
	s := fpState{fcw: uint16(st.FCTRL), fsw: uint16(st.FSTAT), st: st.ST, mxcsr: st.MXCSR, xmm: st.XMM}
	for i := 0; i < 8; i++ {
		if st.FTAG>>(2*i)&3 != 3 {
			s.tags |= 1 << i
		}
	}
	return s
}

// fpCase is the FP part of a case: its input state and what the SDM
// leaves to the implementation for this instruction and these inputs.
type fpCase struct {
	in fpState
	// undefFSW: status-word bits not compared (the C0-C3 an instruction
	// page calls undefined).
	undefFSW uint16
	// undefMXCSR: MXCSR bits not compared.
	undefMXCSR uint32
	// approx: XMM lanes compared within a relative error bound.
	approx []approxLane
	// ulpST: ST(i) after the instruction (bit i) compared within one
	// unit in the last place of the 64-bit significand.
	ulpST uint8
	// undefST: ST(i) after the instruction not compared.
	undefST uint8
	// undefTOP: TOP and the tags not compared (never needed so far).
	// xmmShow, stShow: the registers the instruction reads or writes,
	// printed in reports (bit i: XMMi; stShow bit 8 means MMX registers).
	xmmShow uint16
	mmx     bool
	lanes   string // "ps", "pd", "ss", "sd" or "" (integer): how reports print XMM
	// mem: data-region offset and length of the memory operand, printed
	// in reports.
	memOff, memLen int
}

// approxLane is a float32 lane of an XMM register whose value the SDM
// only bounds: RCPPS/RCPSS/RSQRTPS/RSQRTSS, "|Relative Error| <=
// 1.5*2^-12". ref is the exact value; both sides must be within rel of
// it (the host too: a host outside the bound is a generator error).
type approxLane struct {
	reg, lane int
	ref       float64
	rel       float64
}

// fpDiff lists what differs between the host's FP state and the
// emulator's, ignoring what the case declares undefined.
func fpDiff(f *fpCase, nat, emu *fpState) []string {
	var d []string
	for r := 0; r < 16; r++ {
		n, e := nat.xmm[r], emu.xmm[r]
		for _, a := range f.approx {
			if a.reg != r {
				continue
			}
			nv := math.Float32frombits(binary.LittleEndian.Uint32(n[4*a.lane:]))
			ev := math.Float32frombits(binary.LittleEndian.Uint32(e[4*a.lane:]))
			if within(float64(nv), a.ref, a.rel) && within(float64(ev), a.ref, a.rel) {
				copy(e[4*a.lane:4*a.lane+4], n[4*a.lane:])
			} else if !within(float64(nv), a.ref, a.rel) {
				d = append(d, fmt.Sprintf("host XMM%d[%d] outside the SDM bound", r, a.lane))
			}
		}
		if n != e {
			d = append(d, fmt.Sprintf("XMM%d", r))
		}
	}
	if (nat.mxcsr^emu.mxcsr)&^f.undefMXCSR != 0 {
		d = append(d, "MXCSR")
	}
	if nat.fcw != emu.fcw {
		d = append(d, "FCW")
	}
	if x := (nat.fsw ^ emu.fsw) &^ f.undefFSW; x != 0 {
		d = append(d, "FSW["+fswString(x)+"]")
	}
	if nat.tags != emu.tags {
		d = append(d, "tags")
	}
	for i := 0; i < 8; i++ {
		p := nat.phys(i)
		if nat.tags&(1<<p) == 0 || f.undefST&(1<<i) != 0 {
			continue // empty: nothing to compare (SDM Vol. 1 8.1.7)
		}
		ep := emu.phys(i)
		if nat.st[p] == emu.st[ep] {
			continue
		}
		if f.ulpST&(1<<i) != 0 && ulpDist(nat.st[p], emu.st[ep]) <= 1 {
			continue
		}
		d = append(d, fmt.Sprintf("ST%d", i))
	}
	return d
}

// within: v is x, or both are finite with |v-x| <= rel*|x|.
func within(v, x, rel float64) bool {
	if v == x || math.IsNaN(v) && math.IsNaN(x) {
		return true
	}
	return !math.IsInf(x, 0) && math.Abs(v-x) <= rel*math.Abs(x)
}

// ulpDist is the distance in units of the last place of two 80-bit
// values of the same sign, both finite and normal or zero; otherwise 0
// if equal and a large number if not.
func ulpDist(a, b [10]byte) uint64 {
	if a == b {
		return 0
	}
	ea, eb := binary.LittleEndian.Uint16(a[8:]), binary.LittleEndian.Uint16(b[8:])
	if ea>>15 != eb>>15 || ea&0x7fff == 0x7fff || eb&0x7fff == 0x7fff {
		return math.MaxUint64
	}
	// Finite values of one sign are ordered as (exponent, significand
	// without its explicit integer bit) for normals: consecutive values
	// differ by one in that 79-bit integer.
	ord := func(r [10]byte, e uint16) *big.Int {
		m := binary.LittleEndian.Uint64(r[:]) &^ (1 << 63)
		x := new(big.Int).Lsh(big.NewInt(int64(e&0x7fff)), 63)
		return x.Add(x, new(big.Int).SetUint64(m))
	}
	d := new(big.Int).Sub(ord(a, ea), ord(b, eb))
	d.Abs(d)
	if !d.IsUint64() {
		return math.MaxUint64
	}
	return d.Uint64()
}

var fswBits = []struct {
	bit  uint16
	name string
}{{x86.FSWIE, "IE"}, {x86.FSWDE, "DE"}, {x86.FSWZE, "ZE"}, {x86.FSWOE, "OE"}, {x86.FSWUE, "UE"}, {x86.FSWPE, "PE"}, {x86.FSWSF, "SF"}, {x86.FSWES, "ES"},
	{x86.FSWC0, "C0"}, {x86.FSWC1, "C1"}, {x86.FSWC2, "C2"}, {x86.FSWTop, "TOP"}, {x86.FSWC3, "C3"}, {x86.FSWB, "B"}}

func fswString(x uint16) string {
	var s []string
	for _, b := range fswBits {
		if x&b.bit != 0 {
			s = append(s, b.name)
		}
	}
	return strings.Join(s, " ")
}

// ---------------------------------------------------------------------
// Formatting for reports.

// f80String shows an 80-bit value as hex and as a number.
func f80String(r [10]byte) string {
	se := binary.LittleEndian.Uint16(r[8:])
	m := binary.LittleEndian.Uint64(r[:])
	return fmt.Sprintf("%04x:%016x (%s)", se, m, f80Value(r))
}

func f80Value(r [10]byte) string {
	se := binary.LittleEndian.Uint16(r[8:])
	m := binary.LittleEndian.Uint64(r[:])
	sign := ""
	if se>>15 != 0 {
		sign = "-"
	}
	e := int(se & 0x7fff)
	switch {
	case e == 0x7fff && m<<1 == 0:
		if m == 0 {
			return sign + "pseudo-inf"
		}
		return sign + "inf"
	case e == 0x7fff:
		if m>>63 == 0 {
			return sign + "pseudo-nan"
		}
		if m>>62&1 == 1 {
			return sign + "qnan"
		}
		return sign + "snan"
	case e == 0 && m == 0:
		return sign + "0"
	case e != 0 && m>>63 == 0:
		return sign + "unnormal"
	}
	if e == 0 {
		e = 1 // denormal: 0.f * 2^-16382
	}
	f := new(big.Float).SetPrec(64).SetUint64(m)
	f.SetMantExp(f, e-16383-63)
	return sign + f.Text('g', 20)
}

func xmmString(x [16]byte, lanes string) string {
	s := fmt.Sprintf("%016x_%016x", binary.LittleEndian.Uint64(x[8:]), binary.LittleEndian.Uint64(x[:]))
	var v []string
	switch lanes {
	case "ps", "ss":
		for i := 0; i < 4; i++ {
			v = append(v, fmt.Sprint(math.Float32frombits(binary.LittleEndian.Uint32(x[4*i:]))))
		}
	case "pd", "sd":
		for i := 0; i < 2; i++ {
			v = append(v, fmt.Sprint(math.Float64frombits(binary.LittleEndian.Uint64(x[8*i:]))))
		}
	default:
		return s
	}
	return s + " (" + strings.Join(v, ", ") + ")"
}

// fpInput describes the FP input of a case.
func fpInput(f *fpCase) string {
	var b strings.Builder
	s := &f.in
	fmt.Fprintf(&b, "  input  FCW %04x FSW %04x (TOP %d) tags %08b MXCSR %08x\n", s.fcw, s.fsw, s.top(), s.tags, s.mxcsr)
	for i := 0; i < 8; i++ {
		p := s.phys(i)
		if s.tags&(1<<p) != 0 || f.mmx {
			fmt.Fprintf(&b, "    ST%d=R%d %s\n", i, p, f80String(s.st[p]))
		}
	}
	if f.mmx {
		fmt.Fprintf(&b, "    (MMi is the significand of Ri)\n")
	}
	for r := 0; r < 16; r++ {
		if f.xmmShow&(1<<r) != 0 {
			fmt.Fprintf(&b, "    XMM%d=%s\n", r, xmmString(s.xmm[r], f.lanes))
		}
	}
	return b.String()
}

// fpOutcome describes where the two FP states differ.
func fpOutcome(f *fpCase, nat, emu *fpState) string {
	var b strings.Builder
	if nat.fcw != emu.fcw || nat.fsw != emu.fsw || nat.tags != emu.tags || nat.mxcsr != emu.mxcsr {
		fmt.Fprintf(&b, "  native   FCW %04x FSW %04x (TOP %d) tags %08b MXCSR %08x\n", nat.fcw, nat.fsw, nat.top(), nat.tags, nat.mxcsr)
		fmt.Fprintf(&b, "  emulator FCW %04x FSW %04x (TOP %d) tags %08b MXCSR %08x\n", emu.fcw, emu.fsw, emu.top(), emu.tags, emu.mxcsr)
		if f.undefFSW != 0 {
			fmt.Fprintf(&b, "  (FSW bits not compared: %s)\n", fswString(f.undefFSW))
		}
	}
	for i := 0; i < 8; i++ {
		np, ep := nat.phys(i), emu.phys(i)
		nv, ev := nat.tags&(1<<np) != 0, emu.tags&(1<<ep) != 0
		if (nv || ev) && (nat.st[np] != emu.st[ep] || nv != ev) {
			show := func(v bool, r [10]byte) string {
				if !v {
					return "empty"
				}
				return f80String(r)
			}
			fmt.Fprintf(&b, "  ST%d native %s, emulator %s\n", i, show(nv, nat.st[np]), show(ev, emu.st[ep]))
		}
	}
	for r := 0; r < 16; r++ {
		if nat.xmm[r] != emu.xmm[r] {
			fmt.Fprintf(&b, "  XMM%d native   %s\n  XMM%d emulator %s\n", r, xmmString(nat.xmm[r], f.lanes), r, xmmString(emu.xmm[r], f.lanes))
		}
	}
	return b.String()
}
