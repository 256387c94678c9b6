/* mem.c — usable RAM: the DTB /memory range above the kernel image, less the
 * DTB itself if it lies there (QEMU puts it at the start of RAM, below the
 * image, for an ELF kernel; a loader passing x0 may put it anywhere). */
#include "board.h"
#include "../fdt/fdt.h"
#include "../services/platform.h"

int plat_mem_regions(struct mem_region *out, int max) {
    return fdt_mem_regions(board.dtb, board.ram_base + board.ram_size, out, max);
}
