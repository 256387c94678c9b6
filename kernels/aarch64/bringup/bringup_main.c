/* bringup_main.c — a stand-in kernel_main that exercises every platform.h
 * function without kernels/services or kernels/inference: linked with the aarch64
 * or the riscv64 port's sources by test/kernels/<arch>.test.ts. It lives in a subdirectory so
 * kbuild (which takes kernels/<arch>/ C files) never links it into a real kernel.
 * After one key: 't' stores to 0xdead0000 (the trap dump), anything else powers off. */
#include "../../services/platform.h"
#include "../../services/raw_print.h"

static void dec(uint64_t v) {
    char b[24];
    int n = 0;
    do b[n++] = '0' + v % 10; while (v /= 10);
    while (n) plat_putc(b[--n]);
}

volatile float fa = 1.5f, fb = 2.25f;
volatile uint8_t bytes[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

void kernel_main(void) {
    raw_puts("bringup: arch ");
    raw_puts(plat_arch_name);
    raw_puts("\n");
    uint64_t t0 = plat_time_ns();
    struct mem_region r[8];
    int n = plat_mem_regions(r, 8);
    for (int i = 0; i < n; i++) {
        raw_puts("mem: "); raw_hex(r[i].base); raw_puts(" len "); dec(r[i].len >> 20); raw_puts(" MiB\n");
    }
    for (int dev = 0; dev < 32; dev++) {
        uint32_t id = plat_pci_read32(0, (uint8_t)dev, 0, 0);
        if (id == 0xffffffffu) continue;
        raw_puts("pci: 00:"); dec(dev); raw_puts(" "); raw_hex(id); raw_puts("\n");
    }
    raw_puts("float: "); dec((uint64_t)(fa * fb * 1000)); raw_puts("\n");
    uint32_t u = *(volatile uint32_t *)(bytes + 1); /* unaligned load */
    raw_puts("unaligned: "); raw_hex(u); raw_puts("\n");
    raw_puts("model bytes: "); dec((uint64_t)slm_model_size); raw_puts("\n");
    uint64_t t1 = plat_time_ns();
    raw_puts("time: "); dec(t1 - t0); raw_puts(" ns\n");
    raw_puts("key> ");
    int c = plat_getc();
    raw_puts("got "); plat_putc((char)c); raw_puts("\n");
    if (c == 't') *(volatile uint32_t *)0xdead0000ull = 1; /* fault on purpose */
    raw_puts("poweroff\n");
    plat_poweroff();
}
