package devices

import (
	"bytes"
	"errors"
	"testing"
)

func TestUARTTransmit(t *testing.T) {
	var out bytes.Buffer
	u := NewUART(COM1, &out, nil)
	for _, c := range []byte("hello\n") {
		if u.In(COM1+uartLSR, 1)&(lsrTHRE|lsrTEMT) != lsrTHRE|lsrTEMT {
			t.Fatal("transmitter not empty")
		}
		u.Out(COM1, 1, uint32(c))
	}
	if out.String() != "hello\n" {
		t.Errorf("sent %q", out.String())
	}
}

func TestUARTRegisters(t *testing.T) {
	u := NewUART(COM1, nil, nil)
	steps := []struct {
		name  string
		write bool
		reg   uint16
		val   uint8
		want  uint8
	}{
		{"LCR reset 8N1", false, uartLCR, 0, 0x03},
		{"set DLAB", true, uartLCR, 0x83, 0},
		{"DLL", true, uartRBR, 0x01, 0},
		{"DLM", true, uartIER, 0x02, 0},
		{"read DLL", false, uartRBR, 0, 0x01},
		{"read DLM", false, uartIER, 0, 0x02},
		{"clear DLAB", true, uartLCR, 0x03, 0},
		{"IER is not DLM", false, uartIER, 0, 0x00},
		{"IER keeps 4 bits", true, uartIER, 0xff, 0},
		{"read IER", false, uartIER, 0, 0x0f},
		{"IER off", true, uartIER, 0, 0},
		{"IIR no interrupt", false, uartIIR, 0, iirNone},
		{"FCR enable FIFOs", true, uartIIR, 0xc7, 0},
		{"IIR shows FIFOs", false, uartIIR, 0, iirNone | iirFIFOs},
		{"MCR", true, uartMCR, 0xff, 0},
		{"MCR 5 bits", false, uartMCR, 0, 0x1f},
		{"MSR in loopback", false, uartMSR, 0, msrDCD | msrDSR | msrCTS | msrRI},
		{"MCR normal", true, uartMCR, 0x0b, 0},
		{"MSR connected", false, uartMSR, 0, msrDCD | msrDSR | msrCTS},
		{"SCR", true, uartSCR, 0x5a, 0},
		{"read SCR", false, uartSCR, 0, 0x5a},
		{"LSR empty", false, uartLSR, 0, lsrTHRE | lsrTEMT},
		{"RBR empty", false, uartRBR, 0, 0},
	}
	for _, s := range steps {
		if s.write {
			u.Out(COM1+s.reg, 1, uint32(s.val))
			continue
		}
		if got := uint8(u.In(COM1+s.reg, 1)); got != s.want {
			t.Errorf("%s: read %#x, want %#x", s.name, got, s.want)
		}
	}
}

func TestUARTReceive(t *testing.T) {
	u := NewUART(COM1, nil, nil)
	u.Feed([]byte("ab"))
	u.Feed([]byte("c"))
	var got []byte
	for u.In(COM1+uartLSR, 1)&lsrDR != 0 {
		got = append(got, byte(u.In(COM1, 1)))
	}
	if string(got) != "abc" {
		t.Errorf("received %q", got)
	}
	u.Feed([]byte("xyz"))
	u.Out(COM1+uartIIR, 1, fcrEnable|fcrClearRX)
	if u.In(COM1+uartLSR, 1)&lsrDR != 0 {
		t.Errorf("FCR did not clear the receive FIFO")
	}
}

func TestUARTLoopback(t *testing.T) {
	var out bytes.Buffer
	u := NewUART(COM1, &out, nil)
	u.Out(COM1+uartMCR, 1, mcrLoop)
	u.Out(COM1, 1, 0xae)
	if out.Len() != 0 {
		t.Errorf("loopback byte went out")
	}
	if u.In(COM1+uartLSR, 1)&lsrDR == 0 || u.In(COM1, 1) != 0xae {
		t.Errorf("loopback byte not received")
	}
}

func TestUARTInterrupts(t *testing.T) {
	var levels []bool
	u := NewUART(COM1, nil, func(l bool) { levels = append(levels, l) })
	expect := func(step string, want ...bool) {
		t.Helper()
		if len(levels) != len(want) {
			t.Fatalf("%s: levels %v, want %v", step, levels, want)
		}
		for i := range want {
			if levels[i] != want[i] {
				t.Fatalf("%s: levels %v, want %v", step, levels, want)
			}
		}
		levels = nil
	}
	u.Feed([]byte("q"))
	u.Poll()
	expect("data, IER off")
	u.Out(COM1+uartIER, 1, ierRDA)
	expect("enable RDA", true)
	if got := u.In(COM1+uartIIR, 1); got != iirRDA {
		t.Errorf("IIR %#x, want RDA", got)
	}
	u.In(COM1, 1)
	expect("read data", false)
	u.Out(COM1+uartIER, 1, ierRDA|ierTHRE)
	expect("enable THRE", true)
	if got := u.In(COM1+uartIIR, 1); got != iirTHRE {
		t.Errorf("IIR %#x, want THRE", got)
	}
	expect("IIR read clears THRE", false)
	u.Out(COM1, 1, 'x')
	expect("byte sent", true)
	u.Feed([]byte("r"))
	if got := u.In(COM1+uartIIR, 1); got != iirRDA {
		t.Errorf("IIR %#x, want RDA (priority over THRE)", got)
	}
	expect("RDA while THRE pending")
	u.Out(COM1+uartIER, 1, 0)
	expect("IER off", false)
	if u.IRQ() {
		t.Errorf("IRQ still high")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("closed") }

func TestUARTWriteError(t *testing.T) {
	u := NewUART(COM1, failWriter{}, nil)
	u.Out(COM1, 1, 'a')
	if u.Err() == nil {
		t.Errorf("write error lost")
	}
}

// TestUARTFeedConcurrent feeds from another goroutine while the guest
// side reads, as a stdin reader does (run with -race).
func TestUARTFeedConcurrent(t *testing.T) {
	u := NewUART(COM1, nil, nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 100; i++ {
			u.Feed([]byte{byte(i)})
		}
	}()
	var got []byte
	for len(got) < 100 {
		if u.In(COM1+uartLSR, 1)&lsrDR != 0 {
			got = append(got, byte(u.In(COM1, 1)))
		}
	}
	<-done
	for i, b := range got {
		if b != byte(i) {
			t.Fatalf("byte %d is %d", i, b)
		}
	}
}
