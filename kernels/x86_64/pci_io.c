/* pci_io.c — PCI configuration space through the legacy ports 0xCF8/0xCFC. */
#include "io.h"
#include "../services/platform.h"

uint32_t plat_pci_read32(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off) {
    uint32_t addr = 0x80000000u | ((uint32_t)bus << 16) | ((uint32_t)(dev & 31) << 11) |
                    ((uint32_t)(fn & 7) << 8) | (off & 0xFC);
    outl(0xCF8, addr);
    return inl(0xCFC);
}
