/* mmu.c — an identity map with 1 GiB blocks, so RAM is Normal cacheable
 * memory (unaligned accesses allowed, as compiled C expects) and MMIO is
 * Device memory. With the MMU off every access is Device-nGnRnE and an
 * unaligned load faults.
 *
 * 4 KiB granule, 39-bit VA (T0SZ = 25): the walk starts at level 1, whose 512
 * entries each map 1 GiB. On QEMU virt: [0, 1G) is MMIO (UART, low PCIe
 * window, ECAM), [1G, 256G) is RAM, [256G, 512G) is the high MMIO region with
 * the high PCIe ECAM at 0x4010000000. */
#include <stdint.h>

#define ATTR_DEVICE 0 /* MAIR attr0 = 0x00: Device-nGnRnE */
#define ATTR_NORMAL 1 /* MAIR attr1 = 0xff: Normal, write-back cacheable */

#define BLOCK      (1ull << 0)
#define AF         (1ull << 10)
#define SH_INNER   (3ull << 8)
#define PXN_UXN    (3ull << 53)
#define ATTR(i)    ((uint64_t)(i) << 2)

static uint64_t l1_table[512] __attribute__((aligned(4096)));

void mmu_enable(void) {
    for (uint64_t i = 0; i < 512; i++) {
        uint64_t pa = i << 30;
        int ram = i >= 1 && i < 256;
        l1_table[i] = pa | BLOCK | AF |
                      (ram ? ATTR(ATTR_NORMAL) | SH_INNER : ATTR(ATTR_DEVICE) | PXN_UXN);
    }
    uint64_t mair = 0x00ull | 0xffull << 8;
    uint64_t tcr = 25ull                 /* T0SZ: 39-bit VA */
                 | 1ull << 8 | 1ull << 10 /* IRGN0, ORGN0: write-back walks */
                 | 3ull << 12             /* SH0 inner shareable */
                 | 0ull << 14             /* TG0 4 KiB */
                 | 1ull << 23             /* EPD1: no TTBR1 walks */
                 | 2ull << 32;            /* IPS: 40-bit PA */
    __asm__ volatile(
        "msr mair_el1, %0\n"
        "msr tcr_el1, %1\n"
        "msr ttbr0_el1, %2\n"
        "dsb ish\n"
        "tlbi vmalle1\n"
        "dsb ish\n"
        "isb\n"
        :: "r"(mair), "r"(tcr), "r"(l1_table) : "memory");
    uint64_t sctlr;
    __asm__ volatile("mrs %0, sctlr_el1" : "=r"(sctlr));
    sctlr |= 1u << 0 | 1u << 2 | 1u << 12; /* M, C, I */
    sctlr &= ~(1ull << 1);                /* A: no alignment checks */
    __asm__ volatile("msr sctlr_el1, %0\nisb" :: "r"(sctlr) : "memory");
}
