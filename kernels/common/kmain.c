/* kmain.c — kernel_main: the arch-independent boot sequence.
 *
 * banner → page allocator over plat_mem_regions → embedded model → PCI scan,
 * each device described by the model ("an lspci by language model") → shell. */
#include "kmodel.h"
#include "palloc.h"
#include "pci.h"
#include "platform.h"
#include "printf.h"
#include "shell.h"

#define MAX_REGIONS 32
#define MAX_PCI 64
#define DESCRIBE_TOKENS 20 /* a device name is ~10-15 tokens; the cap bounds boot time */

static void init_memory(void) {
    struct mem_region r[MAX_REGIONS];
    int n = plat_mem_regions(r, MAX_REGIONS);
    uint64_t total = 0;
    for (int i = 0; i < n; i++) total += r[i].len;
    palloc_init(r, n);
    kprintf("mem: %lu KiB usable in %d region%s, %lu pages free\n", total / 1024, n,
            n == 1 ? "" : "s", (unsigned long)palloc_free_pages());
}

/* Prints one line per PCI function; with describe, asks the model for each. */
void kernel_lspci(int describe) {
    static struct pci_dev devs[MAX_PCI];
    int n = pci_scan(devs, MAX_PCI);
    kprintf("PCI: %d device%s\n", n, n == 1 ? "" : "s");
    for (int i = 0; i < n; i++) {
        const struct pci_dev *d = &devs[i];
        kprintf("PCI %02x:%02x.%x %04x:%04x %s", d->bus, d->dev, d->fn, d->vendor, d->device,
                pci_class_name(d->class_code, d->subclass));
        if (describe) {
            char prompt[64], answer[256];
            struct kmodel_stats st;
            ksnprintf(prompt, sizeof prompt, "PCI device %04x:%04x is", d->vendor, d->device);
            if (kmodel_complete(prompt, DESCRIBE_TOKENS, answer, sizeof answer, &st) == 0) {
                char *a = answer;
                while (*a == ' ') a++;
                for (char *p = a; *p; p++) /* keep the boot log one line per device */
                    if ((unsigned char)*p < 0x20 || *p == 0x7F) *p = '?';
                kprintf(" | model: %s", a);
            } else {
                kprintf(" | model error: %s", answer);
            }
        }
        kprintf("\n");
    }
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
