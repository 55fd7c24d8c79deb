package cpu

import (
	"math/rand"
	"testing"
)

// TestSpecialisedClassesMatchGeneric checks each form that specialise
// gives a class of its own: the decoder picks that class, and running it
// in runLinked (Run) leaves the registers, the flags, RIP and memory
// exactly as exec's generic class does (Step), from the same random
// states (the host differential checks the generic classes against the
// processor).
func TestSpecialisedClassesMatchGeneric(t *testing.T) {
	tests := []struct {
		name    string
		code    []byte
		cls     uint8 // what specialise picks
		generic uint8 // what exec runs it as
	}{
		{"mov rbx,rax", []byte{0x48, 0x89, 0xd8}, clsMovRR64, clsMovRR},
		{"mov ebx,eax", []byte{0x89, 0xd8}, clsMovRR32, clsMovRR},
		{"mov (rdi),rax", []byte{0x48, 0x8b, 0x07}, clsMovRM64, clsMovRM},
		{"mov rax,(rdi)", []byte{0x48, 0x89, 0x07}, clsMovMR64, clsMovMR},
		{"lea 0x10(rdi,rcx,4),rax", []byte{0x48, 0x8d, 0x44, 0x8f, 0x10}, clsLea64, clsLea},
		{"add rbx,rax", []byte{0x48, 0x01, 0xd8}, clsAddRR64, clsArithR},
		{"add $-16,rax", []byte{0x48, 0x83, 0xc0, 0xf0}, clsAddRI64, clsArithR},
		{"add $0x7f,eax", []byte{0x83, 0xc0, 0x7f}, clsAddRI32, clsArithR},
		{"add $-1,eax", []byte{0x05, 0xff, 0xff, 0xff, 0xff}, clsAddRI32, clsArithR},
		{"sub rbx,rax", []byte{0x48, 0x29, 0xd8}, clsSubRR64, clsArithR},
		{"cmp rbx,rax", []byte{0x48, 0x39, 0xd8}, clsCmpRR64, clsArithR},
		{"cmp $5,rax", []byte{0x48, 0x83, 0xf8, 0x05}, clsCmpRI64, clsArithR},
		{"cmp $-2,eax", []byte{0x83, 0xf8, 0xfe}, clsCmpRI32, clsArithR},
		{"xor ebx,eax", []byte{0x31, 0xd8}, clsXorRR32, clsLogicR},
		{"xor rbx,rax", []byte{0x48, 0x31, 0xd8}, clsXorRR64, clsLogicR},
		{"and $0x7ff,eax", []byte{0x25, 0xff, 0x07, 0, 0}, clsAndRI32, clsLogicR},
		{"and $-16,ebx", []byte{0x83, 0xe3, 0xf0}, clsAndRI32, clsLogicR},
		{"test rbx,rax", []byte{0x48, 0x85, 0xd8}, clsTestRR64, clsLogicR},
		{"test ebx,eax", []byte{0x85, 0xd8}, clsTestRR32, clsLogicR},
		{"test $0x7ff,r13d", []byte{0x41, 0xf7, 0xc5, 0xff, 0x07, 0, 0}, clsTestRI32, clsLogicR},
		{"shl $13,rax", []byte{0x48, 0xc1, 0xe0, 0x0d}, clsShlRI64, clsShiftR},
		{"shl $64,rax (masks to 0)", []byte{0x48, 0xc1, 0xe0, 0x40}, clsShlRI64, clsShiftR},
		{"shr $7,rax", []byte{0x48, 0xc1, 0xe8, 0x07}, clsShrRI64, clsShiftR},
		{"shr $1,rax", []byte{0x48, 0xd1, 0xe8}, clsShrRI64, clsShiftR},
		{"imul rbx,rax", []byte{0x48, 0x0f, 0xaf, 0xc3}, clsImulRR64, clsImul},
		{"imul $0xf4243,rbx,rax", []byte{0x48, 0x69, 0xc3, 0x43, 0x42, 0x0f, 0x00}, clsImulRRI64, clsImul},
		{"imul $-3,rbx,rax", []byte{0x48, 0x6b, 0xc3, 0xfd}, clsImulRRI64, clsImul},
		{"je +5", []byte{0x74, 0x05}, clsJe, clsJcc},
		{"jne -2", []byte{0x75, 0xfe}, clsJne, clsJcc},
		{"add (rdi),rax", []byte{0x48, 0x03, 0x07}, clsAddRM64, clsArith},
		{"movzbl bl,eax", []byte{0x0f, 0xb6, 0xc3}, clsMovzxR, clsMovzx},
		{"movzwq bx,rax", []byte{0x48, 0x0f, 0xb7, 0xc3}, clsMovzxR, clsMovzx},
		{"movzbl sil,eax", []byte{0x40, 0x0f, 0xb6, 0xc6}, clsMovzxR, clsMovzx},
		{"movzbl ah,eax (not specialised)", []byte{0x0f, 0xb6, 0xc4}, clsMovzx, clsMovzx},
		{"movzbl (rdi),eax", []byte{0x0f, 0xb6, 0x07}, clsMovzxM, clsMovzx},
		{"movzwq (rdi),rax", []byte{0x48, 0x0f, 0xb7, 0x07}, clsMovzxM, clsMovzx},
		{"movslq ebx,rax", []byte{0x48, 0x63, 0xc3}, clsMovsxdRR, clsMovsx},
		{"jb +5", []byte{0x72, 0x05}, clsJcc, clsJcc},
		{"jg -2", []byte{0x7f, 0xfe}, clsJcc, clsJcc},
		{"jmp +0x100", []byte{0xe9, 0x00, 0x01, 0, 0}, clsJmpRel, clsJmp},
		{"call +0x100", []byte{0xe8, 0x00, 0x01, 0, 0}, clsCallRel64, clsCall},
		{"ret", []byte{0xc3}, clsRet64, clsRet},
		{"ret $8 (not specialised)", []byte{0xc2, 0x08, 0x00}, clsRet, clsRet},
		{"push rbx", []byte{0x53}, clsPushR64, clsPush},
		{"push rsp", []byte{0x54}, clsPushR64, clsPush},
		{"push r12", []byte{0x41, 0x54}, clsPushR64, clsPush},
		{"pop rbx", []byte{0x5b}, clsPopR64, clsPop},
		{"pop rsp", []byte{0x5c}, clsPopR64, clsPop},
		{"push bx (not specialised)", []byte{0x66, 0x53}, clsPush, clsPush},
		{"mov (rdi),eax", []byte{0x8b, 0x07}, clsMovRM32, clsMovRM},
		{"mov eax,(rdi)", []byte{0x89, 0x07}, clsMovMR32, clsMovMR},
		{"mov $-5,eax", []byte{0xb8, 0xfb, 0xff, 0xff, 0xff}, clsMovRI, clsMovRI},
		{"mov $5,al", []byte{0xb0, 0x05}, clsMovRI, clsMovRI},
		{"movabs $imm,rax", []byte{0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 0x88}, clsMovRI, clsMovRI},
		{"add ebx,eax", []byte{0x01, 0xd8}, clsAddRR32, clsArithR},
		{"sub $0x18,rsp", []byte{0x48, 0x83, 0xec, 0x18}, clsSubRI64, clsArithR},
		{"setb bl", []byte{0x0f, 0x92, 0xc3}, clsSetccR, clsSetcc},
		{"setne sil", []byte{0x40, 0x0f, 0x95, 0xc6}, clsSetccR, clsSetcc},
		{"setle ah (not specialised)", []byte{0x0f, 0x9e, 0xc4}, clsSetcc, clsSetcc},
		{"cmovae rbx,rax", []byte{0x48, 0x0f, 0x43, 0xc3}, clsCmovRR64, clsCmov},
		{"cmovl ebx,eax (not specialised)", []byte{0x0f, 0x4c, 0xc3}, clsCmov, clsCmov},
		{"mov bx,ax (not specialised)", []byte{0x66, 0x89, 0xd8}, clsMovRR, clsMovRR},
		{"add bl,al (not specialised)", []byte{0x00, 0xd8}, clsArithR, clsArithR},
	}
	rng := rand.New(rand.NewSource(1))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec, specRAM := newWB(t, tc.code)
			gen, genRAM := newWB(t, tc.code)
			if in := spec.fetchAt(t, wbCode); in.cls != tc.cls {
				t.Fatalf("class %d, want %d", in.cls, tc.cls)
			}
			if tc.cls >= clsFirstSpecialised {
				if g := genericClass[tc.cls-clsFirstSpecialised]; g != tc.generic {
					t.Fatalf("generic class %d, want %d", g, tc.generic)
				}
			} else if tc.cls != tc.generic {
				t.Fatalf("test table: %d is not a specialised class", tc.cls)
			}
			for trial := 0; trial < 2000; trial++ {
				var regs [16]uint64
				for r := range regs {
					switch rng.Intn(4) {
					case 0:
						regs[r] = uint64(rng.Intn(5)) - 2 // around 0
					case 1:
						regs[r] = 1<<63 + uint64(rng.Intn(5)) - 2 // around the sign bit
					default:
						regs[r] = rng.Uint64()
					}
				}
				regs[RSP] = wbStackTop
				regs[RDI] = wbData + uint64(rng.Intn(0xff8))
				flags := rng.Uint64()&arithFlags | 2
				word := rng.Uint64()
				for _, c := range []*CPU{spec, gen} {
					for r, v := range regs {
						c.SetReg(r, v)
					}
					c.flags, c.lz.op = flags, lzNone
					c.SetRIP(wbCode)
					c.halted = false
				}
				le64(specRAM, regs[RDI]&^7, word)
				le64(genRAM, regs[RDI]&^7, word)
				// A canonical return address on the stack for RET.
				ret := uint64(int64(rng.Uint64()<<16) >> 16)
				le64(specRAM, wbStackTop, ret)
				le64(genRAM, wbStackTop, ret)
				spec.Run(spec.instret + 1)
				if ex := gen.Step(); ex.Kind != ExitStep {
					t.Fatalf("step: %v", ex.Kind)
				}
				for r := 0; r < 16; r++ {
					if spec.gpr[r] != gen.gpr[r] {
						t.Fatalf("trial %d: reg %d = %#x, generic %#x (regs %#x, flags %#x)", trial, r, spec.gpr[r], gen.gpr[r], regs, flags)
					}
				}
				if a, b := spec.rflags(), gen.rflags(); a != b {
					t.Fatalf("trial %d: rflags %#x, generic %#x (regs %#x, flags %#x)", trial, a, b, regs, flags)
				}
				if spec.rip != gen.rip {
					t.Fatalf("trial %d: rip %#x, generic %#x", trial, spec.rip, gen.rip)
				}
				if a, b := specRAM[regs[RDI]&^7:][:16], genRAM[regs[RDI]&^7:][:16]; string(a) != string(b) {
					t.Fatalf("trial %d: memory % x, generic % x", trial, a, b)
				}
				if a, b := specRAM[wbStackTop-16:][:24], genRAM[wbStackTop-16:][:24]; string(a) != string(b) {
					t.Fatalf("trial %d: stack % x, generic % x", trial, a, b)
				}
			}
		})
	}
}

// TestGenericClassComplete: every specialised class names the class exec
// runs it as (a missing entry would be clsSystem, silently).
func TestGenericClassComplete(t *testing.T) {
	for cls := clsFirstSpecialised + 1; cls < clsEndSpecialised; cls++ {
		if g := genericClass[cls-clsFirstSpecialised]; g == clsSystem || g >= clsFirstSpecialised {
			t.Errorf("class %d: generic class %d", cls, g)
		}
	}
}
