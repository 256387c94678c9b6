/* platform.h — the contract between the shared kernel code (kernels/services, and
 * through it kernels/inference) and each arch port.
 *
 * Every arch (kernels/x86_64, kernels/aarch64, kernels/riscv64) implements these
 * functions; the shared code calls only these, so it compiles
 * unchanged for all three. The arch's boot code sets up a stack, enables the FPU
 * (SSE / CPACR_EL1.FPEN / sstatus.FS), installs trap handlers that print a register
 * dump, clears .bss and then calls kernel_main().
 */
#ifndef PLATFORM_H
#define PLATFORM_H

#include <stdint.h>
#include <stddef.h>

/* Name printed in the banner: "x86_64", "aarch64", "riscv64". */
extern const char *const plat_arch_name;

/* Serial console (COM1 16550 / PL011 / NS16550). */
void plat_putc(char c);
int plat_getc(void); /* blocks until a byte arrives; returns 0..255 */

/* Monotonic time since boot in nanoseconds (TSC / CNTVCT_EL0 / rdtime). */
uint64_t plat_time_ns(void);

/* Usable RAM regions from the boot memory map (multiboot / DTB / fixed virt
 * layout), excluding the kernel image itself. Returns the number written. */
struct mem_region {
    uint64_t base;
    uint64_t len;
};
int plat_mem_regions(struct mem_region *out, int max);

/* PCI configuration space read (port 0xCF8/0xCFC on x86, ECAM elsewhere).
 * Returns 0xFFFFFFFF for an absent device. */
uint32_t plat_pci_read32(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off);

/* Power the machine off (QEMU exits). Never returns. */
void plat_poweroff(void) __attribute__((noreturn));

/* The embedded model (objcopy -I binary into section .slm_model). The symbols
 * exist in every kernel; a kernel built without a model links an empty section,
 * so slm_model_size is 0. */
extern const uint8_t slm_model_start[];
extern const uint8_t slm_model_end[];
extern const uint8_t slm_model_size[]; /* absolute symbol: its address is the size */

/* Entry into the shared kernel (services/kmain.c), called by the arch's boot code. */
void kernel_main(void) __attribute__((noreturn));

#endif
