/*
 * traps.c - GDT/TSS/IDT setup and the exception handlers, including the
 * vmapped-stack overflow diagnosis of do_double_fault and do_page_fault.
 */
#include "kernel.h"

/* 64-bit TSS (SDM Vol. 3A 8.7, Figure 8-11): IST1 at offset 0x24. */
struct tss_struct {
	u32 reserved0;
	u64 sp0, sp1, sp2;
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 io_bitmap_base;
} __packed;

/* 64-bit interrupt gate (SDM Vol. 3A 6.14.1, Figure 6-8). */
struct gate_desc {
	u16 offset_low;
	u16 segment;
	u8 ist;
	u8 type_attr;
	u16 offset_middle;
	u32 offset_high;
	u32 reserved;
} __packed;

struct desc_ptr {
	u16 size;
	u64 address;
} __packed;

#define DOUBLEFAULT_STACK 1 /* IST index of #DF */
#define IST_STACK_SIZE (4 * PAGE_SIZE)

static struct tss_struct tss __aligned(64);
static struct gate_desc idt_table[256] __aligned(16);
/* The #DF stack: ordinary kernel .bss, never vmalloc, so it is always mapped. */
static char doublefault_stack[IST_STACK_SIZE] __aligned(PAGE_SIZE);
extern u64 gdt[];
extern struct desc_ptr gdt_desc64;

static const char *const exception_names[32] = {
	"divide error",
	"debug",
	"nmi",
	"int3",
	"overflow",
	"bounds",
	"invalid opcode",
	"device not available",
	"double fault",
	"coprocessor segment overrun",
	"invalid TSS",
	"segment not present",
	"stack segment",
	"general protection fault",
	"page fault",
	"spurious interrupt bug",
	"coprocessor error",
	"alignment check",
	"machine check",
	"SIMD exception",
	"virtualization exception",
	"control protection fault",
	"reserved (22)",
	"reserved (23)",
	"reserved (24)",
	"reserved (25)",
	"reserved (26)",
	"reserved (27)",
	"hypervisor injection exception",
	"VMM communication exception",
	"security exception",
	"reserved (31)",
};

static void set_gate(int vec, unsigned long addr, int ist)
{
	struct gate_desc *g = &idt_table[vec];
	g->offset_low = (u16)addr;
	g->segment = __KERNEL_CS;
	g->ist = (u8)ist;
	g->type_attr = 0x8e; /* present, DPL 0, 64-bit interrupt gate */
	g->offset_middle = (u16)(addr >> 16);
	g->offset_high = (u32)(addr >> 32);
	g->reserved = 0;
}

void trap_init(void)
{
	unsigned long base = (unsigned long)&tss;

	tss.ist[DOUBLEFAULT_STACK - 1] = (unsigned long)doublefault_stack + IST_STACK_SIZE;
	tss.io_bitmap_base = sizeof(tss); /* no I/O bitmap */

	/* 16-byte available 64-bit TSS descriptor (SDM Vol. 3A 8.2.3, Figure 8-4). */
	u64 limit = sizeof(tss) - 1;
	gdt[GDT_ENTRY_TSS] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89UL << 40) |
			     ((limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
	gdt[GDT_ENTRY_TSS + 1] = base >> 32;
	__asm__ volatile("lgdt %0" : : "m"(gdt_desc64));
	__asm__ volatile("ltr %w0" : : "r"(__TSS_SEL));

	for (int v = 0; v < 32; v++)
		set_gate(v, exception_stubs[v], 0);
	/* "noist": #DF on the current stack, so a stack overflow triple-faults. */
	set_gate(8, exception_stubs[8], opt_noist ? 0 : DOUBLEFAULT_STACK);
	for (int i = 0; i < 16; i++)
		set_gate(32 + i, irq_stubs[i], 0);
	struct desc_ptr idtr = { sizeof(idt_table) - 1, (u64)idt_table };
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

static void show_regs(struct pt_regs *regs, unsigned long cr2)
{
	struct task_struct *tsk = current_task;

	printk("CPU: 0 PID: %d Comm: %s\n", tsk ? tsk->pid : -1, tsk ? tsk->comm : "?");
	printk("RIP: %04lx:0x%016lx RSP: %04lx:0x%016lx\n", regs->cs, regs->ip, regs->ss, regs->sp);
	printk("CR2: 0x%016lx\n", cr2);
}

/* An oops: name the exception, show where, and stop (we never recover). */
static void __noreturn die(const char *str, struct pt_regs *regs, unsigned long error_code)
{
	printk("%s: %04lx [#1]\n", str, error_code);
	show_regs(regs, read_cr2());
	panic("Fatal exception");
}

/*
 * Report a hit guard page of the current task's stack. The wording of the
 * BUG line is Linux's (arch/x86/kernel/traps.c), with fixed-width hex.
 */
noinline void __noreturn handle_stack_overflow(const char *message, struct pt_regs *regs, unsigned long fault_address)
{
	unsigned long bottom = (unsigned long)current_task->stack;

	printk("BUG: stack guard page was hit at 0x%016lx (stack is 0x%016lx..0x%016lx)\n", fault_address, bottom,
	       bottom + THREAD_SIZE - 1);
	printk("%s\n", message);
	show_regs(regs, fault_address);
	panic("%s", message);
}

/*
 * #DF, on IST1. If the stack overflowed into its guard page, #PF could not
 * be delivered (pushing its frame faulted too) and the CPU raised #DF;
 * CR2 still holds the guard-page address (SDM Vol. 3A 6.15, "Interrupt 14":
 * CR2 is written even when the #PF becomes #DF). Any other #DF is fatal
 * without a diagnosis.
 */
noinline void do_double_fault(struct pt_regs *regs, unsigned long error_code)
{
	unsigned long cr2 = read_cr2();
	struct task_struct *tsk = current_task;

	if (tsk && tsk->stack && (unsigned long)tsk->stack - 1 - cr2 < PAGE_SIZE)
		handle_stack_overflow("kernel stack overflow (double-fault)", regs, cr2);

	printk("double fault: %04lx [#1]\n", error_code);
	show_regs(regs, cr2);
	panic("double fault");
}

/*
 * #PF. A vmalloc address whose top-level entry is missing from the current
 * page tables is fixed by vmalloc_fault (kernel mode, not-present fault).
 * An access to the current stack's guard page while RSP still had room for
 * the exception frame arrives here rather than as #DF: diagnose it too.
 */
noinline void do_page_fault(struct pt_regs *regs, unsigned long error_code)
{
	unsigned long address = read_cr2();
	struct task_struct *tsk = current_task;

	if (!(error_code & PF_PROT) && vmalloc_fault(address) == 0)
		return;
	if (tsk && tsk->stack && (unsigned long)tsk->stack - 1 - address < PAGE_SIZE)
		handle_stack_overflow("kernel stack overflow (page fault)", regs, address);

	printk("BUG: unable to handle kernel paging request at 0x%016lx\n", address);
	printk("Oops: %04lx [#1]\n", error_code);
	show_regs(regs, address);
	panic("Fatal exception");
}

static void do_spurious_irq(unsigned long vector)
{
	/* IRQ7/IRQ15 with the in-service bit clear are spurious: no EOI (8259A datasheet). */
	u16 port = vector == 39 ? 0x20 : 0xa0;
	outb(port, 0x0b); /* OCW3: read ISR */
	if (inb(port) & 0x80) {
		if (vector == 47)
			outb(0xa0, 0x20);
		outb(0x20, 0x20);
	} else if (vector == 47) {
		outb(0x20, 0x20); /* the master saw a real cascade request */
	}
}

void exception_dispatch(struct pt_regs *regs)
{
	unsigned long v = regs->vector;

	if (v == 14) {
		do_page_fault(regs, regs->error_code);
	} else if (v == 8) {
		do_double_fault(regs, regs->error_code);
	} else if (v < 32) {
		die(exception_names[v], regs, regs->error_code);
	} else if (v == 32) {
		outb(0x20, 0x20); /* EOI before a possible switch: the next task needs ticks */
		timer_interrupt();
	} else if (v == 39 || v == 47) {
		do_spurious_irq(v);
	} else {
		if (v >= 40)
			outb(0xa0, 0x20);
		outb(0x20, 0x20);
	}
}
