/* idt.c — IDT for CPU exceptions 0..31: each prints a register dump and stops
 * the machine instead of triple-faulting (which would silently reset QEMU).
 * A TSS gives the double fault its own stack (IST1) so a kernel stack overflow
 * still produces a dump. */
#include <stdint.h>
#include "arch.h"
#include "io.h"
#include "../services/printf.h"

struct trap_frame { /* layout pushed by isr.S, lowest address first */
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

struct idt_entry {
    uint16_t off_lo, selector;
    uint8_t ist, type_attr;
    uint16_t off_mid;
    uint32_t off_hi, zero;
} __attribute__((packed));

struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3, iomap_base;
} __attribute__((packed));

extern const uint64_t isr_table[32];
extern uint64_t gdt64[];

static struct idt_entry idt[32] __attribute__((aligned(16)));
static struct tss tss __attribute__((aligned(16)));
static uint8_t df_stack[16384] __attribute__((aligned(16)));

static const char *const exc_names[32] = {
    "Divide error", "Debug", "NMI", "Breakpoint", "Overflow", "BOUND range exceeded",
    "Invalid opcode", "Device not available", "Double fault", "Coprocessor segment overrun",
    "Invalid TSS", "Segment not present", "Stack-segment fault", "General protection fault",
    "Page fault", "Reserved", "x87 floating-point exception", "Alignment check",
    "Machine check", "SIMD floating-point exception", "Virtualization exception",
    "Control protection exception", "Reserved", "Reserved", "Reserved", "Reserved", "Reserved",
    "Reserved", "Hypervisor injection", "VMM communication", "Security exception", "Reserved",
};

static void load_tss(void) {
    uint64_t base = (uint64_t)&tss;
    uint64_t limit = sizeof tss - 1;
    tss.ist[0] = (uint64_t)(df_stack + sizeof df_stack);
    tss.iomap_base = sizeof tss;
    /* 64-bit available TSS descriptor (type 9, present) spans gdt64[3..4]. */
    gdt64[3] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ULL << 40) |
               (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
    gdt64[4] = base >> 32;
    __asm__ volatile("ltr %w0" ::"r"(0x18));
}

void idt_init(void) {
    load_tss();
    for (int i = 0; i < 32; i++) {
        uint64_t h = isr_table[i];
        idt[i].off_lo = h & 0xFFFF;
        idt[i].selector = 0x08;
        idt[i].ist = (i == 8) ? 1 : 0;
        idt[i].type_attr = 0x8E; /* present, ring 0, 64-bit interrupt gate */
        idt[i].off_mid = (h >> 16) & 0xFFFF;
        idt[i].off_hi = h >> 32;
        idt[i].zero = 0;
    }
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr = {
        sizeof idt - 1, (uint64_t)idt};
    __asm__ volatile("lidt %0" ::"m"(idtr));
}

void x86_exception(struct trap_frame *f) {
    uint64_t cr0, cr2, cr3, cr4;
    __asm__ volatile("mov %%cr0, %0; mov %%cr2, %1; mov %%cr3, %2; mov %%cr4, %3"
                     : "=r"(cr0), "=r"(cr2), "=r"(cr3), "=r"(cr4));
    kprintf("\n*** EXCEPTION %lu: %s (error code 0x%lx) at RIP=0x%016lx ***\n", f->vector,
            exc_names[f->vector & 31], f->error, f->rip);
    kprintf("RAX=%016lx RBX=%016lx RCX=%016lx RDX=%016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
    kprintf("RSI=%016lx RDI=%016lx RBP=%016lx RSP=%016lx\n", f->rsi, f->rdi, f->rbp, f->rsp);
    kprintf("R8 =%016lx R9 =%016lx R10=%016lx R11=%016lx\n", f->r8, f->r9, f->r10, f->r11);
    kprintf("R12=%016lx R13=%016lx R14=%016lx R15=%016lx\n", f->r12, f->r13, f->r14, f->r15);
    kprintf("CS=%04lx SS=%04lx RFLAGS=%016lx\n", f->cs, f->ss, f->rflags);
    kprintf("CR0=%016lx CR2=%016lx CR3=%016lx CR4=%016lx\n", cr0, cr2, cr3, cr4);
    kprintf("System halted (look up RIP with: addr2line -e kernel.elf 0x%lx)\n", f->rip);
    /* isa-debug-exit, if present, ends QEMU with status (0x10<<1)|1 = 33 so a test
     * sees the crash at once; otherwise stay halted for a debugger. */
    outb(0xF4, 0x10);
    halt_forever();
}
