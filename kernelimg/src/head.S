/*
 * head.S - PVH entry: 32-bit protected mode to 64-bit long mode.
 *
 * qemu-system-x86_64 -kernel (and our Go loader) look for the Xen ELF note
 * XEN_ELFNOTE_PHYS32_ENTRY and enter there with paging off, flat 32-bit
 * segments and EBX = physical address of struct hvm_start_info (the PVH
 * boot ABI, xen/include/public/arch-x86/hvm/start_info.h).
 *
 * The code here is linked at its high address (__START_KERNEL_map + phys)
 * but runs at its physical address until paging is on, so every absolute
 * reference goes through PA().
 */
#define START_KERNEL_MAP 0xffffffff80000000
#define PA(x) ((x) - START_KERNEL_MAP)

#define __KERNEL32_CS 0x08
#define __KERNEL_CS 0x10
#define __KERNEL_DS 0x18

#define X86_CR0_PE (1 << 0)
#define X86_CR0_WP (1 << 16)
#define X86_CR0_PG (1 << 31)
#define X86_CR4_PAE (1 << 5)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)

/*
 * The note: name "Xen", type 18, an 8-byte physical entry address. QEMU's
 * read_pvh_start_addr (hw/i386/x86.c) finds the payload at the note header
 * + 12 + namesz rounded up to the PT_NOTE segment's p_align, so the
 * section must stay 4-byte aligned (an 8-aligned segment would move it).
 */
	.section .note.Xen, "a"
	.p2align 2
	.long 4			/* namesz */
	.long 8			/* descsz */
	.long 18		/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.p2align 2
	.quad PA(pvh_start)

	.section .head.text, "ax"
	.code32
	.globl pvh_start
pvh_start:
	cli
	cld
	movl %ebx, %esi			/* hvm_start_info: kept in ESI throughout */

	lgdt PA(gdt_desc32)
	movl $__KERNEL_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	ljmp $__KERNEL32_CS, $PA(1f)
1:
	movl $PA(boot_stack_top), %esp

	/* Zero .bss: do not rely on the loader having done it. */
	movl $PA(__bss_start), %edi
	movl $PA(__bss_stop), %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl

	/*
	 * Early page tables: one page directory of 2 MiB pages mapping the first
	 * GiB, reachable three ways: identity (PML4[0]), the direct map
	 * (PML4[273] = 0xffff888000000000) and the kernel image (PML4[511],
	 * PDPT[510] = 0xffffffff80000000). paging_init() replaces them.
	 */
	movl $PA(early_pdpt + 3), %eax
	movl %eax, PA(early_pml4)
	movl %eax, PA(early_pml4 + 273 * 8)
	movl $PA(early_pdpt_high + 3), %eax
	movl %eax, PA(early_pml4 + 511 * 8)
	movl $PA(early_pd + 3), %eax
	movl %eax, PA(early_pdpt)
	movl %eax, PA(early_pdpt_high + 510 * 8)
	movl $PA(early_pd), %edi
	movl $0x83, %eax		/* present, writable, 2 MiB page */
	movl $512, %ecx
2:	movl %eax, (%edi)
	addl $0x200000, %eax
	addl $8, %edi
	decl %ecx
	jnz 2b

	/* Long mode, SDM Vol. 3A 10.8.5: PAE, CR3, EFER.LME, then CR0.PG. */
	movl %cr4, %eax
	orl $X86_CR4_PAE, %eax
	movl %eax, %cr4
	movl $PA(early_pml4), %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $(EFER_LME | EFER_NXE), %eax
	wrmsr
	movl %cr0, %eax
	orl $(X86_CR0_PG | X86_CR0_WP | X86_CR0_PE), %eax
	movl %eax, %cr0
	ljmp $__KERNEL_CS, $PA(startup_64)

	.code64
startup_64:
	/* Still at the physical address (identity map): go to the high one. */
	movabsq $startup_64_high, %rax
	jmp *%rax
startup_64_high:
	lgdt gdt_desc64(%rip)		/* GDTR base must be a high address too */
	movl $__KERNEL_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	leaq boot_stack_top(%rip), %rsp
	movl %esi, %edi			/* zero-extends the hvm_start_info address */
	call start_kernel
3:	cli
	hlt
	jmp 3b

	.data
	.p2align 4
	.globl gdt
gdt:
	.quad 0				/* null */
	.quad 0x00cf9a000000ffff	/* 0x08 __KERNEL32_CS */
	.quad 0x00af9a000000ffff	/* 0x10 __KERNEL_CS (L=1) */
	.quad 0x00cf92000000ffff	/* 0x18 __KERNEL_DS */
	.quad 0, 0, 0, 0		/* 0x20-0x38 unused (user segments in Linux) */
	.quad 0, 0			/* 0x40 TSS, filled by trap_init() */
gdt_end:
gdt_desc32:
	.word gdt_end - gdt - 1
	.long PA(gdt)
	.p2align 3
	.globl gdt_desc64
gdt_desc64:
	.word gdt_end - gdt - 1
	.quad gdt

	.bss
	.p2align 12
early_pml4:	.skip 4096
early_pdpt:	.skip 4096
early_pdpt_high: .skip 4096
early_pd:	.skip 4096
	/* init_task's stack; THREAD_SIZE-aligned like every other stack */
	.p2align 14
	.globl boot_stack
boot_stack:	.skip 16384
boot_stack_top:
