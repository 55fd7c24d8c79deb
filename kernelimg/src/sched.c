/*
 * sched.c - tasks on vmapped stacks, a round-robin scheduler (cooperative
 * yield plus preemption from the PIT tick), the 8259 PIC and the PIT.
 */
#include "kernel.h"

/* The running task (Linux: the per-CPU variable current_task). */
struct task_struct *current_task;
/* Every task ever created, by pid; the debugger's "monitor tasks" walks it. */
struct task_struct *task_table[MAX_TASKS];
int nr_tasks;
/* The boot task: runs start_kernel on boot_stack, then only when nothing else can. */
struct task_struct init_task = { .comm = "swapper", .state = TASK_RUNNING };
/* Whether the timer tick switches tasks (scenarios whose output must not depend on when ticks come turn it off). */
int preempt_enabled;
unsigned long jiffies;

void sched_init(void)
{
	init_task.stack = boot_stack;
	init_task.mm = &init_mm;
	init_task.pid = 0;
	task_table[0] = &init_task;
	nr_tasks = 1;
	current_task = &init_task;
}

/*
 * THREAD_SIZE as an object, so that debuggers read it from DWARF: gcc -g
 * keeps no macros. kernelsym (monitor stack, monitor tasks) relies on it.
 */
const unsigned long thread_size __attribute__((used)) = THREAD_SIZE;

/*
 * Create a task running fn(arg) in mm, on a THREAD_SIZE stack vmalloc'ed
 * at or above vmalloc_from, THREAD_SIZE-aligned, with a guard page below.
 */
struct task_struct *task_create(const char *name, void (*fn)(void *), void *arg, struct mm_struct *mm,
				unsigned long vmalloc_from)
{
	if (nr_tasks == MAX_TASKS)
		panic("too many tasks");
	struct task_struct *t = alloc_page();
	unsigned long stack = (unsigned long)__vmalloc_range(THREAD_SIZE, THREAD_SIZE, vmalloc_from, VMALLOC_END);
	if (!stack)
		panic("no vmalloc space for the stack of %s", name);
	t->stack = (void *)stack;
	t->mm = mm ? mm : &init_mm;
	t->fn = fn;
	t->arg = arg;
	strlcpy(t->comm, name, sizeof(t->comm));

	/*
	 * The frame switch_to pops: r15 r14 r13 r12 rbx rbp, then the return
	 * address ret_from_fork. Placed so that RSP is 16-byte aligned at
	 * ret_from_fork's call, as the ABI wants.
	 */
	unsigned long *sp = (unsigned long *)(stack + THREAD_SIZE - 72);
	sp[0] = 0;                        /* r15 */
	sp[1] = 0;                        /* r14 */
	sp[2] = (unsigned long)arg;       /* r13 */
	sp[3] = (unsigned long)fn;        /* r12 */
	sp[4] = 0;                        /* rbx */
	sp[5] = 0;                        /* rbp */
	sp[6] = (unsigned long)ret_from_fork;
	t->thread.sp = (unsigned long)sp;

	t->pid = nr_tasks;
	t->state = TASK_RUNNING;
	task_table[nr_tasks++] = t;
	printk("task %d \"%s\": stack 0x%016lx..0x%016lx\n", t->pid, t->comm, stack, stack + THREAD_SIZE - 1);
	return t;
}

/* A kernel thread adopts an address space (Linux: use_mm/kthread_use_mm). */
void use_mm(struct task_struct *t, struct mm_struct *mm)
{
	t->mm = mm;
}

/*
 * Runs on the previous task's stack, in the next task's address space
 * (switch_mm has run). If the next stack's top-level entry is missing
 * here, reading it now takes an ordinary #PF on the old stack that
 * vmalloc_fault fixes; without it the first pop after switch_to loads RSP
 * faults on a stack that cannot take the #PF frame: #DF. "noprobe" skips it.
 */
noinline void prepare_switch_to(struct task_struct *prev, struct task_struct *next)
{
	(void)prev;
	if (opt_noprobe)
		return;
	(void)READ_ONCE(*(unsigned char *)next->thread.sp);
}

/* Round robin over the other runnable tasks; init_task only when none is left. */
static struct task_struct *pick_next(void)
{
	int start = current_task->pid;
	for (int i = 1; i <= nr_tasks; i++) {
		struct task_struct *t = task_table[(start + i) % nr_tasks];
		if (t != &init_task && t->state == TASK_RUNNING)
			return t;
	}
	return &init_task;
}

/* Call with interrupts disabled. */
void schedule(void)
{
	struct task_struct *prev = current_task;
	struct task_struct *next = pick_next();

	if (next == prev)
		return;
	switch_mm(prev->mm, next->mm);
	prepare_switch_to(prev, next);
	switch_to(prev, next);
}

void yield(void)
{
	unsigned long flags = local_irq_save();
	schedule();
	local_irq_restore(flags);
}

void __noreturn task_exit(void)
{
	local_irq_disable();
	current_task->state = TASK_DEAD;
	schedule();
	panic("dead task %s was scheduled", current_task->comm);
}

int live_tasks(void)
{
	int n = 0;
	for (int i = 1; i < nr_tasks; i++)
		if (task_table[i]->state == TASK_RUNNING)
			n++;
	return n;
}

/* init_task: hand the CPU to the tasks until all have exited. */
void wait_for_tasks(void)
{
	while (live_tasks())
		yield();
}

void timer_interrupt(void)
{
	jiffies++;
	if (preempt_enabled)
		schedule();
}

/* 8259A pair: IRQ 0-7 -> vectors 32-39, IRQ 8-15 -> 40-47; only IRQ0 unmasked. */
void pic_init(void)
{
	outb(0x20, 0x11); /* ICW1: edge, cascade, ICW4 */
	outb(0xa0, 0x11);
	outb(0x21, 0x20); /* ICW2: vector base */
	outb(0xa1, 0x28);
	outb(0x21, 0x04); /* ICW3: slave on IRQ2 */
	outb(0xa1, 0x02);
	outb(0x21, 0x01); /* ICW4: 8086 mode */
	outb(0xa1, 0x01);
	outb(0x21, 0xfe);
	outb(0xa1, 0xff);
}

/* PIT channel 0, mode 2 (rate generator), 1193182 Hz / 1193 = ~1000 Hz. */
void pit_init(void)
{
	const unsigned divisor = 1193;
	outb(0x43, 0x34);
	outb(0x40, divisor & 0xff);
	outb(0x40, divisor >> 8);
}
