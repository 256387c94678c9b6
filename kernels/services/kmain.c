/* kmain.c — kernel_main: the arch-independent boot sequence.
 *
 * banner → page allocator over plat_mem_regions → embedded model → PCI scan,
 * each device described by the model ("an lspci by language model") → shell. */
#include "kmodel.h"
#include "lspci.h"
#include "palloc.h"
#include "platform.h"
#include "printf.h"
#include "shell.h"

#define MAX_REGIONS 32

static void init_memory(void) {
    struct mem_region r[MAX_REGIONS];
    int n = plat_mem_regions(r, MAX_REGIONS);
    uint64_t total = 0;
    for (int i = 0; i < n; i++) total += r[i].len;
    palloc_init(r, n);
    kprintf("mem: %lu KiB usable in %d region%s, %lu pages free\n", total / 1024, n,
            n == 1 ? "" : "s", (unsigned long)palloc_free_pages());
}

void kernel_main(void) {
    kprintf("\nauton kernel (%s): a small language model on bare metal\n", plat_arch_name);
    init_memory();
    int ready = kmodel_init();
    kernel_lspci(ready);
    /* plat_time_ns counts from the arch's timer setup, right after kernel entry */
    kprintf("boot: shell ready %lu ms after kernel entry\n",
            (unsigned long)(plat_time_ns() / 1000000));
    shell_run();
}
