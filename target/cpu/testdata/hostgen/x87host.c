/*
 * x87host.c: host harness for x87HostCases (../../x87_host_test.go,
 * TestX87AgainstHost).
 *
 * Each case is an AT&T snippet working on a 512-byte buffer at %rbx:
 * inputs at offsets 0-63 (the case's init bytes), results at 64-319 (the
 * FSW, an FSTENV image and the eight stack registers stored by the common
 * epilogue the snippet ends with, plus whatever it stores itself). The
 * harness fills the buffer with 0xcc, copies init, runs the snippet
 * natively and prints the start of the Go row, up to and including the
 * expected bytes 64-319 as hex:
 *
 *   {"name", "asm", "init", "want",
 *
 * (the ignore ranges and the ulp flag that end the row are chosen by hand:
 * ignore lists the FIP/FDP offsets and selectors of the FSTENV/FNSAVE
 * images, which depend on where the host loaded the program).
 *
 * The cases are not repeated here: x87_cases.h, a list of
 * X(index, "name", "asm", "init") lines, is extracted from the Go table by
 * regen.sh. To add a case, add a row to the Go table (any want, ignore and
 * ulp), run regen.sh, and paste the printed row's want string.
 */
#include <stdio.h>
#include <string.h>

/* One function per case: %rdi = buffer; the snippet runs with %rbx = buffer. */
#define X(i, name, body, init)                                             \
	__asm__(".text\n.globl x87case" #i "\n.type x87case" #i ",@function\n" \
		"x87case" #i ":\n\tpush %rbx\n\tmov %rdi,%rbx\n\t" body        \
		"\n\tpop %rbx\n\tret\n");
#include "x87_cases.h"
#undef X

#define X(i, name, body, init) void x87case##i(unsigned char *);
#include "x87_cases.h"
#undef X

static const struct {
	const char *name, *asm_, *init;
	void (*run)(unsigned char *);
} cases[] = {
#define X(i, name, body, init) {name, body, init, x87case##i},
#include "x87_cases.h"
#undef X
};

int main(void)
{
	static unsigned char b[512];
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		const char *h = cases[c].init;
		memset(b, 0xcc, sizeof b);
		for (int j = 0; h[2 * j] && h[2 * j + 1]; j++)
			sscanf(h + 2 * j, "%2hhx", &b[j]);
		cases[c].run(b);
		printf("\t{\"%s\", \"%s\", \"%s\", \"", cases[c].name, cases[c].asm_, cases[c].init);
		for (int j = 64; j < 320; j++)
			printf("%02x", b[j]);
		printf("\",\n");
	}
	return 0;
}
