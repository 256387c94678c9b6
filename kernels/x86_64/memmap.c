/* memmap.c — plat_mem_regions from the multiboot memory map.
 *
 * Copied at boot (before anything allocates) into a static table: usable RAM,
 * page-aligned, above 1 MiB, below 3 GiB (boot.S identity-maps 0..4 GiB, cached
 * up to 3 GiB; QEMU puts RAM beyond that above 4 GiB, which we leave alone), minus the
 * kernel image [__kernel_start, __kernel_end), which includes .bss, the page
 * tables, the boot stack and the embedded model. */
#include "arch.h"
#include "multiboot.h"
#include "../services/platform.h"
#include "../services/printf.h"

#define MAX_REGIONS 32
#define PAGE 4096ull
#define LOW_LIMIT 0x100000ull      /* below 1 MiB: BIOS data, VGA, option ROMs */
#define MAPPED_LIMIT 0xC0000000ull /* boot.S maps 0..4 GiB; 3..4 GiB is uncached MMIO */

static struct mem_region regions[MAX_REGIONS];
static int n_regions;

static void add(uint64_t base, uint64_t end) {
    base = (base + PAGE - 1) & ~(PAGE - 1);
    end &= ~(PAGE - 1);
    if (base < LOW_LIMIT) base = LOW_LIMIT;
    if (end > MAPPED_LIMIT) end = MAPPED_LIMIT;
    if (end <= base || n_regions == MAX_REGIONS) return;
    regions[n_regions].base = base;
    regions[n_regions].len = end - base;
    n_regions++;
}

/* Adds [base, end) minus the kernel image. */
static void add_excluding_kernel(uint64_t base, uint64_t end) {
    uint64_t ks = (uint64_t)__kernel_start, ke = ((uint64_t)__kernel_end + PAGE - 1) & ~(PAGE - 1);
    if (end <= ks || base >= ke) {
        add(base, end);
        return;
    }
    if (base < ks) add(base, ks);
    if (end > ke) add(ke, end);
}

void memmap_init(uint32_t magic, uint32_t mbi_phys) {
    if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
        kprintf("mem: not booted by multiboot (magic 0x%x); assuming 64 MiB of RAM\n", magic);
        add_excluding_kernel(LOW_LIMIT, 64ull << 20);
        return;
    }
    const struct mb_info *mbi = (const struct mb_info *)(uintptr_t)mbi_phys;
    if (mbi->flags & MB_INFO_MMAP) {
        uintptr_t p = mbi->mmap_addr, end = p + mbi->mmap_length;
        while (p < end) {
            const struct mb_mmap_entry *e = (const struct mb_mmap_entry *)p;
            if (e->type == 1) add_excluding_kernel(e->base, e->base + e->len);
            p += e->size + sizeof e->size;
        }
    } else if (mbi->flags & MB_INFO_MEMORY) {
        add_excluding_kernel(LOW_LIMIT, LOW_LIMIT + (uint64_t)mbi->mem_upper * 1024);
    }
}

int plat_mem_regions(struct mem_region *out, int max) {
    int n = n_regions < max ? n_regions : max;
    for (int i = 0; i < n; i++) out[i] = regions[i];
    return n;
}
