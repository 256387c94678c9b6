/* pci.c — brute-force enumeration of every device/function on the reachable buses. */
#include "pci.h"
#include "platform.h"

static int scan_bus(int bus, int *max_bus, struct pci_dev *out, int n, int max) {
    for (int dev = 0; dev < 32; dev++) {
        uint32_t id0 = plat_pci_read32((uint8_t)bus, (uint8_t)dev, 0, 0x00);
        if ((id0 & 0xFFFF) == 0xFFFF) continue;
        uint32_t hdr0 = plat_pci_read32((uint8_t)bus, (uint8_t)dev, 0, 0x0C);
        int nfn = (hdr0 >> 16 & 0x80) ? 8 : 1; /* multi-function bit of header type */
        for (int fn = 0; fn < nfn; fn++) {
            uint32_t id = plat_pci_read32((uint8_t)bus, (uint8_t)dev, (uint8_t)fn, 0x00);
            if ((id & 0xFFFF) == 0xFFFF) continue;
            uint32_t cls = plat_pci_read32((uint8_t)bus, (uint8_t)dev, (uint8_t)fn, 0x08);
            uint32_t hdr = plat_pci_read32((uint8_t)bus, (uint8_t)dev, (uint8_t)fn, 0x0C);
            if (((hdr >> 16) & 0x7F) == 1) { /* PCI-PCI bridge: reach its buses too */
                uint32_t buses = plat_pci_read32((uint8_t)bus, (uint8_t)dev, (uint8_t)fn, 0x18);
                int sub = (buses >> 16) & 0xFF;
                if (sub > *max_bus) *max_bus = sub;
            }
            if (n < max) {
                struct pci_dev *d = &out[n];
                d->bus = (uint8_t)bus, d->dev = (uint8_t)dev, d->fn = (uint8_t)fn;
                d->vendor = id & 0xFFFF, d->device = id >> 16;
                d->class_code = cls >> 24, d->subclass = (cls >> 16) & 0xFF;
                d->prog_if = (cls >> 8) & 0xFF;
            }
            n++;
        }
    }
    return n;
}

int pci_scan(struct pci_dev *out, int max) {
    int n = 0, max_bus = 0;
    for (int bus = 0; bus <= max_bus && bus < 256; bus++) n = scan_bus(bus, &max_bus, out, n, max);
    return n < max ? n : max;
}

struct class_name {
    uint8_t cls, sub; /* sub 0xFF: any subclass */
    const char *name;
};

static const struct class_name names[] = {
    {0x01, 0x01, "IDE interface"},        {0x01, 0x06, "SATA controller"},
    {0x01, 0x08, "Non-Volatile memory controller"}, {0x01, 0xFF, "Mass storage controller"},
    {0x02, 0x00, "Ethernet controller"},  {0x02, 0xFF, "Network controller"},
    {0x03, 0x00, "VGA compatible controller"}, {0x03, 0xFF, "Display controller"},
    {0x04, 0xFF, "Multimedia controller"}, {0x05, 0xFF, "Memory controller"},
    {0x06, 0x00, "Host bridge"},          {0x06, 0x01, "ISA bridge"},
    {0x06, 0x04, "PCI bridge"},           {0x06, 0x80, "Bridge"},
    {0x06, 0xFF, "Bridge"},               {0x07, 0xFF, "Communication controller"},
    {0x08, 0xFF, "System peripheral"},    {0x0C, 0x03, "USB controller"},
    {0x0C, 0x05, "SMBus"},                {0x0C, 0xFF, "Serial bus controller"},
};

const char *pci_class_name(uint8_t cls, uint8_t sub) {
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].cls == cls && (names[i].sub == sub || names[i].sub == 0xFF)) return names[i].name;
    return "Unclassified device";
}
