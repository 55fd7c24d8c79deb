/*
 * entry.S - exception and interrupt entry, the context switch, and the few
 * routines that must be written in assembly.
 */

	/* Unwind info for gdb only: keep it out of .eh_frame (discarded). */
	.cfi_sections .debug_frame
	.text

/*
 * One stub per vector: push a dummy error code where the CPU does not, push
 * the vector, join common_entry. Every stub is 16 bytes apart; the tables
 * below hold their addresses for trap_init().
 */
/* Vectors with a CPU-pushed error code: SDM Vol. 3A 6.13, Table 6-1. */
/*
 * CFI as in common_entry, from the stub's first instruction on, so that a
 * debugger stopped where the CPU delivered the exception (break-on df)
 * unwinds into the interrupted code: CFA is the address above the CPU's
 * frame (6 words with an error code, 5 without), RIP and RSP are in it.
 */
	.macro STUB vec
	.p2align 4
stub_\vec:
	.cfi_startproc simple
	.cfi_signal_frame
	.if \vec == 8 || (\vec >= 10 && \vec <= 14) || \vec == 17 || \vec == 21 || \vec == 29 || \vec == 30
	.cfi_def_cfa %rsp, 48
	.cfi_offset %rip, -40
	.cfi_offset %rsp, -16
	.else
	.cfi_def_cfa %rsp, 40
	.cfi_offset %rip, -40
	.cfi_offset %rsp, -16
	pushq $0
	.cfi_adjust_cfa_offset 8
	.endif
	pushq $\vec
	.cfi_adjust_cfa_offset 8
	jmp common_entry
	.cfi_endproc
	.endm

	.altmacro
	.macro STUBS from, to
	STUB %from
	.if \to-\from
	STUBS %(from+1), \to
	.endif
	.endm
	STUBS 0, 47
	.noaltmacro

/*
 * Build struct pt_regs (kernel.h) and call exception_dispatch(regs). The
 * CPU aligned RSP to 16 before pushing its frame (SDM Vol. 3A 6.14.2);
 * 5 or 6 words of frame, error code and vector, 15 registers: 22 words,
 * so RSP is 16-byte aligned again at the call, as the ABI wants.
 */
common_entry:
	/*
	 * CFI so that gdb unwinds from a handler into the interrupted code:
	 * CFA = the address above the CPU's frame (vector, error code, RIP,
	 * CS, RFLAGS, RSP, SS = 7 words); RIP and RSP come from the frame.
	 */
	.cfi_startproc simple
	.cfi_signal_frame
	.cfi_def_cfa %rsp, 56
	.cfi_offset %rip, -40
	.cfi_offset %rsp, -16
	pushq %rdi
	pushq %rsi
	pushq %rdx
	pushq %rcx
	pushq %rax
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	.cfi_adjust_cfa_offset 15*8
	.cfi_rel_offset %r15, 0
	.cfi_rel_offset %r14, 8
	.cfi_rel_offset %r13, 16
	.cfi_rel_offset %r12, 24
	.cfi_rel_offset %rbp, 32
	.cfi_rel_offset %rbx, 40
	.cfi_rel_offset %r11, 48
	.cfi_rel_offset %r10, 56
	.cfi_rel_offset %r9, 64
	.cfi_rel_offset %r8, 72
	.cfi_rel_offset %rax, 80
	.cfi_rel_offset %rcx, 88
	.cfi_rel_offset %rdx, 96
	.cfi_rel_offset %rsi, 104
	.cfi_rel_offset %rdi, 112
	cld
	movq %rsp, %rdi
	call exception_dispatch
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rax
	popq %rcx
	popq %rdx
	popq %rsi
	popq %rdi
	addq $16, %rsp			/* vector and error code */
	iretq
	.cfi_endproc

	.section .rodata
	.p2align 3
	.globl exception_stubs
exception_stubs:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad stub_\v
	.endr
	.globl irq_stubs
irq_stubs:
	.irp v, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	.quad stub_\v
	.endr
	.text

/*
 * void switch_to(struct task_struct *prev, struct task_struct *next)
 *
 * Save the callee-saved registers on prev's stack, store RSP in
 * prev->thread.sp, load next->thread.sp, make next current, pop next's
 * registers and return on next's stack. thread.sp is at offset 0 of
 * task_struct. schedule() calls prepare_switch_to() first; if the next
 * stack is not mapped in the current page tables the first pop faults and
 * the #PF cannot be delivered on that same stack: #DF.
 */
	.p2align 4
	.globl switch_to
	.type switch_to, @function
switch_to:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, 0(%rdi)
	movq 0(%rsi), %rsp
	movq %rsi, current_task(%rip)
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
	.size switch_to, .-switch_to

/*
 * A new task's first switch_to "returns" here (task_create() builds the
 * frame): R12 = function, R13 = its argument.
 */
	.p2align 4
	.globl ret_from_fork
	.type ret_from_fork, @function
ret_from_fork:
	.cfi_startproc
	.cfi_undefined %rip		/* the outermost frame of every task */
	sti
	movq %r13, %rdi
	call *%r12
	call task_exit
	ud2
	.cfi_endproc
	.size ret_from_fork, .-ret_from_fork

/*
 * void irq_overflow_wait(unsigned long sp): run with RSP = sp (a few bytes
 * above the stack bottom) and wait for the timer. The CPU cannot push the
 * interrupt frame: #PF, whose frame cannot be pushed either: #DF.
 */
	.p2align 4
	.globl irq_overflow_wait
	.type irq_overflow_wait, @function
irq_overflow_wait:
	cli
	movq %rdi, %rsp
	sti
1:	hlt
	jmp 1b
	.size irq_overflow_wait, .-irq_overflow_wait

/* The compiler may emit calls to these; string instructions keep them short. */
	.p2align 4
	.globl memset
	.type memset, @function
memset:
	movq %rdi, %r9
	movl %esi, %eax
	movq %rdx, %rcx
	rep stosb
	movq %r9, %rax
	ret
	.size memset, .-memset

	.p2align 4
	.globl memcpy
	.type memcpy, @function
memcpy:
	movq %rdi, %rax
	movq %rdx, %rcx
	rep movsb
	ret
	.size memcpy, .-memcpy
