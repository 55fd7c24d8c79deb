package qemutest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// IntRecord is one line of interest in QEMU's `-d int,cpu_reset` log
// (target/i386/tcg/seg_helper.c and excp_helper.c in QEMU 7.2):
//
//	Kind "int":    "     1: v=0e e=0002 i=0 cpl=0 IP=0010:ffff... pc=ffff... SP=0018:ffff... CR2=ffff..."
//	               (a delivery attempt; CR2 only for #PF, EAX otherwise)
//	Kind "check":  "check_exception old: 0xe new 0xe" (an exception raised while
//	               another was being delivered; old -1 when none was)
//	Kind "triple": "Triple fault"
//
// The register dumps QEMU prints after each delivery are skipped.
type IntRecord struct {
	Kind      string
	Count     int    // QEMU's running delivery count
	Vector    int    // v=
	ErrorCode uint64 // e=
	SoftInt   bool   // i=1: INT n
	CPL       int
	CS        uint16
	IP        uint64
	SS        uint16
	SP        uint64
	CR2       uint64
	HasCR2    bool
	EAX       uint64 // env->regs[R_EAX]=, on the lines without CR2
	HasEAX    bool
	Old, New  int // Kind "check"
}

func (r IntRecord) String() string {
	switch r.Kind {
	case "check":
		return fmt.Sprintf("check_exception old: %#x new %#x", uint32(r.Old), r.New)
	case "triple":
		return "Triple fault"
	}
	s := fmt.Sprintf("v=%02x e=%04x i=%d cpl=%d IP=%04x:%016x SP=%04x:%016x", r.Vector, r.ErrorCode,
		b2i(r.SoftInt), r.CPL, r.CS, r.IP, r.SS, r.SP)
	if r.HasCR2 {
		s += fmt.Sprintf(" CR2=%016x", r.CR2)
	}
	if r.HasEAX {
		s += fmt.Sprintf(" EAX=%016x", r.EAX)
	}
	return s
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

var (
	intRE   = regexp.MustCompile(`^\s*(\d+): v=([0-9a-f]+) e=([0-9a-f]+) i=(\d) cpl=(\d) IP=([0-9a-f]+):([0-9a-f]+) pc=[0-9a-f]+ SP=([0-9a-f]+):([0-9a-f]+)(?: CR2=([0-9a-f]+))?(?: env->regs\[R_EAX\]=([0-9a-f]+))?`)
	checkRE = regexp.MustCompile(`^check_exception old: 0x([0-9a-f]+) new 0x([0-9a-f]+)`)
)

// ParseIntLog extracts the delivery, nested-exception and triple-fault
// records, in order.
func ParseIntLog(log string) []IntRecord {
	var out []IntRecord
	for _, line := range strings.Split(log, "\n") {
		if m := intRE.FindStringSubmatch(line); m != nil {
			h := func(s string) uint64 { v, _ := strconv.ParseUint(s, 16, 64); return v }
			n, _ := strconv.Atoi(m[1])
			r := IntRecord{
				Kind: "int", Count: n, Vector: int(h(m[2])), ErrorCode: h(m[3]), SoftInt: m[4] == "1",
				CPL: int(h(m[5])), CS: uint16(h(m[6])), IP: h(m[7]), SS: uint16(h(m[8])), SP: h(m[9]),
			}
			if m[10] != "" {
				r.CR2, r.HasCR2 = h(m[10]), true
			}
			if m[11] != "" {
				r.EAX, r.HasEAX = h(m[11]), true
			}
			out = append(out, r)
			continue
		}
		if m := checkRE.FindStringSubmatch(line); m != nil {
			old, _ := strconv.ParseUint(m[1], 16, 32)
			nw, _ := strconv.ParseUint(m[2], 16, 32)
			out = append(out, IntRecord{Kind: "check", Old: int(int32(uint32(old))), New: int(nw)})
			continue
		}
		if strings.HasPrefix(line, "Triple fault") {
			out = append(out, IntRecord{Kind: "triple"})
		}
	}
	return out
}

// FindDoubleFault locates the #DF delivery and the #PF whose delivery
// failed before it: the last "int" record with v=0e before the first
// v=08, and the "check" record old 0xe new 0xe between them. It returns
// an error when the log does not show that sequence.
func FindDoubleFault(recs []IntRecord) (pf, df IntRecord, err error) {
	dfAt := -1
	for i, r := range recs {
		if r.Kind == "int" && r.Vector == 8 {
			dfAt = i
			break
		}
	}
	if dfAt < 0 {
		return pf, df, fmt.Errorf("no #DF (v=08) delivery in the -d int log")
	}
	df = recs[dfAt]
	if dfAt == 0 || recs[dfAt-1].Kind != "check" || recs[dfAt-1].Old != 14 || recs[dfAt-1].New != 14 {
		return pf, df, fmt.Errorf("#DF not preceded by \"check_exception old: 0xe new 0xe\" (a #PF during #PF delivery)")
	}
	for i := dfAt - 2; i >= 0; i-- {
		if recs[i].Kind == "int" && recs[i].Vector == 14 {
			return recs[i], df, nil
		}
	}
	return pf, df, fmt.Errorf("no #PF (v=0e) delivery before the #DF")
}
