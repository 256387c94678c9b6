/* boot.S — multiboot 1 entry, 32-bit → long mode, then x86_start() in C.
 *
 * QEMU's `-kernel` loads a 64-bit ELF through multiboot only when the header
 * sets the a.out kludge (flag bit 16): it then copies the file bytes
 * [load_addr, load_end_addr) from the header's own file offset and zeroes bss,
 * ignoring the ELF headers. The linker script keeps the image contiguous.
 *
 * Entry state (multiboot 1): 32-bit protected mode, paging off, interrupts
 * off, EAX = 0x2BADB002, EBX = physical address of the multiboot info.
 */

#define MB_MAGIC  0x1BADB002
#define MB_FLAGS  ((1 << 1) | (1 << 16)) /* memory map wanted; a.out kludge addresses valid */
#define COM1      0x3F8

    .section .multiboot, "a"
    .align 4
mb_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
    .long mb_header        /* header_addr */
    .long __kernel_start   /* load_addr */
    .long __load_end       /* load_end_addr: end of the file-backed part */
    .long __bss_end        /* bss_end_addr: QEMU zeroes up to here */
    .long _start           /* entry_addr */

    .section .data
    .align 8
    .globl mb_magic, mb_info
mb_magic: .long 0
mb_info:  .long 0

/* GDT: null, 64-bit code (0x08), data (0x10), TSS (0x18, 16 bytes; filled by idt.c). */
    .align 16
    .globl gdt64
gdt64:
    .quad 0
    .quad 0x00AF9A000000FFFF
    .quad 0x00CF92000000FFFF
    .quad 0, 0
gdt64_end:
gdt64_ptr:
    .word gdt64_end - gdt64 - 1
    .quad gdt64

    .section .bss
    .align 4096
pml4:   .skip 4096
pdpt:   .skip 4096
pd:     .skip 4096 * 4          /* 4 page directories x 512 x 2 MiB = first 4 GiB */
    .align 16
    .globl boot_stack_top
boot_stack: .skip 256 * 1024     /* the inference core keeps 4 KiB token buffers on the stack */
boot_stack_top:

    .section .text
    .code32
    .globl _start
_start:
    cli
    cld
    movl %eax, mb_magic
    movl %ebx, mb_info
    movl $boot_stack_top, %esp

    /* Zero .bss (QEMU does too, but other loaders may not). mb_* live in .data. */
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb

    /* Long mode available? (CPUID 0x80000001 EDX bit 29) */
    movl $0x80000000, %eax
    cpuid
    cmpl $0x80000001, %eax
    jb no_long_mode
    movl $0x80000001, %eax
    cpuid
    testl $(1 << 29), %edx
    jz no_long_mode

    /* Identity-map 0..4 GiB with 2 MiB pages, write-back cached (RAM speed
     * matters: the model is read in place). 3..4 GiB is MMIO: uncached. */
    movl $pdpt, %eax
    orl $3, %eax
    movl %eax, pml4
    movl $pd, %eax
    orl $3, %eax
    movl $pdpt, %edi
    movl $4, %ecx
1:  movl %eax, (%edi)
    addl $4096, %eax
    addl $8, %edi
    loop 1b

    movl $pd, %edi
    xorl %ebx, %ebx                  /* ebx = 2 MiB page index 0..2047 */
2:  movl %ebx, %eax
    shll $21, %eax
    orl $0x83, %eax                  /* present | writable | 2 MiB page */
    cmpl $1536, %ebx
    jb 3f
    orl $0x18, %eax                  /* PWT | PCD above 3 GiB */
3:  movl %eax, (%edi)
    addl $8, %edi
    incl %ebx
    cmpl $2048, %ebx
    jb 2b

    movl $pml4, %eax
    movl %eax, %cr3

    /* CR4: PAE (5), OSFXSR (9), OSXMMEXCPT (10) — SSE usable before any C code. */
    movl %cr4, %eax
    orl $((1 << 5) | (1 << 9) | (1 << 10)), %eax
    movl %eax, %cr4

    /* EFER.LME */
    movl $0xC0000080, %ecx
    rdmsr
    orl $(1 << 8), %eax
    wrmsr

    /* CR0: PG | MP | PE, EM off (x87/SSE instructions execute, no #NM emulation). */
    movl %cr0, %eax
    andl $~(1 << 2), %eax
    orl $((1 << 31) | (1 << 1) | 1), %eax
    movl %eax, %cr0

    lgdt gdt64_ptr
    ljmp $0x08, $long_mode_entry

no_long_mode:
    movl $msg_no_lm, %esi
4:  lodsb
    testb %al, %al
    jz 6f
    movw $(COM1 + 5), %dx
    movb %al, %ah
5:  inb %dx, %al
    testb $0x20, %al
    jz 5b
    movw $COM1, %dx
    movb %ah, %al
    outb %al, %dx
    jmp 4b
6:  hlt
    jmp 6b

    .code64
long_mode_entry:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movq $boot_stack_top, %rsp
    fninit                           /* x87 state clean; MXCSR is 0x1F80 (all masked) from reset */
    movl mb_magic, %edi
    movl mb_info, %esi
    call x86_start                   /* never returns */
7:  cli
    hlt
    jmp 7b

    .section .rodata
msg_no_lm: .asciz "auton: this CPU has no long mode (64-bit); cannot boot\r\n"

    .section .note.GNU-stack, "", @progbits
