/*
 * sse_element.c: host oracle for sseElementRows (../../sse_element_test.go).
 *
 * Reads lines "op mxcsr a b" (hex, as in the table's first four columns)
 * from stdin, runs the instruction natively with a in XMM0[63:0] and b in
 * XMM1[63:0] (upper halves zero) under that MXCSR, and prints the Go
 * table row {op, mxcsr, a, b, result, mxcsr after}:
 *
 *   - arithmetic, cmpssN/cmpsdN (N = predicate imm8): result = XMM0[63:0]
 *   - comiss/comisd/ucomiss/ucomisd: result = RFLAGS & 0x8d5 (OF SF ZF AF PF CF)
 *   - cvt{,t}ss2si{l,q}, cvt{,t}sd2si{l,q}: result = RAX (zeroed first; the
 *     operand is b)
 *   - cvtsi2{ss,sd}{l,q}: b is the integer source, a the XMM0 it merges into
 *
 * All exceptions are expected to be masked in the MXCSRs fed to it
 * (bits 7-12 set); an unmasked one would raise SIGFPE.
 *
 * Build and run: see README.md (regen.sh feeds it the table's own inputs).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint32_t def = 0x1f80; /* restored after every instruction */

/* op %xmm1,%xmm0; result is XMM0 low quadword */
#define XX(name, insn)                                                     \
	if (!strcmp(op, name)) {                                           \
		__asm__ volatile("movq %[a],%%xmm0\n movq %[b],%%xmm1\n"       \
				 " ldmxcsr %[mx]\n " insn " %%xmm1,%%xmm0\n"   \
				 " stmxcsr %[mxo]\n movq %%xmm0,%[r]\n"        \
				 " ldmxcsr %[def]"                            \
				 : [r] "=m"(r), [mxo] "=m"(mxo)                \
				 : [a] "m"(a), [b] "m"(b), [mx] "m"(mx),       \
				   [def] "m"(def)                              \
				 : "xmm0", "xmm1");                           \
		goto done;                                                 \
	}
/* comparisons into RFLAGS */
#define CMPFL(name)                                                        \
	if (!strcmp(op, name)) {                                           \
		__asm__ volatile("movq %[a],%%xmm0\n movq %[b],%%xmm1\n"       \
				 " ldmxcsr %[mx]\n " name " %%xmm1,%%xmm0\n"   \
				 " stmxcsr %[mxo]\n pushfq\n popq %[r]\n"      \
				 " ldmxcsr %[def]"                            \
				 : [r] "=m"(r), [mxo] "=m"(mxo)                \
				 : [a] "m"(a), [b] "m"(b), [mx] "m"(mx),       \
				   [def] "m"(def)                              \
				 : "xmm0", "xmm1", "cc");                     \
		r &= 0x8d5;                                                \
		goto done;                                                 \
	}
/* xmm1 -> integer register; result is RAX */
#define TOINT(name, insn, reg)                                             \
	if (!strcmp(op, name)) {                                           \
		__asm__ volatile("movq %[b],%%xmm1\n ldmxcsr %[mx]\n"          \
				 " xorl %%eax,%%eax\n " insn " %%xmm1," reg    \
				 "\n stmxcsr %[mxo]\n movq %%rax,%[r]\n"       \
				 " ldmxcsr %[def]"                            \
				 : [r] "=m"(r), [mxo] "=m"(mxo)                \
				 : [b] "m"(b), [mx] "m"(mx), [def] "m"(def)    \
				 : "rax", "xmm1");                            \
		goto done;                                                 \
	}
/* integer in memory (b) -> XMM0 low element */
#define FROMINT(name)                                                      \
	if (!strcmp(op, name)) {                                           \
		__asm__ volatile("movq %[a],%%xmm0\n ldmxcsr %[mx]\n " name    \
				 " %[b],%%xmm0\n stmxcsr %[mxo]\n"             \
				 " movq %%xmm0,%[r]\n ldmxcsr %[def]"          \
				 : [r] "=m"(r), [mxo] "=m"(mxo)                \
				 : [a] "m"(a), [b] "m"(b), [mx] "m"(mx),       \
				   [def] "m"(def)                              \
				 : "xmm0");                                   \
		goto done;                                                 \
	}
#define CMP8(base)                                                         \
	XX(base "0", base " $0,") XX(base "1", base " $1,")                \
	XX(base "2", base " $2,") XX(base "3", base " $3,")                \
	XX(base "4", base " $4,") XX(base "5", base " $5,")                \
	XX(base "6", base " $6,") XX(base "7", base " $7,")

int main(void)
{
	char op[32];
	unsigned mx;
	unsigned long long a, b;
	while (scanf("%31s %x %llx %llx", op, &mx, &a, &b) == 4) {
		uint64_t r = 0;
		uint32_t mxo = 0;
		/* The cmp forms take "cmpss $N," then "%xmm1,%xmm0". */
		XX("addss", "addss") XX("addsd", "addsd") XX("subss", "subss")
		XX("subsd", "subsd") XX("mulss", "mulss") XX("mulsd", "mulsd")
		XX("divss", "divss") XX("divsd", "divsd") XX("sqrtss", "sqrtss")
		XX("sqrtsd", "sqrtsd") XX("minss", "minss") XX("minsd", "minsd")
		XX("maxss", "maxss") XX("maxsd", "maxsd") XX("rcpss", "rcpss")
		XX("rsqrtss", "rsqrtss") XX("cvtss2sd", "cvtss2sd")
		XX("cvtsd2ss", "cvtsd2ss") XX("addps", "addps") XX("addpd", "addpd")
		CMP8("cmpss") CMP8("cmpsd")
		CMPFL("comiss") CMPFL("comisd") CMPFL("ucomiss") CMPFL("ucomisd")
		TOINT("cvtss2sil", "cvtss2si", "%%eax") TOINT("cvtss2siq", "cvtss2si", "%%rax")
		TOINT("cvtsd2sil", "cvtsd2si", "%%eax") TOINT("cvtsd2siq", "cvtsd2si", "%%rax")
		TOINT("cvttss2sil", "cvttss2si", "%%eax") TOINT("cvttss2siq", "cvttss2si", "%%rax")
		TOINT("cvttsd2sil", "cvttsd2si", "%%eax") TOINT("cvttsd2siq", "cvttsd2si", "%%rax")
		FROMINT("cvtsi2ssl") FROMINT("cvtsi2ssq") FROMINT("cvtsi2sdl") FROMINT("cvtsi2sdq")
		fprintf(stderr, "unknown op %s\n", op);
		return 1;
	done:
		printf("\t{\"%s\", 0x%x, 0x%llx, 0x%llx, 0x%llx, 0x%x},\n", op, mx, a, b,
		       (unsigned long long)r, mxo);
	}
	return 0;
}
