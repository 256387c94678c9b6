/* boot.S — riscv64 entry: OpenSBI enters here in S-mode with a0 = hart id,
 * a1 = DTB. We set gp and a stack, clear .bss, enable the FPU (sstatus.FS),
 * install the trap vector and call arch_start(dtb). */

.section .text.boot, "ax"
.global _start
_start:
    mv      s0, a1

.option push
.option norelax
    la      gp, __global_pointer$
.option pop
    la      sp, __stack_top

    la      t0, __bss_start     /* .bss is 16-byte aligned in linker.ld */
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    sd      zero, 8(t0)
    addi    t0, t0, 16
    j       1b
2:
    csrw    sie, zero           /* we poll; no interrupts */
    li      t0, (1 << 13)       /* sstatus.FS = Initial: FP instructions allowed */
    csrs    sstatus, t0
    fscsr   zero
    la      t0, trap_entry      /* direct mode: low bits 0 */
    csrw    stvec, t0

    mv      a0, s0
    call    arch_start          /* never returns */
3:  wfi
    j       3b
