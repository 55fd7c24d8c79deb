/*
 * scenarios.c - what the kernel does after boot, chosen by scenario=NAME.
 *
 * The console output of every scenario must not depend on when timer
 * ticks arrive (QEMU's PIT follows the host clock, our emulator's the
 * instruction count): tasks print only at points fixed by a turn counter or
 * by cooperative switches, never tick counts.
 */
#include "kernel.h"

/* ---- tasks: round robin on vmapped stacks, preemption by the PIT ---- */

#define NR_WORKERS 3
#define WORKER_ROUNDS 3

static volatile int turn;      /* whose line comes next */
static volatile int released;  /* set by the last worker, awaited by the spinner */
static volatile unsigned long worker_work[NR_WORKERS];

static void wait_turn(int t)
{
	while (READ_ONCE(turn) != t)
		yield();
}

static void worker(void *arg)
{
	int id = (int)(long)arg;
	struct task_struct *me = current_task;

	for (int r = 0; r < WORKER_ROUNDS; r++) {
		wait_turn(1 + r * NR_WORKERS + id);
		const char *data = me->mm != &init_mm ? (const char *)USER_DATA_VA : "(nothing mapped)";
		printk("%s: round %d in %s, 0x%lx reads \"%s\"\n", me->comm, r, me->mm->name, USER_DATA_VA, data);
		unsigned long x = (unsigned long)id + 1;
		for (int i = 0; i < 20000; i++)
			x = x * 6364136223846793005UL + 1442695040888963407UL;
		worker_work[id] += x;
		WRITE_ONCE(turn, turn + 1);
		yield();
	}
	if (id == NR_WORKERS - 1)
		WRITE_ONCE(released, 1);
}

static void spinner(void *arg)
{
	(void)arg;
	wait_turn(0);
	printk("spinner: busy-waiting for worker-c without yielding; only the timer can switch away\n");
	WRITE_ONCE(turn, 1);
	while (!READ_ONCE(released))
		cpu_relax();
	printk("spinner: released\n");
}

static void scenario_tasks(void)
{
	struct mm_struct *mma = mm_alloc("mm-a", "hello from mm-a");
	struct mm_struct *mmb = mm_alloc("mm-b", "hello from mm-b");

	task_create("worker-a", worker, (void *)0L, mma, VMALLOC_START);
	task_create("worker-b", worker, (void *)1L, mmb, VMALLOC_START);
	task_create("worker-c", worker, (void *)2L, NULL, VMALLOC_START);
	task_create("spinner", spinner, NULL, NULL, VMALLOC_START);
	/* Only now: init_task runs only when no other task can, so a tick during creation would stall it. */
	preempt_enabled = 1;
	wait_for_tasks();
	printk("tasks: all %d tasks exited\n", nr_tasks - 1);
}

/* ---- overflow: deep recursion into the guard page ---- */

/*
 * Each level's frame is the return address and one saved register, 16
 * bytes, so some call runs with RSP exactly at the stack bottom and its
 * return-address push is the first access to the guard page.
 */
static noinline unsigned long recurse(unsigned long depth)
{
	if (depth == ~0UL)
		return 0;
	return recurse(depth + 1) ^ depth; /* not a tail call: the frame stays */
}

static void recurse_task(void *arg)
{
	(void)arg;
	printk("overflow: recursing until the stack runs into its guard page\n");
	/* No tick may land near the bottom: the fault must come from the recursion itself. */
	local_irq_disable();
	recurse(0);
	panic("overflow: recursion returned");
}

static void scenario_overflow(void)
{
	task_create("recurse", recurse_task, NULL, NULL, VMALLOC_START);
	wait_for_tasks();
	panic("overflow: the task exited");
}

/* ---- overflow-pf: a large frame probed below RSP ---- */

/*
 * Touch the pages a size-byte frame would occupy, top down, before moving
 * RSP, as stack-probing prologues do: the guard page is hit while RSP
 * still has room, so the #PF is delivered and do_page_fault diagnoses it.
 */
static noinline void probe_big_frame(unsigned long size)
{
	unsigned long sp = current_stack_pointer();

	printk("overflow-pf: probing a %lu-byte frame below RSP 0x%016lx\n", size, sp);
	for (unsigned long off = PAGE_SIZE; off <= size; off += PAGE_SIZE)
		WRITE_ONCE(*(volatile unsigned char *)(sp - off), 0);
}

static void probe_task(void *arg)
{
	(void)arg;
	probe_big_frame(THREAD_SIZE);
	panic("overflow-pf: probe returned");
}

static void scenario_overflow_pf(void)
{
	task_create("bigframe", probe_task, NULL, NULL, VMALLOC_START);
	wait_for_tasks();
	panic("overflow-pf: the task exited");
}

/* ---- irq-overflow: a tick with RSP just above the bottom ---- */

static void irq_task(void *arg)
{
	(void)arg;
	unsigned long sp = (unsigned long)current_task->stack + 16;
	printk("irq-overflow: waiting for the timer with RSP = 0x%016lx (stack bottom + 16)\n", sp);
	irq_overflow_wait(sp);
}

static void scenario_irq_overflow(void)
{
	task_create("irqwait", irq_task, NULL, NULL, VMALLOC_START);
	wait_for_tasks();
	panic("irq-overflow: the task exited");
}

/* ---- lazy-pgd: stacks whose PML4 entry an mm does not have ---- */

#define SLOT2 (VMALLOC_START + PGDIR_SIZE) /* second 512 GiB of vmalloc: PML4 slot 403 */

static void lazy_task(void *arg)
{
	(void)arg;
	struct task_struct *me = current_task;
	printk("%s: running in %s (reads \"%s\"), PML4 slot %lu present: %s\n", me->comm, me->mm->name,
	       (const char *)USER_DATA_VA, pgd_index(SLOT2), pgd_present(me->mm, SLOT2) ? "yes" : "no");
	yield();
	printk("%s: back in %s, PML4 slot %lu present: %s\n", me->comm, me->mm->name, pgd_index(SLOT2),
	       pgd_present(me->mm, SLOT2) ? "yes" : "no");
}

/*
 * lazy-c: stack in slot 402, mm-c. lazy-b: stack in slot 403, allocated
 * after mm-b and mm-c were created, so neither has slot 403.
 *  1. lazy-c -> lazy-b: switch_mm(mm-c, mm-b) on lazy-c's stack (fine), then
 *     lazy-b's stack is missing in mm-b: prepare_switch_to's probe faults
 *     and vmalloc_fault fixes mm-b. With "noprobe": #DF in switch_to.
 *  2. lazy-b -> lazy-c: switch_mm(mm-b, mm-c) while on lazy-b's stack,
 *     missing in mm-c: switch_mm copies it first. With "nosync": #DF right
 *     after the CR3 write.
 * No preemption: the switches happen at these fixed points.
 */
static void scenario_lazy_pgd(void)
{
	unsigned long slot = pgd_index(SLOT2);

	preempt_enabled = 0;
	struct task_struct *c = task_create("lazy-c", lazy_task, NULL, NULL, VMALLOC_START);
	struct mm_struct *mmb = mm_alloc("mm-b", "hello from mm-b");
	struct mm_struct *mmc = mm_alloc("mm-c", "hello from mm-c");
	use_mm(c, mmc);
	printk("lazy-pgd: created mm-b and mm-c; PML4 slot %lu present in init_mm: %s, mm-b: %s, mm-c: %s\n", slot,
	       pgd_present(&init_mm, SLOT2) ? "yes" : "no", pgd_present(mmb, SLOT2) ? "yes" : "no",
	       pgd_present(mmc, SLOT2) ? "yes" : "no");
	task_create("lazy-b", lazy_task, NULL, mmb, SLOT2);
	printk("lazy-pgd: PML4 slot %lu present in init_mm: %s, mm-b: %s, mm-c: %s\n", slot,
	       pgd_present(&init_mm, SLOT2) ? "yes" : "no", pgd_present(mmb, SLOT2) ? "yes" : "no",
	       pgd_present(mmc, SLOT2) ? "yes" : "no");
	wait_for_tasks();
	printk("lazy-pgd: ok\n");
}

/* ---- bench: compute and context switches, deterministic checksum ---- */

#define BENCH_TASKS 4
#define BENCH_ITERS 2000000
#define BENCH_YIELD_MASK 2047
#define BENCH_WORDS 2048

static u64 *bench_buf[BENCH_TASKS];
static u64 bench_sum[BENCH_TASKS];
static unsigned long bench_yields[BENCH_TASKS];

static void bench_task(void *arg)
{
	int id = (int)(long)arg;
	u64 *buf = bench_buf[id];
	u64 x = 0x9e3779b97f4a7c15UL * (u64)(id + 1);
	u64 sum = 0;
	unsigned long yields = 0;

	for (unsigned long i = 0; i < BENCH_ITERS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		unsigned long idx = x & (BENCH_WORDS - 1);
		u64 v = buf[idx] + (x >> 11) + i;
		buf[idx] = v;
		sum = (sum ^ v) * 0x100000001b3UL + (v % 1000003);
		if ((i & BENCH_YIELD_MASK) == 0) {
			yield();
			yields++;
		}
	}
	bench_sum[id] = sum;
	bench_yields[id] = yields;
}

static const char *const bench_names[BENCH_TASKS] = { "bench-0", "bench-1", "bench-2", "bench-3" };

/* endless's tasks: bench's, over and over (bench_task itself unchanged, so
 * bench still retires the instructions docs/speed.md counts). */
static void endless_task(void *arg)
{
	for (;;)
		bench_task(arg);
}

static void bench_start(void (*fn)(void *))
{
	struct mm_struct *mms[2] = { mm_alloc("mm-a", "bench a"), mm_alloc("mm-b", "bench b") };

	for (int i = 0; i < BENCH_TASKS; i++) {
		bench_buf[i] = vmalloc(BENCH_WORDS * sizeof(u64));
		task_create(bench_names[i], fn, (void *)(long)i, mms[i % 2], VMALLOC_START);
	}
}

static void scenario_bench(void)
{
	bench_start(bench_task);
	printk("bench: %d tasks x %d iterations, yielding every %d\n", BENCH_TASKS, BENCH_ITERS, BENCH_YIELD_MASK + 1);
	preempt_enabled = 1;
	wait_for_tasks();
	u64 total = 0;
	unsigned long yields = 0;
	for (int i = 0; i < BENCH_TASKS; i++) {
		printk("bench: %s checksum 0x%016lx\n", bench_names[i], bench_sum[i]);
		total = total * 31 + bench_sum[i];
		yields += bench_yields[i];
	}
	printk("bench: %lu yields, checksum 0x%016lx\n", yields, total);
}

/*
 * ---- endless: the bench's tasks, computing and switching without end ----
 *
 * A kernel that keeps running, as a real one does, for whoever attaches to
 * it later (--wait=false) or interrupts it: bench itself now ends within a
 * fraction of a second, before a debugger on a loaded host gets there.
 */
static void scenario_endless(void)
{
	bench_start(endless_task);
	printk("endless: %d tasks computing without end, yielding every %d\n", BENCH_TASKS, BENCH_YIELD_MASK + 1);
	preempt_enabled = 1;
	wait_for_tasks();
}

static const struct {
	const char *name;
	void (*run)(void);
} scenarios[] = {
	{ "tasks", scenario_tasks },
	{ "overflow", scenario_overflow },
	{ "overflow-pf", scenario_overflow_pf },
	{ "irq-overflow", scenario_irq_overflow },
	{ "lazy-pgd", scenario_lazy_pgd },
	{ "bench", scenario_bench },
	{ "endless", scenario_endless },
};

void run_scenario(const char *name)
{
	for (unsigned i = 0; i < ARRAY_SIZE(scenarios); i++) {
		if (!strcmp(name, scenarios[i].name)) {
			printk("scenario: %s%s%s%s\n", name, opt_nosync ? " nosync" : "", opt_noprobe ? " noprobe" : "",
			       opt_noist ? " noist" : "");
			scenarios[i].run();
			printk("scenario %s: done\n", name);
			return;
		}
	}
	panic("unknown scenario \"%s\" (scenarios: tasks overflow overflow-pf irq-overflow lazy-pgd bench endless)", name);
}
