package cpu

import (
	"bufio"
	"bytes"
	"debug/elf"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

// requireTool skips when name is not on PATH, unless
// VMAPSTACK_REQUIRE_TOOLS=1, where a missing tool fails the test.
func requireTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("VMAPSTACK_REQUIRE_TOOLS") == "1" {
			t.Fatalf("required tool %s not found: %v", name, err)
		}
		t.Skipf("%s not found: %v", name, err)
	}
}

// hostOp is one instruction of the differential test: dst in RAX/EAX/..,
// source in RDX.., count in CL. kind selects the flags the SDM defines.
type hostOp struct{ ins, kind string }

func hostOps() []hostOp {
	type rs struct{ s, a, d string }
	sizes := []rs{{"b", "al", "dl"}, {"w", "ax", "dx"}, {"l", "eax", "edx"}, {"q", "rax", "rdx"}}
	var ops []hostOp
	add := func(kind, f string, args ...any) { ops = append(ops, hostOp{fmt.Sprintf(f, args...), kind}) }
	for _, r := range sizes {
		for _, op := range []string{"add", "adc", "sub", "sbb", "cmp"} {
			add("arith", "%s%s %%%s, %%%s", op, r.s, r.d, r.a)
		}
		for _, op := range []string{"and", "or", "xor", "test"} {
			add("logic", "%s%s %%%s, %%%s", op, r.s, r.d, r.a)
		}
		for _, op := range []string{"inc", "dec", "neg", "not"} {
			add("arith", "%s%s %%%s", op, r.s, r.a)
		}
		for _, op := range []string{"shl", "shr", "sar", "rol", "ror", "rcl", "rcr"} {
			add(op, "%s%s %%cl, %%%s", op, r.s, r.a)
		}
		for _, op := range []string{"add", "adc", "sub", "sbb", "cmp", "and", "or", "xor", "test", "xchg"} {
			add(map[bool]string{true: "logic", false: "arith"}[op == "and" || op == "or" || op == "xor" || op == "test"],
				"%s%s %%%s, (%%rbx)", op, r.s, r.d)
		}
		for _, op := range []string{"inc", "dec", "neg", "not"} {
			add("arith", "%s%s (%%rbx)", op, r.s)
		}
		for _, op := range []string{"shl", "shr", "sar", "rol", "ror", "rcl", "rcr"} {
			add(op, "%s%s %%cl, (%%rbx)", op, r.s)
		}
		add("arith", "add%s (%%rbx), %%%s", r.s, r.a)
		add("mul", "mul%s %%%s", r.s, r.d)
		add("mul", "imul%s %%%s", r.s, r.d)
		if r.s == "b" {
			continue
		}
		add("shld", "shld%s %%cl, %%%s, %%%s", r.s, r.d, r.a)
		add("shrd", "shrd%s %%cl, %%%s, %%%s", r.s, r.d, r.a)
		add("imul", "imul%s %%%s, %%%s", r.s, r.d, r.a)
		add("bsf", "bsf%s %%%s, %%%s", r.s, r.d, r.a)
		add("bsf", "bsr%s %%%s, %%%s", r.s, r.d, r.a)
		for _, op := range []string{"bt", "bts", "btr", "btc"} {
			add("bt", "%s%s %%%s, %%%s", op, r.s, r.d, r.a)
		}
		add("arith", "cmpxchg%s %%%s, %%%s", r.s, r.d, r.a)
		add("arith", "xadd%s %%%s, %%%s", r.s, r.a, r.a)
		add("arith", "cmpxchg%s %%%s, %%%s", r.s, r.a, r.a)
		add("move", "xchg%s %%%s, %%%s", r.s, r.d, r.a)
		add("arith", "xadd%s %%%s, %%%s", r.s, r.d, r.a)
		add("move", "movsb%s %%dl, %%%s", r.s[:1], r.a)
		add("move", "movzb%s %%dl, %%%s", r.s[:1], r.a)
	}
	for _, cc := range []string{"o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"} {
		add("move", "cmov%sq %%rdx, %%rax", cc)
		add("move", "cmov%sl %%edx, %%eax", cc)
		add("move", "set%s %%al", cc)
	}
	for _, s := range []string{"sahf", "lahf", "bswapq %rax", "bswapl %eax", "cqto", "cltq", "cwtl", "cltd", "cmc", "stc", "clc"} {
		add("move", "%s", s)
	}
	return ops
}

// TestDifferentialHost runs single instructions on the host processor
// (through a gcc-compiled C program with inline assembly) and in the
// emulator from the same registers and flags, and compares the results
// and the flags the SDM defines for each instruction. Needs gcc, as and
// an x86-64 host.
func TestDifferentialHost(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the host is not x86-64")
	}
	requireTool(t, "gcc")
	requireTool(t, "as")
	ops := hostOps()
	rng := rand.New(rand.NewSource(7))
	special := []uint64{0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000,
		0xffffffff, 0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff}
	val := func() uint64 {
		if rng.Intn(5) < 2 {
			return special[rng.Intn(len(special))]
		}
		return rng.Uint64()
	}
	counts := []uint64{0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65}
	const n = 48
	var in [n][4]uint64 // a, d, count, flags
	for k := range in {
		c := counts[rng.Intn(len(counts))]
		if rng.Intn(4) == 0 {
			c = uint64(rng.Intn(256))
		}
		in[k] = [4]uint64{val(), val(), c, uint64(rng.Intn(1<<12))&0x8d5 | 2}
	}

	var src bytes.Buffer
	src.WriteString("#include <stdio.h>\n#include <stdint.h>\n")
	fmt.Fprintf(&src, "static const uint64_t in[%d][4] = {\n", n)
	for _, v := range in {
		fmt.Fprintf(&src, "{%#xULL,%#xULL,%#xULL,%#xULL},\n", v[0], v[1], v[2], v[3])
	}
	src.WriteString("};\n")
	for i, op := range ops {
		fmt.Fprintf(&src, `static void op%d(void) {
	for (int k = 0; k < %d; k++) {
		uint64_t a = in[k][0], d = in[k][1], c = in[k][2], f = in[k][3], m = ~in[k][0];
		__asm__ volatile("push %%[f]\n\tpopfq\n\t%s\n\tpushfq\n\tpop %%[f]" : "+a"(a), "+d"(d), [f]"+r"(f) : "c"(c), "b"(&m) : "cc", "memory");
		printf("%d %%d %%llx %%llx %%llx %%llx\n", k, (unsigned long long)a, (unsigned long long)d, (unsigned long long)(f & 0x8d5), (unsigned long long)m);
	}
}
`, i, n, strings.ReplaceAll(op.ins, "%", "%%"), i)
	}
	src.WriteString("int main(void) {\n")
	for i := range ops {
		fmt.Fprintf(&src, "\top%d();\n", i)
	}
	src.WriteString("\treturn 0;\n}\n")

	dir := t.TempDir()
	cfile, exe := filepath.Join(dir, "host.c"), filepath.Join(dir, "host")
	if err := os.WriteFile(cfile, src.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("gcc", "-O0", "-o", exe, cfile).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	hostOut, err := exec.Command(exe).Output()
	if err != nil {
		t.Fatalf("run host program: %v", err)
	}

	// Assemble the same instructions for the emulator.
	var asmSrc strings.Builder
	asmSrc.WriteString(".code64\n")
	for _, op := range ops {
		asmSrc.WriteString(op.ins + "\n")
	}
	sfile, obj := filepath.Join(dir, "ops.s"), filepath.Join(dir, "ops.o")
	os.WriteFile(sfile, []byte(asmSrc.String()), 0o644)
	if out, err := exec.Command("as", "--64", "-o", obj, sfile).CombinedOutput(); err != nil {
		t.Fatalf("as: %v\n%s", err, out)
	}
	text := elfText(t, obj)
	var codes [][]byte
	for len(text) > 0 {
		xi, err := x86asm.Decode(text, 64)
		if err != nil {
			t.Fatalf("decode assembled ops: %v", err)
		}
		codes = append(codes, text[:xi.Len])
		text = text[xi.Len:]
	}
	if len(codes) != len(ops) {
		t.Fatalf("%d instructions assembled, want %d", len(codes), len(ops))
	}

	c, ram := newWB(t, nil)
	base := c.State()
	checked, bad := 0, 0
	sc := bufio.NewScanner(bytes.NewReader(hostOut))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		i, _ := strconv.Atoi(f[0])
		k, _ := strconv.Atoi(f[1])
		ao, _ := strconv.ParseUint(f[2], 16, 64)
		do, _ := strconv.ParseUint(f[3], 16, 64)
		fo, _ := strconv.ParseUint(f[4], 16, 64)
		mo, _ := strconv.ParseUint(f[5], 16, 64)
		op, v := ops[i], in[k]
		c.WritePhys(wbCode, append(append([]byte{}, codes[i]...), 0xf4))
		s := base
		s.GPR[RAX], s.GPR[RDX], s.GPR[RCX], s.RFLAGS = v[0], v[1], v[2], v[3]
		s.GPR[RBX] = wbData
		le64(ram, wbData, ^v[0])
		c.SetState(&s)
		if ex := c.Step(); ex.Kind != ExitStep || c.RIP() != wbCode+uint64(len(codes[i])) {
			t.Fatalf("%s: exit %v rip %#x", op.ins, ex.Kind, c.RIP())
		}
		mask, cmpA := definedFlags(op, v[1], v[2])
		got := c.State()
		checked++
		gm := c.read(wbData, 8)
		if got.RFLAGS&mask != fo&mask || cmpA && got.GPR[RAX] != ao || got.GPR[RDX] != do || cmpA && gm != mo {
			bad++
			if bad <= 20 {
				t.Errorf("%s rax=%#x rdx=%#x cl=%#x fl=%#x: emulator rax %#x rdx %#x fl %#x; host rax %#x rdx %#x fl %#x (compared flags %#x)",
					op.ins, v[0], v[1], v[2], v[3], got.GPR[RAX], got.GPR[RDX], got.RFLAGS&0x8d5, ao, do, fo, mask)
				t.Logf("memory: emulator %#x host %#x", gm, mo)
			}
		}
	}
	if checked != len(ops)*n {
		t.Fatalf("checked %d cases, want %d", checked, len(ops)*n)
	}
}

// definedFlags returns the flags the SDM defines after op (the others
// may differ between processors) and whether RAX is defined.
func definedFlags(op hostOp, src, count uint64) (mask uint64, rax bool) {
	mask, rax = arithFlags, true
	w := uint64(64)
	if i := strings.IndexByte(op.ins, ' '); i > 0 {
		switch op.ins[i-1] {
		case 'b':
			w = 8
		case 'w':
			w = 16
		case 'l':
			w = 32
		}
	}
	cm := count & 31
	if w == 64 {
		cm = count & 63
	}
	switch op.kind {
	case "logic":
		mask &^= flagAF
	case "shl", "shr", "sar", "shld", "shrd":
		if (op.kind == "shld" || op.kind == "shrd") && cm > w {
			return 0, false // result and flags undefined
		}
		if cm != 0 {
			mask &^= flagAF
			if cm != 1 {
				mask &^= flagOF
			}
			if cm >= w && (op.kind == "shl" || op.kind == "shr") {
				mask &^= flagCF
			}
		}
	case "rol", "ror", "rcl", "rcr":
		if cm > 1 {
			mask &^= flagOF
		}
	case "mul", "imul":
		mask = flagCF | flagOF
	case "bsf":
		mask = flagZF
		rax = src&sizeMask(uint8(w/8)) != 0
	case "bt":
		mask = flagCF | flagZF
	}
	return mask, rax
}

// elfText returns the .text section of an object file.
func elfText(t *testing.T, path string) []byte {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := f.Section(".text")
	if s == nil {
		t.Fatalf("%s: no .text", path)
	}
	b, err := s.Data()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
