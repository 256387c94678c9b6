/* vectors.S — the VBAR_EL1 table: 16 entries of 0x80 bytes. Every entry saves
 * the registers into a frame on the stack and calls trap_report(kind, frame),
 * which prints ESR/ELR/FAR and the registers, then powers off. */

#define FRAME 272   /* x0..x30, sp, elr, spsr: 34 x 8 bytes, 16-aligned */

.macro ventry kind
    .balign 0x80
    sub     sp, sp, #FRAME
    stp     x0, x1, [sp, #0]
    mov     x0, #\kind
    b       trap_save
.endm

.section .text.vectors, "ax"
.balign 0x800
.global exception_vectors
exception_vectors:
    ventry 0    /* current EL, SP_EL0: sync */
    ventry 1    /*                     irq  */
    ventry 2    /*                     fiq  */
    ventry 3    /*                     serror */
    ventry 4    /* current EL, SP_ELx: sync */
    ventry 5
    ventry 6
    ventry 7
    ventry 8    /* lower EL, AArch64 */
    ventry 9
    ventry 10
    ventry 11
    ventry 12   /* lower EL, AArch32 */
    ventry 13
    ventry 14
    ventry 15

trap_save:
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    add     x1, sp, #FRAME          /* the interrupted sp */
    stp     x30, x1, [sp, #240]
    mrs     x1, elr_el1
    mrs     x2, spsr_el1
    stp     x1, x2, [sp, #256]
    mov     x1, sp
    bl      trap_report             /* never returns */
1:  b       1b
