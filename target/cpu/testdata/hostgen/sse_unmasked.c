/*
 * sse_unmasked.c: host oracle for sseUnmaskedRows (../../sse_unmasked_test.go).
 *
 * Reads lines "mnemonic mxcsr x0lo x0hi x1lo x1hi" (hex) from stdin, loads
 * XMM0 and XMM1, loads MXCSR (which may leave exceptions unmasked), runs
 * "mnemonic %xmm1,%xmm0" natively and prints the Go table row
 *
 *   {"<opcode bytes>", mxcsr, [4]uint64{in}, fault, mxcsr after, xmm0 lo, xmm0 hi}, // mnemonic
 *
 * If the instruction raised #XM (SIGFPE), fault is true and MXCSR/XMM0 are
 * the ones in the signal frame at the fault (the destination unchanged);
 * otherwise they are read after the instruction.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

static sigjmp_buf jb;
static volatile uint32_t fault_mx;
static volatile uint64_t fault_x0[2];
static volatile int faulted;

static void onfpe(int s, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	(void)s, (void)si;
	fault_mx = uc->uc_mcontext.fpregs->mxcsr;
	memcpy((void *)fault_x0, &uc->uc_mcontext.fpregs->_xmm[0], 16);
	faulted = 1;
	uc->uc_mcontext.fpregs->mxcsr = 0x1f80;
	siglongjmp(jb, 1);
}

/* mnemonic, then the encoding of "mnemonic %xmm1,%xmm0" the Go row holds */
#define OPS(X)                                                             \
	X(addps, "0f58c1") X(addpd, "660f58c1") X(addss, "f30f58c1")       \
	X(addsd, "f20f58c1") X(subps, "0f5cc1") X(subsd, "f20f5cc1")       \
	X(mulps, "0f59c1") X(mulpd, "660f59c1") X(mulss, "f30f59c1")       \
	X(mulsd, "f20f59c1") X(divps, "0f5ec1") X(divpd, "660f5ec1")       \
	X(divss, "f30f5ec1") X(divsd, "f20f5ec1") X(sqrtps, "0f51c1")      \
	X(sqrtpd, "660f51c1") X(sqrtss, "f30f51c1") X(sqrtsd, "f20f51c1")  \
	X(minps, "0f5dc1") X(maxpd, "660f5fc1") X(minsd, "f20f5dc1")       \
	X(maxss, "f30f5fc1") X(cmpltps, "0fc2c101")                        \
	X(cmplepd, "660fc2c102") X(cmpeqss, "f30fc2c100")                  \
	X(cmpunordsd, "f20fc2c103") X(cvtpd2ps, "660f5ac1")                \
	X(cvtps2pd, "0f5ac1") X(cvtdq2ps, "0f5bc1") X(cvtps2dq, "660f5bc1") \
	X(cvttpd2dq, "660fe6c1") X(cvtpd2dq, "f20fe6c1")                   \
	X(cvtsd2ss, "f20f5ac1") X(cvtss2sd, "f30f5ac1")                    \
	X(haddps, "f20f7cc1") X(hsubpd, "660f7dc1")                        \
	X(addsubps, "f20fd0c1") X(addsubpd, "660fd0c1")

#define RUN(mn, code)                                                      \
	if (!strcmp(op, #mn)) {                                            \
		enc = code;                                                \
		if (!sigsetjmp(jb, 1))                                     \
			__asm__ volatile(                                  \
			    "movdqu (%[in]),%%xmm0\n movdqu 16(%[in]),%%xmm1\n" \
			    " ldmxcsr %[mx]\n " #mn " %%xmm1,%%xmm0\n"     \
			    " stmxcsr %[mxo]\n movdqu %%xmm0,(%[out])\n"   \
			    " ldmxcsr %[def]"                              \
			    : [mxo] "=m"(mxo)                              \
			    : [in] "r"(in), [out] "r"(out), [mx] "m"(mx),  \
			      [def] "m"(def)                               \
			    : "xmm0", "xmm1", "memory");                   \
		goto done;                                                 \
	}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = onfpe;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGFPE, &sa, 0);

	char op[32];
	unsigned mx;
	unsigned long long in[4];
	uint32_t def = 0x1f80;
	while (scanf("%31s %x %llx %llx %llx %llx", op, &mx, &in[0], &in[1], &in[2], &in[3]) == 6) {
		uint64_t out[2] = {0, 0};
		uint32_t mxo = 0;
		const char *enc;
		faulted = 0;
		OPS(RUN)
		fprintf(stderr, "unknown op %s\n", op);
		return 1;
	done:
		if (faulted) {
			mxo = fault_mx;
			out[0] = fault_x0[0];
			out[1] = fault_x0[1];
		}
		printf("\t{\"%s\", 0x%x, [4]uint64{0x%llx, 0x%llx, 0x%llx, 0x%llx}, %s, 0x%x, 0x%llx, 0x%llx}, // %s\n",
		       enc, mx, in[0], in[1], in[2], in[3], faulted ? "true" : "false", mxo,
		       (unsigned long long)out[0], (unsigned long long)out[1], op);
	}
	return 0;
}
