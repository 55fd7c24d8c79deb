/*
 * kernel.h - shared definitions of the vmapstack mini kernel.
 *
 * The layout and the names follow Linux x86-64 (4.9, when vmapped stacks
 * arrived) so that a kernel developer finds the same things in the same
 * places: direct map at PAGE_OFFSET, vmalloc area, kernel image at
 * __START_KERNEL_map, struct task_struct with ->stack and ->thread.sp.
 */
#ifndef KERNEL_H
#define KERNEL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#define noinline __attribute__((noinline, noclone))
#define __noreturn __attribute__((noreturn))
#define __aligned(x) __attribute__((aligned(x)))
#define __packed __attribute__((packed))

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define THREAD_SIZE (4 * PAGE_SIZE) /* 16 KiB, as on x86-64 Linux */

#define PAGE_OFFSET 0xffff888000000000UL /* direct map of all RAM */
#define VMALLOC_START 0xffffc90000000000UL
#define VMALLOC_END 0xffffe90000000000UL /* 32 TiB, as Linux */
#define START_KERNEL_MAP 0xffffffff80000000UL /* kernel image */

#define PGDIR_SHIFT 39
#define PGDIR_SIZE (1UL << PGDIR_SHIFT) /* 512 GiB per PML4 entry */
#define PUD_SHIFT 30
#define PMD_SHIFT 21
#define PMD_SIZE (1UL << PMD_SHIFT)
#define PTRS_PER_TABLE 512

#define pgd_index(a) (((a) >> PGDIR_SHIFT) & 511)
#define pud_index(a) (((a) >> PUD_SHIFT) & 511)
#define pmd_index(a) (((a) >> PMD_SHIFT) & 511)
#define pte_index(a) (((a) >> PAGE_SHIFT) & 511)

/* Page-table entry bits (Intel SDM Vol. 3A 4.5, Tables 4-14 to 4-20). */
#define _PAGE_PRESENT 0x001UL
#define _PAGE_RW 0x002UL
#define _PAGE_USER 0x004UL
#define _PAGE_ACCESSED 0x020UL
#define _PAGE_DIRTY 0x040UL
#define _PAGE_PSE 0x080UL
#define _PAGE_NX (1UL << 63)
#define PTE_PFN_MASK 0x000ffffffffff000UL

/* #PF error code bits (SDM Vol. 3A 4.7). */
#define PF_PROT 0x1
#define PF_WRITE 0x2
#define PF_INSTR 0x10

/* GDT layout, as Linux x86-64 (arch/x86/include/asm/segment.h). */
#define __KERNEL32_CS 0x08
#define __KERNEL_CS 0x10
#define __KERNEL_DS 0x18
#define GDT_ENTRY_TSS 8
#define __TSS_SEL (GDT_ENTRY_TSS * 8)

#define __va(pa) ((void *)((unsigned long)(pa) + PAGE_OFFSET))
#define __pa(va) ((unsigned long)(va) - PAGE_OFFSET)
#define __pa_symbol(va) ((unsigned long)(va) - START_KERNEL_MAP)

#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((unsigned long)(a) - 1))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- port I/O and control registers ---- */
static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port)
{
	u8 v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline unsigned long read_cr2(void)
{
	unsigned long v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}
static inline unsigned long read_cr3(void)
{
	unsigned long v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}
static inline void write_cr3(unsigned long v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline unsigned long current_stack_pointer(void)
{
	unsigned long sp;
	__asm__ volatile("mov %%rsp, %0" : "=r"(sp));
	return sp;
}
static inline void local_irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void local_irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline unsigned long local_irq_save(void)
{
	unsigned long flags;
	__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
	return flags;
}
static inline void local_irq_restore(unsigned long flags)
{
	if (flags & 0x200)
		local_irq_enable();
}
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void halt(void) { __asm__ volatile("hlt" ::: "memory"); }
#define barrier() __asm__ volatile("" ::: "memory")
#define READ_ONCE(x) (*(volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

/* ---- registers saved by the exception entry (entry.S builds this) ---- */
struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx;
	unsigned long r11, r10, r9, r8, ax, cx, dx, si, di;
	unsigned long vector;
	unsigned long error_code;
	/* pushed by the CPU (SDM Vol. 3A 6.14.2, Figure 6-9) */
	unsigned long ip, cs, flags, sp, ss;
};

/* ---- memory management ---- */
struct mem_region {
	unsigned long start, end;
};
#define MAX_REGIONS 32
extern struct mem_region ram_regions[MAX_REGIONS];
extern int nr_ram_regions;

struct mm_struct {
	u64 *pgd; /* top-level table (PML4), direct-map address */
	const char *name;
};
extern struct mm_struct init_mm;

void *alloc_page(void);
void mem_init(void);
void paging_init(void);
struct mm_struct *mm_alloc(const char *name, const char *data);
void *__vmalloc_range(unsigned long size, unsigned long align, unsigned long start, unsigned long end);
void *vmalloc(unsigned long size);
int vmalloc_fault(unsigned long address);
int pgd_present(struct mm_struct *mm, unsigned long address);
void switch_mm(struct mm_struct *prev, struct mm_struct *next);
#define USER_DATA_VA 0x400000UL /* one page per mm, different in each */

/* ---- tasks ---- */
enum task_state { TASK_RUNNING = 0, TASK_DEAD = 1 };

struct thread_struct {
	unsigned long sp; /* saved RSP while switched out */
};

struct task_struct {
	struct thread_struct thread; /* offset 0: entry.S (switch_to) uses it */
	void *stack;                 /* lowest address of the THREAD_SIZE stack */
	struct mm_struct *mm;
	int pid;
	int state;
	char comm[16];
	void (*fn)(void *);
	void *arg;
};

#define MAX_TASKS 16
extern struct task_struct *current_task;
extern struct task_struct *task_table[MAX_TASKS];
extern int nr_tasks;
extern struct task_struct init_task;
extern int preempt_enabled;

void sched_init(void);
struct task_struct *task_create(const char *name, void (*fn)(void *), void *arg, struct mm_struct *mm,
				unsigned long vmalloc_from);
void use_mm(struct task_struct *t, struct mm_struct *mm);
void yield(void);
void schedule(void);
void __noreturn task_exit(void);
int live_tasks(void);
void wait_for_tasks(void);
void timer_interrupt(void);
void pic_init(void);
void pit_init(void);
void prepare_switch_to(struct task_struct *prev, struct task_struct *next);
/* entry.S */
void switch_to(struct task_struct *prev, struct task_struct *next);
void ret_from_fork(void);
void __noreturn irq_overflow_wait(unsigned long sp);

/* ---- traps ---- */
void trap_init(void);
void exception_dispatch(struct pt_regs *regs);
void do_page_fault(struct pt_regs *regs, unsigned long error_code);
void do_double_fault(struct pt_regs *regs, unsigned long error_code);
void __noreturn handle_stack_overflow(const char *message, struct pt_regs *regs, unsigned long fault_address);
extern const unsigned long exception_stubs[32];
extern const unsigned long irq_stubs[16];

/* ---- console, log, exit ---- */
extern char log_buf[];
extern unsigned long log_len;
void console_init(void);
int printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vsnprintf(char *buf, unsigned long size, const char *fmt, va_list ap);
int snprintf(char *buf, unsigned long size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void __noreturn panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void __noreturn debug_exit(int code);

/* ---- library (lib.c, entry.S) ---- */
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
void strlcpy(char *d, const char *s, size_t n);

/* ---- command line ---- */
extern int opt_nosync, opt_noprobe, opt_noist;
extern char boot_command_line[256];

/* ---- scenarios ---- */
void run_scenario(const char *name);

/* linker script symbols */
extern char _text[], _etext[], __start_rodata[], __end_rodata[], _edata[], __bss_start[], __bss_stop[], _end[];
extern char boot_stack[];

#endif
