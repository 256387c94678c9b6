/* boot.S — aarch64 entry: QEMU virt jumps here (EL1, or EL2 with virtualization=on)
 * with the MMU off. We drop to EL1, set a stack, clear .bss, enable FP/SIMD,
 * install the exception vectors, turn on the identity-mapped MMU (so unaligned
 * accesses and caches behave like normal memory) and call arch_start(dtb). */

.section .text.boot, "ax"
.global _start
_start:
    mov     x19, x0                 /* DTB address, if the loader passed one */

    mrs     x1, mpidr_el1           /* park every CPU but CPU 0 */
    and     x1, x1, #0xff
    cbnz    x1, park

    mrs     x1, CurrentEL
    lsr     x1, x1, #2
    cmp     x1, #2
    b.ne    at_el1

    /* EL2 -> EL1: EL1 runs AArch64, may read the counters, then eret. */
    mov     x1, #(1 << 31)          /* HCR_EL2.RW */
    msr     hcr_el2, x1
    mrs     x1, cnthctl_el2
    orr     x1, x1, #3              /* EL1PCTEN | EL1PCEN */
    msr     cnthctl_el2, x1
    msr     cntvoff_el2, xzr
    ldr     x1, =0x30d00800         /* SCTLR_EL1 RES1 bits, MMU off */
    msr     sctlr_el1, x1
    mov     x1, #0x3c5              /* SPSR: EL1h, DAIF masked */
    msr     spsr_el2, x1
    adr     x1, at_el1
    msr     elr_el2, x1
    eret

at_el1:
    ldr     x1, =__stack_top
    mov     sp, x1

    ldr     x1, =__bss_start        /* .bss is 16-byte aligned in linker.ld */
    ldr     x2, =__bss_end
1:  cmp     x1, x2
    b.hs    2f
    stp     xzr, xzr, [x1], #16
    b       1b
2:
    mov     x1, #(3 << 20)          /* CPACR_EL1.FPEN = 0b11: no FP/SIMD traps */
    msr     cpacr_el1, x1
    ldr     x1, =exception_vectors
    msr     vbar_el1, x1
    isb

    bl      mmu_enable
    mov     x0, x19
    bl      arch_start              /* never returns */

park:
    wfe
    b       park
