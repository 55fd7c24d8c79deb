package cpu

import (
	"bytes"
	"math/rand"
	"testing"

	"vmapstack/target/x86"
)

// TestRepBulkMatchesIterations runs random REP MOVS/STOS (sizes, address
// sizes, DF, overlapping operands, page crossings, a not-present or
// read-only page in the way) twice: as is, where strBulk takes whole
// pages, and with a watchpoint far away, which sends every iteration
// through the ordinary path. Registers, flags, CR2, the exception
// history and the whole RAM must come out the same.
func TestRepBulkMatchesIterations(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	ops := []byte{0xa4, 0xa5, 0xaa, 0xab}
	for i := 0; i < 300; i++ {
		var code []byte
		a32 := r.Intn(4) == 0
		if a32 {
			code = append(code, 0x67)
		}
		code = append(code, 0xf3)
		op := ops[r.Intn(len(ops))]
		switch r.Intn(3) {
		case 1:
			code = append(code, 0x66)
		case 2:
			code = append(code, 0x48)
		}
		code = append(code, op, 0xf4)
		near := func() uint64 {
			return wbData + uint64(r.Intn(64))<<12 + uint64(r.Intn(4096))
		}
		si, di := near(), near()
		if r.Intn(3) == 0 {
			di = si + uint64(r.Intn(64)) - 32 // overlapping
		}
		count := uint64(r.Intn(40000))
		df := r.Intn(2) == 1
		var badPage uint64
		badKind := r.Intn(4) // 0: not present, 1: read-only, else none
		if badKind < 2 {
			badPage = (wbData >> 12) + uint64(r.Intn(64))
		}
		var res [2]State
		var rams [2][]byte
		var evs [2][]Event
		for pass := 0; pass < 2; pass++ {
			c, ram := newWB(t, code)
			fill := rand.New(rand.NewSource(int64(i))) // the same data in both passes
			for p := uint64(0); p < 64*4096; p += 8 {
				le64(ram, wbData+p, fill.Uint64())
			}
			if badKind == 0 {
				le64(ram, wbPT+8*badPage, 0)
			} else if badKind == 1 {
				le64(ram, wbPT+8*badPage, badPage<<12|5)
			}
			s := c.State()
			s.GPR[RSI], s.GPR[RDI], s.GPR[RCX] = si, di, count
			s.GPR[RAX] = 0x1122334455667788
			if df {
				s.RFLAGS |= x86.FlagDF
			}
			c.SetState(&s)
			if pass == 1 {
				c.AddWatchpoint(0x3ff000, 1, WatchWrite)
			}
			c.Run(c.Instret() + 4)
			res[pass], rams[pass], evs[pass] = c.State(), ram, c.Events()
		}
		name := []string{"not-present page", "read-only page", "no fault", "no fault"}[badKind]
		if res[0].GPR != res[1].GPR || res[0].RIP != res[1].RIP || res[0].RFLAGS != res[1].RFLAGS || res[0].CR2 != res[1].CR2 {
			t.Fatalf("case %d (% x, si %#x di %#x count %d df %v, %s): bulk %+v\nper iteration %+v", i, code, si, di, count, df, name, res[0].GPR, res[1].GPR)
		}
		if len(evs[0]) != len(evs[1]) {
			t.Fatalf("case %d: %d events in bulk, %d per iteration", i, len(evs[0]), len(evs[1]))
		}
		if !bytes.Equal(rams[0], rams[1]) {
			t.Fatalf("case %d (% x, si %#x di %#x count %d df %v, %s): RAM differs", i, code, si, di, count, df, name)
		}
	}
}
