/* bringup_main.c — a stand-in kernel_main that exercises every platform.h
 * function without kernels/common: linked with the aarch64 or the riscv64
 * port's sources by test/kernels/<arch>.test.ts. It lives in a subdirectory so
 * kbuild (which takes kernels/<arch>/*.c) never links it into a real kernel.
 * After one key: 't' stores to 0xdead0000 (the trap dump), anything else powers off. */
#include "../../common/platform.h"

static void puts_(const char *s) {
    for (; *s; s++) {
        if (*s == '\n') plat_putc('\r');
        plat_putc(*s);
    }
}

static void hex(uint64_t v) {
    puts_("0x");
    for (int i = 60; i >= 0; i -= 4) plat_putc("0123456789abcdef"[(v >> i) & 15]);
}

static void dec(uint64_t v) {
    char b[24];
    int n = 0;
    do b[n++] = '0' + v % 10; while (v /= 10);
    while (n) plat_putc(b[--n]);
}

volatile float fa = 1.5f, fb = 2.25f;
volatile uint8_t bytes[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

void kernel_main(void) {
    puts_("bringup: arch ");
    puts_(plat_arch_name);
    puts_("\n");
    uint64_t t0 = plat_time_ns();
    struct mem_region r[8];
    int n = plat_mem_regions(r, 8);
    for (int i = 0; i < n; i++) {
        puts_("mem: "); hex(r[i].base); puts_(" len "); dec(r[i].len >> 20); puts_(" MiB\n");
    }
    for (int dev = 0; dev < 32; dev++) {
        uint32_t id = plat_pci_read32(0, (uint8_t)dev, 0, 0);
        if (id == 0xffffffffu) continue;
        puts_("pci: 00:"); dec(dev); puts_(" "); hex(id); puts_("\n");
    }
    puts_("float: "); dec((uint64_t)(fa * fb * 1000)); puts_("\n");
    uint32_t u = *(volatile uint32_t *)(bytes + 1); /* unaligned load */
    puts_("unaligned: "); hex(u); puts_("\n");
    puts_("model bytes: "); dec((uint64_t)slm_model_size); puts_("\n");
    uint64_t t1 = plat_time_ns();
    puts_("time: "); dec(t1 - t0); puts_(" ns\n");
    puts_("key> ");
    int c = plat_getc();
    puts_("got "); plat_putc((char)c); puts_("\n");
    if (c == 't') *(volatile uint32_t *)0xdead0000ull = 1; /* fault on purpose */
    puts_("poweroff\n");
    plat_poweroff();
}
