/* trap.c — any trap is fatal here: print what and where, dump the registers,
 * power off (so QEMU exits instead of hanging a test). Prints with plat_putc
 * only: the rest of the kernel may be what broke. */
#include <stdint.h>
#include "../common/platform.h"

struct trap_frame {
    uint64_t x[32];
    uint64_t sepc, sstatus;
};

static const char *const reg_names[32] = {
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
    "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
};

static void puts_(const char *s) {
    for (; *s; s++) {
        if (*s == '\n') plat_putc('\r'); /* a terminal wants CR LF, as printf.c sends */
        plat_putc(*s);
    }
}

static void hex(uint64_t v) {
    puts_("0x");
    for (int i = 60; i >= 0; i -= 4) plat_putc("0123456789abcdef"[(v >> i) & 15]);
}

static const char *cause_name(uint64_t scause) {
    if (scause >> 63) return "interrupt";
    switch (scause) {
    case 0: return "instruction address misaligned";
    case 1: return "instruction access fault";
    case 2: return "illegal instruction";
    case 3: return "breakpoint";
    case 4: return "load address misaligned";
    case 5: return "load access fault";
    case 6: return "store address misaligned";
    case 7: return "store access fault";
    case 8: return "ecall from U-mode";
    case 9: return "ecall from S-mode";
    case 12: return "instruction page fault";
    case 13: return "load page fault";
    case 15: return "store page fault";
    default: return "other";
    }
}

void trap_report(struct trap_frame *f) __attribute__((noreturn));
void trap_report(struct trap_frame *f) {
    uint64_t scause, stval;
    __asm__ volatile("csrr %0, scause" : "=r"(scause));
    __asm__ volatile("csrr %0, stval" : "=r"(stval));
    puts_("\nPANIC: trap: ");
    puts_(cause_name(scause));
    puts_("\n  scause="); hex(scause);
    puts_(" sepc="); hex(f->sepc);
    puts_(" stval="); hex(stval);
    puts_("\n  sstatus="); hex(f->sstatus);
    for (int i = 1; i < 32; i++) {
        puts_(i % 4 == 1 ? "\n  " : " ");
        const char *n = reg_names[i];
        int w = 0;
        while (n[w]) plat_putc(n[w++]);
        while (w++ < 4) plat_putc(' ');
        plat_putc('=');
        hex(f->x[i]);
    }
    puts_("\n");
    plat_poweroff();
}
