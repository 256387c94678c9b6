/* fdt_mem.c — usable RAM on a DTB board: the RAM above the kernel image, less
 * the DTB itself if it lies there. Where the DTB sits depends on the loader
 * (see each port's mem.c), so it may split the range in two. */
#include "fdt.h"
#include "../services/platform.h"

extern char __kernel_end[];

#define PAGE 4096ull

int fdt_mem_regions(const void *fdt, uint64_t ram_end, struct mem_region *out, int max) {
    uint64_t lo = ((uint64_t)__kernel_end + PAGE - 1) & ~(PAGE - 1);
    uint64_t hi = ram_end;
    uint64_t dlo = 0, dhi = 0;
    if (fdt) {
        dlo = (uint64_t)fdt & ~(PAGE - 1);
        dhi = ((uint64_t)fdt + fdt_size(fdt) + PAGE - 1) & ~(PAGE - 1);
    }
    int n = 0;
    if (dhi > lo && dlo < hi) { /* the DTB splits [lo, hi) */
        if (dlo > lo && n < max) out[n].base = lo, out[n].len = dlo - lo, n++;
        lo = dhi;
    }
    if (lo < hi && n < max) out[n].base = lo, out[n].len = hi - lo, n++;
    return n;
}
