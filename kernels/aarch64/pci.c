/* pci.c — configuration space through ECAM (base from the DTB's
 * pci-host-ecam-generic node): 1 MiB per bus, 32 KiB per device, 4 KiB per function. */
#include "board.h"
#include "../services/platform.h"

uint32_t plat_pci_read32(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off) {
    uint64_t addr = (uint64_t)bus << 20 | (uint64_t)(dev & 31) << 15 | (uint64_t)(fn & 7) << 12 | (off & 0xfc);
    if (addr >= board.ecam_size) return 0xffffffffu;
    return *(volatile uint32_t *)(board.ecam_base + addr);
}
