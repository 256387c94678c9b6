/* fdt.h — just enough of a flattened device tree reader for boot.
 *
 * Both aarch64 and riscv64 QEMU virt hand the kernel a DTB; we read a few
 * facts from it (memory size, PCI ECAM base, PSCI conduit, timebase). Arch
 * independent: it would sit in kernels/common if more arches needed it.
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

#endif
