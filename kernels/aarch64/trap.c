/* trap.c — any exception is fatal here: print what and where, dump the
 * registers, power off (so QEMU exits instead of hanging a test). Prints with
 * plat_putc only: the rest of the kernel may be what broke. */
#include <stdint.h>
#include "../services/platform.h"
#include "../services/raw_print.h"

struct trap_frame {
    uint64_t x[31];
    uint64_t sp, elr, spsr;
};

/* "x0 =" / "x10=": register names padded to one width. */
static void regname(char prefix, int v) {
    plat_putc(prefix);
    if (v >= 10) plat_putc('0' + v / 10);
    plat_putc('0' + v % 10);
    raw_puts(v >= 10 ? "=" : " =");
}

static const char *kind_name(int kind) {
    static const char *const where[4] = {"EL1 with SP_EL0", "EL1", "EL0 AArch64", "EL0 AArch32"};
    static const char *const what[4] = {"synchronous", "IRQ", "FIQ", "SError"};
    static char buf[64];
    char *p = buf;
    for (const char *s = what[kind & 3]; *s;) *p++ = *s++;
    for (const char *s = " from "; *s;) *p++ = *s++;
    for (const char *s = where[kind >> 2]; *s;) *p++ = *s++;
    *p = 0;
    return buf;
}

static const char *class_name(uint32_t ec) {
    switch (ec) {
    case 0x00: return "unknown instruction";
    case 0x07: return "FP/SIMD access trapped";
    case 0x15: return "SVC";
    case 0x20: case 0x21: return "instruction abort";
    case 0x22: return "PC alignment fault";
    case 0x24: case 0x25: return "data abort";
    case 0x26: return "SP alignment fault";
    case 0x3c: return "BRK";
    default: return "other";
    }
}

void trap_report(int kind, struct trap_frame *f) __attribute__((noreturn));
void trap_report(int kind, struct trap_frame *f) {
    uint64_t esr, far;
    __asm__ volatile("mrs %0, esr_el1" : "=r"(esr));
    __asm__ volatile("mrs %0, far_el1" : "=r"(far));
    raw_puts("\nPANIC: ");
    raw_puts(kind_name(kind));
    raw_puts(" exception: ");
    raw_puts(class_name((uint32_t)(esr >> 26) & 0x3f));
    raw_puts("\n  ESR="); raw_hex(esr);
    raw_puts(" ELR="); raw_hex(f->elr);
    raw_puts(" FAR="); raw_hex(far);
    raw_puts("\n  SPSR="); raw_hex(f->spsr);
    raw_puts(" SP="); raw_hex(f->sp);
    for (int i = 0; i < 31; i++) {
        raw_puts(i % 4 == 0 ? "\n  " : " ");
        regname('x', i); raw_hex(f->x[i]);
    }
    raw_puts("\n");
    plat_poweroff();
}
