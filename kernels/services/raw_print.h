/* raw_print.h — text and hex through plat_putc alone, for trap dumps and the
 * bring-up kernel: no printf, no buffers, nothing else of the kernel that may
 * be what broke. Header-only, so code linked without kernels/services can use it. */
#ifndef RAW_PRINT_H
#define RAW_PRINT_H

#include "platform.h"

static inline void raw_puts(const char *s) {
    for (; *s; s++) {
        if (*s == '\n') plat_putc('\r'); /* a terminal wants CR LF, as printf.c sends */
        plat_putc(*s);
    }
}

/* 0x and 16 hex digits. */
static inline void raw_hex(uint64_t v) {
    raw_puts("0x");
    for (int i = 60; i >= 0; i -= 4) plat_putc("0123456789abcdef"[(v >> i) & 15]);
}

#endif
