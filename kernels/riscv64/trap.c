/* trap.c — any trap is fatal here: print what and where, dump the registers,
 * power off (so QEMU exits instead of hanging a test). Prints with plat_putc
 * only: the rest of the kernel may be what broke. */
#include <stdint.h>
#include "../services/platform.h"
#include "../services/raw_print.h"

struct trap_frame {
    uint64_t x[32];
    uint64_t sepc, sstatus;
};

static const char *const reg_names[32] = {
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
    "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
};

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
    raw_puts("\nPANIC: trap: ");
    raw_puts(cause_name(scause));
    raw_puts("\n  scause="); raw_hex(scause);
    raw_puts(" sepc="); raw_hex(f->sepc);
    raw_puts(" stval="); raw_hex(stval);
    raw_puts("\n  sstatus="); raw_hex(f->sstatus);
    for (int i = 1; i < 32; i++) {
        raw_puts(i % 4 == 1 ? "\n  " : " ");
        const char *n = reg_names[i];
        int w = 0;
        while (n[w]) plat_putc(n[w++]);
        while (w++ < 4) plat_putc(' ');
        plat_putc('=');
        raw_hex(f->x[i]);
    }
    raw_puts("\n");
    plat_poweroff();
}
