package cpu

import (
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

// TestSSEDecode checks what x86asm reports for the encodings whose
// mandatory prefix selects the instruction, and that every SSE op is
// dispatched to execSSE.
func TestSSEDecode(t *testing.T) {
	for _, op := range sseOps {
		if opClass[op] != clsSSE {
			t.Errorf("%v: class %d, not clsSSE", op, opClass[op])
		}
	}
	cases := []struct {
		code []byte
		op   x86asm.Op
	}{
		{[]byte{0x66, 0x0f, 0x6f, 0xc1}, x86asm.MOVDQA},
		{[]byte{0xf3, 0x0f, 0x6f, 0xc1}, x86asm.MOVDQU},
		{[]byte{0x0f, 0x6f, 0xc1}, x86asm.MOVQ},       // mm, mm
		{[]byte{0xf3, 0x0f, 0x7e, 0xc1}, x86asm.MOVQ}, // xmm, xmm/m64
		{[]byte{0x66, 0x0f, 0xd6, 0xc1}, x86asm.MOVQ}, // xmm/m64, xmm
		{[]byte{0x66, 0x48, 0x0f, 0x6e, 0xc1}, x86asm.MOVQ},
		{[]byte{0x66, 0x0f, 0x6e, 0xc1}, x86asm.MOVD},
		{[]byte{0xf2, 0x0f, 0x10, 0xc1}, x86asm.MOVSD_XMM},
		{[]byte{0xf2, 0x0f, 0xc2, 0xc1, 0x01}, x86asm.CMPSD_XMM},
		{[]byte{0xf3, 0x0f, 0xd6, 0xc1}, x86asm.MOVQ2DQ},
		{[]byte{0xf2, 0x0f, 0xd6, 0xc1}, x86asm.MOVDQ2Q},
		{[]byte{0xf2, 0x0f, 0xf0, 0x00}, x86asm.LDDQU},
		{[]byte{0x48, 0x0f, 0xae, 0x00}, x86asm.FXSAVE64},
		{[]byte{0x0f, 0xae, 0x08}, x86asm.FXRSTOR},
		{[]byte{0x66, 0x0f, 0x73, 0xfa, 0x03}, x86asm.PSLLDQ},
		{[]byte{0x66, 0x0f, 0x73, 0xda, 0x03}, x86asm.PSRLDQ},
		{[]byte{0xf3, 0x0f, 0xe6, 0xc1}, x86asm.CVTDQ2PD},
		{[]byte{0xf2, 0x0f, 0xe6, 0xc1}, x86asm.CVTPD2DQ},
		{[]byte{0x66, 0x0f, 0xe6, 0xc1}, x86asm.CVTTPD2DQ},
	}
	for _, c := range cases {
		xi, err := x86asm.Decode(c.code, 64)
		if err != nil || xi.Op != c.op || xi.Len != len(c.code) {
			t.Errorf("% x: %v (len %d, err %v), want %v", c.code, xi.Op, xi.Len, err, c.op)
		}
	}
}
