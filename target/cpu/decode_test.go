package cpu

import "testing"

func TestTooLong(t *testing.T) {
	// lock and qword [rdx+rbx*8+0x93], imm32 with operand- and
	// address-size prefixes: 14 bytes, plus segment and LOCK prefixes.
	body := []byte{0x67, 0x66, 0x48, 0x81, 0xa4, 0xda, 0x93, 0, 0, 0, 0x4a, 0x43, 0x1e, 0x3c}
	window := func(b ...byte) []byte { w := make([]byte, 15); copy(w, b); return w }
	for _, c := range []struct {
		name string
		code []byte
		want bool
	}{
		{"16 bytes: es + lock + 14", window(append([]byte{0x26, 0xf0}, body...)...), true},
		{"15 bytes: lock + 14", window(append([]byte{0xf0}, body...)...), false},
		{"14 bytes, no prefix to set aside", window(body...), false},
		{"invalid opcode after prefixes", window(0x26, 0x26, 0x0f, 0xff), false},
		{"nine segment prefixes before a 7-byte mov", window(0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x48, 0xc7, 0xc0, 1, 0, 0, 0), true},
	} {
		if got := tooLong(c.code, 64); got != c.want {
			t.Errorf("%s: tooLong(% x) = %v, want %v", c.name, c.code, got, c.want)
		}
	}
}
