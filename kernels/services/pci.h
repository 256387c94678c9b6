/* pci.h — PCI enumeration through plat_pci_read32 (any arch). */
#ifndef PCI_H
#define PCI_H

#include <stdint.h>

struct pci_dev {
    uint8_t bus, dev, fn;
    uint16_t vendor, device;
    uint8_t class_code, subclass, prog_if;
};

/* Scans bus 0 and every bus behind a PCI-PCI bridge (up to the bridges'
 * subordinate bus numbers). Returns the number of functions found (at most max). */
int pci_scan(struct pci_dev *out, int max);

/* "Ethernet controller", "Host bridge", ... or "Unclassified device". */
const char *pci_class_name(uint8_t class_code, uint8_t subclass);

#endif
