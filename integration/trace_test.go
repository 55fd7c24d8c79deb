package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vmapstack/internal/testtool"
	"vmapstack/kernelimg/qemutest"
)

// exceptions keeps the deliveries of vectors below 32 (exceptions, not
// the timer) from a parsed -d int log.
func exceptions(recs []qemutest.IntRecord) []qemutest.IntRecord {
	var out []qemutest.IntRecord
	for _, r := range recs {
		if r.Kind == "int" && r.Vector < 32 {
			r.Count = 0 // QEMU's running count includes the filtered lines
			out = append(out, r)
		}
	}
	return out
}

// TestOverflowTrace checks the exception history of the overflow scenario
// as --trace-int writes it: the #PF at the guard page whose delivery
// failed (the next delivery is a #DF of the same instruction, same RSP:
// pushing the #PF frame faulted), then #DF. The sequence of exception
// lines equals QEMU's `-d int` log for the same kernel and command line.
// Where the #DF handler runs (the IST1 stack) is not in this format, which
// logs the interrupted SP; TestGDBSession checks RSP there.
func TestOverflowTrace(t *testing.T) {
	t.Parallel()
	testtool.Require(t, qemutest.QEMU)
	for _, c := range []string{"scenario=overflow", "scenario=irq-overflow", "scenario=overflow-pf", "scenario=lazy-pgd nosync", "scenario=overflow noist"} {
		t.Run(strings.ReplaceAll(strings.TrimPrefix(c, "scenario="), " ", "_"), func(t *testing.T) {
			t.Parallel()
			acquireHeavy(t)
			ctx := testContext(t)
			trace := filepath.Join(t.TempDir(), "trace")
			runStandalone(t, ctx, "--append", c, "--serial", "none", "--trace-int", trace)
			b, err := os.ReadFile(trace)
			if err != nil {
				t.Fatal(err)
			}
			ours := exceptions(qemutest.ParseIntLog(string(b)))
			q, err := qemutest.Run(ctx, kernelPath, c, qemutest.Options{IntLog: true, Extra: qemutest.InstructionClock()})
			if err != nil {
				t.Fatal(err)
			}
			qrecs := qemutest.ParseIntLog(q.IntLog)
			theirs := exceptions(qrecs)
			for i := 0; i < len(ours) || i < len(theirs); i++ {
				var o, q string
				if i < len(ours) {
					o = ours[i].String()
				}
				if i < len(theirs) {
					q = theirs[i].String()
				}
				if o != q {
					t.Errorf("exception %d differs:\n  ours: %s\n  qemu: %s", i, o, q)
					break
				}
			}
			if c != "scenario=overflow" && c != "scenario=irq-overflow" {
				return
			}
			// QEMU's log shows "check_exception old: 0xe new 0xe" before
			// the #DF: the #PF could not be delivered.
			if _, _, err := qemutest.FindDoubleFault(qrecs); err != nil {
				t.Errorf("QEMU log: %v", err)
			}
			var pf, df *qemutest.IntRecord
			for i := range ours {
				if ours[i].Vector == 8 {
					df = &ours[i]
					if i > 0 && ours[i-1].Vector == 14 {
						pf = &ours[i-1]
					}
					break
				}
			}
			if df == nil || pf == nil {
				t.Fatalf("our trace has no #PF followed by #DF:\n%s", b)
			}
			if !pf.HasCR2 || !inGuardPage(pf.CR2) {
				t.Errorf("#PF CR2 %#x is not in a stack guard page", pf.CR2)
			}
			if pf.ErrorCode&2 == 0 {
				t.Errorf("#PF error code %#x: not a write (the push into the guard page)", pf.ErrorCode)
			}
			if df.ErrorCode != 0 || df.IP != pf.IP || df.CS != pf.CS || df.SP != pf.SP {
				t.Errorf("#DF %v does not interrupt the same context as the failed #PF %v", df, pf)
			}
		})
	}
}
