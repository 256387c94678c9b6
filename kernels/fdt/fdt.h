/* fdt.h — just enough of a flattened device tree reader for boot.
 *
 * Both aarch64 and riscv64 QEMU virt hand the kernel a DTB; we read a few
 * facts from it (memory size, PCI ECAM base, PSCI conduit, timebase). Arch
 * independent, but only the DTB ports compile kernels/fdt (their build.ts
 * lists it; x86_64 has no DTB).
 */
#ifndef FDT_H
#define FDT_H

#include <stdint.h>

/* 1 if p points at a DTB header (magic 0xd00dfeed). */
int fdt_valid(const void *fdt);

/* Size in bytes of the whole blob (header totalsize). */
uint32_t fdt_size(const void *fdt);

/* Offset of the first node whose name (unit address ignored) equals `name`,
 * or, when name is NULL, whose "compatible" list contains `compat`.
 * Returns -1 when there is none. */
int fdt_node(const void *fdt, const char *name, const char *compat);

/* A property of the node at `node` (not of its children); NULL if absent. */
const void *fdt_prop(const void *fdt, int node, const char *prop, uint32_t *len);

/* Big-endian value of `cells` 32-bit cells (1 or 2) at p. */
uint64_t fdt_cells(const void *p, int cells);

/* reg = <addr(2 cells) size(2 cells)> of the node at `node` (as under virt's
 * root and /soc, where #address-cells = #size-cells = 2). 0 if node < 0 or it
 * has no such reg; then *base and *size are left as they were. */
int fdt_reg(const void *fdt, int node, uint64_t *base, uint64_t *size);

struct mem_region;

/* Usable RAM: from the end of the kernel image (__kernel_end) to ram_end, less
 * the DTB itself (if any) where it lies inside. Fills at most `max` regions
 * and returns how many; the body of plat_mem_regions on a DTB board. */
int fdt_mem_regions(const void *fdt, uint64_t ram_end, struct mem_region *out, int max);

#endif
