/*
 * sse_native.c: host harness for sseNativeRows (../../sse_native_table_test.go).
 *
 * Each row names one instruction (AT&T) and its inputs: XMM0 and XMM1
 * (lo, hi), MM0 and MM1, RAX and MXCSR. The harness loads them, runs the
 * instruction natively and prints the whole Go row with the outputs: XMM0
 * and XMM1, MM0 and MM1, RAX, MXCSR and RFLAGS & 0x8d5 (CF PF AF ZF SF OF),
 * then EMMS and the default MXCSR.
 *
 * RFLAGS is set to PF alone (0x4) just before the instruction. The test
 * checks the flags column only for COMISS/COMISD/UCOMISS/UCOMISD; for the
 * other rows it is whatever the flags were before the instruction, which
 * in the committed table happened to be 0x4 (the original generator left
 * them to the compiled code around each snippet, so they varied from run
 * to run; presetting them makes the output reproducible).
 *
 * The rows are not repeated here: sse_native_rows.h, a list of
 * ROW("asm with %% doubled", "asm", mxcsr, xmm0lo, xmm0hi, xmm1lo, xmm1hi,
 * mm0, mm1, rax) lines, is extracted from the Go table by regen.sh. To add
 * a row, add it to the Go table (any outputs), run regen.sh and paste the
 * printed row. RCPPS/RCPSS/RSQRTPS/RSQRTSS results are implementation
 * specific; the test checks them against the SDM's error bound.
 */
#include <stdint.h>
#include <stdio.h>

#define ROW(easm, name, MX, A0, A1, B0, B1, M0, M1, RAX)                   \
	in[0] = A0, in[1] = A1, in[2] = B0, in[3] = B1, in[4] = M0, in[5] = M1; \
	rax = RAX, mx = MX;                                                \
	__asm__ volatile("movdqu (%[in]),%%xmm0\n movdqu 16(%[in]),%%xmm1\n"   \
			 " movq 32(%[in]),%%mm0\n movq 40(%[in]),%%mm1\n"      \
			 " movq %[rax],%%rax\n ldmxcsr %[mx]\n"                \
			 " pushq $4\n popfq\n " easm "\n"                      \
			 " stmxcsr %[mxo]\n pushfq\n popq %[fl]\n"             \
			 " movdqu %%xmm0,(%[out])\n movdqu %%xmm1,16(%[out])\n" \
			 " movq %%mm0,32(%[out])\n movq %%mm1,40(%[out])\n"    \
			 " movq %%rax,48(%[out])\n emms\n ldmxcsr %[def]"      \
			 : [mxo] "=m"(mxo), [fl] "=m"(fl)                      \
			 : [in] "r"(in), [out] "r"(out), [rax] "m"(rax),       \
			   [mx] "m"(mx), [def] "m"(def)                        \
			 : "rax", "xmm0", "xmm1", "memory", "cc");            \
	print(name, mx, in, rax, out, mxo, fl);

static void print(const char *name, uint32_t mx, const uint64_t *in, uint64_t rax,
		  const uint64_t *out, uint32_t mxo, uint64_t fl)
{
	printf("\t{\"%s\", 0x%x, [4]uint64{0x%llx, 0x%llx, 0x%llx, 0x%llx}, "
	       "[2]uint64{0x%llx, 0x%llx}, 0x%llx, [4]uint64{0x%llx, 0x%llx, 0x%llx, 0x%llx}, "
	       "[2]uint64{0x%llx, 0x%llx}, 0x%llx, 0x%x, 0x%llx},\n",
	       name, mx, (unsigned long long)in[0], (unsigned long long)in[1],
	       (unsigned long long)in[2], (unsigned long long)in[3],
	       (unsigned long long)in[4], (unsigned long long)in[5], (unsigned long long)rax,
	       (unsigned long long)out[0], (unsigned long long)out[1],
	       (unsigned long long)out[2], (unsigned long long)out[3],
	       (unsigned long long)out[4], (unsigned long long)out[5],
	       (unsigned long long)out[6], mxo, (unsigned long long)(fl & 0x8d5));
}

int main(void)
{
	uint64_t in[8], out[8], fl, rax;
	uint32_t mx, mxo, def = 0x1f80;
#include "sse_native_rows.h"
	return 0;
}
