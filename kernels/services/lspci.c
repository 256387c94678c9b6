/* lspci.c — kernel_lspci: the PCI scan printed one line per function, each device
 * optionally described by the model (see lspci.h). */
#include "lspci.h"
#include "kmodel.h"
#include "pci.h"
#include "printf.h"

#define MAX_PCI 64
#define DESCRIBE_TOKENS 20 /* a device name is ~10-15 tokens; the cap bounds boot time */

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
