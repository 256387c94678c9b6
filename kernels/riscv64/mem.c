/* mem.c — usable RAM: the DTB /memory range above the kernel image, less the
 * DTB itself if it lies there (OpenSBI/QEMU put it near the top of RAM). */
#include "board.h"
#include "fdt.h"
#include "../common/platform.h"

extern char __kernel_end[];

#define PAGE 4096ull

int plat_mem_regions(struct mem_region *out, int max) {
    uint64_t lo = ((uint64_t)__kernel_end + PAGE - 1) & ~(PAGE - 1);
    uint64_t hi = board.ram_base + board.ram_size;
    uint64_t dlo = 0, dhi = 0;
    if (board.dtb) {
        dlo = (uint64_t)board.dtb & ~(PAGE - 1);
        dhi = ((uint64_t)board.dtb + fdt_size(board.dtb) + PAGE - 1) & ~(PAGE - 1);
    }
    int n = 0;
    if (dhi > lo && dlo < hi) { /* the DTB splits [lo, hi) */
        if (dlo > lo && n < max) out[n].base = lo, out[n].len = dlo - lo, n++;
        lo = dhi;
    }
    if (lo < hi && n < max) out[n].base = lo, out[n].len = hi - lo, n++;
    return n;
}
