/*
 * CFI in the forms gas and gcc write, for TestToolchainCFIMatchesReadelf:
 * built with gcc into a static executable, once as is (.eh_frame: "zR",
 * "zPLR" with C++'s indirect personality, "zRS") and once with
 * ".cfi_sections .debug_frame" prepended; every row is compared with
 * readelf's. The code never runs.
 */
	.text
	.globl _start
	.type _start, @function
_start:
	.cfi_startproc
	.cfi_undefined rip
	call f1
	call f2
	call f3
	call sig
	hlt
	.cfi_endproc
	.size _start, .-_start

	.type f1, @function
f1:
	.cfi_startproc
	.cfi_personality 0x9b, DW.ref.pers
	.cfi_lsda 0x1b, lsda
	pushq %rbp
	.cfi_def_cfa_offset 16
	.cfi_offset rbp, -16
	movq %rsp, %rbp
	.cfi_def_cfa_register rbp
	pushq %rbx
	.cfi_rel_offset rbx, -8
	nop
	.cfi_remember_state
	popq %rbx
	.cfi_restore rbx
	popq %rbp
	.cfi_def_cfa rsp, 8
	ret
	.cfi_restore_state
	nop
	ret
	.cfi_endproc
	.size f1, .-f1

	.type f2, @function
f2:
	.cfi_startproc
	movq %rbp, %r12
	.cfi_register r15, r12
	.cfi_same_value rbx
	.cfi_val_offset r13, -24
	.cfi_undefined r14
	/* gcc's DRAP: CFA = *(rbp - 8) (def_cfa_expression), rbp saved at
	 * rbp+0 (expression), then rbx = rsp+8 (val_expression) */
	.cfi_escape 0x0f, 0x03, 0x76, 0x78, 0x06
	.cfi_escape 0x10, 0x06, 0x02, 0x76, 0x00
	nop
	.cfi_escape 0x16, 0x03, 0x02, 0x77, 0x08
	nop
	.cfi_def_cfa rsp, 8
	.cfi_restore rbp
	ret
	.cfi_endproc
	.size f2, .-f2

	.type f3, @function
f3:
	.cfi_startproc
	subq $0x1000, %rsp
	.cfi_adjust_cfa_offset 0x1000
	.skip 300, 0x90		/* advance_loc2 */
	.cfi_adjust_cfa_offset 8
	.skip 70000, 0x90	/* advance_loc4 */
	.cfi_adjust_cfa_offset -8
	addq $0x1000, %rsp
	.cfi_adjust_cfa_offset -0x1000
	ret
	.cfi_endproc
	.size f3, .-f3

	.type sig, @function
sig:
	.cfi_startproc simple
	.cfi_signal_frame
	.cfi_def_cfa rsp, 48
	.cfi_offset rip, -40
	.cfi_offset rsp, -16
	pushq $0
	.cfi_adjust_cfa_offset 8
	iretq
	.cfi_endproc
	.size sig, .-sig

pers:	ret
	.section .data
	.p2align 3
DW.ref.pers: .quad pers
lsda: .quad 0
