// SPDX-License-Identifier: GPL-2.0
/*
 * overflow.ko: vmapstack's kernel stack overflow test module.
 *
 * Its init function recurses without bound on the stack of the task that
 * loads it (insmod: finit_module -> load_module -> do_init_module ->
 * do_one_initcall -> overflow_init -> vmapstack_recurse -> ...), until a
 * push or a store lands in the unmapped guard page below the vmalloc'ed
 * task stack (CONFIG_VMAP_STACK). The CPU cannot deliver that #PF on the
 * same stack and raises #DF on its IST stack; Linux's exc_double_fault
 * reports "BUG: TASK stack guard page was hit at ..." and panics.
 *
 * The recursion must stay a real one: vmapstack_recurse is noinline, each
 * frame holds a volatile array that is written before and read after the
 * recursive call, so the call is not a tail call and gcc can neither turn
 * it into a loop nor drop the frame. The integration tests look for the
 * function's name in the kernel's Call Trace and in `monitor bt`.
 */
#include <linux/init.h>
#include <linux/module.h>

/* Bytes of each frame's array: about 60 frames fill a 16 KiB stack. */
#define VMAPSTACK_FRAME_BYTES 240

/* The depth reached, kept in memory so that a debugger can read it. */
static unsigned long vmapstack_depth;

/* The recursion is unbounded on purpose; gcc 12 would say so. */
#pragma GCC diagnostic ignored "-Winfinite-recursion"

static noinline unsigned long vmapstack_recurse(unsigned long n)
{
	volatile unsigned char frame[VMAPSTACK_FRAME_BYTES];
	unsigned long sum;

	frame[0] = (unsigned char)n;
	frame[VMAPSTACK_FRAME_BYTES - 1] = (unsigned char)(n >> 8);
	WRITE_ONCE(vmapstack_depth, n);
	sum = vmapstack_recurse(n + 1);
	return sum + frame[0] + frame[VMAPSTACK_FRAME_BYTES - 1];
}

static int __init overflow_init(void)
{
	pr_info("vmapstack overflow: recursing on the stack of %s\n", current->comm);
	/* Never returns: the stack overflows first. */
	return vmapstack_recurse(0) ? 0 : -EINVAL;
}

static void __exit overflow_exit(void)
{
}

module_init(overflow_init);
module_exit(overflow_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("vmapstack");
MODULE_DESCRIPTION("Recurses without bound on the task stack to hit its guard page (vmapstack tests)");
