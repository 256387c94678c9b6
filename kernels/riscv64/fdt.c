/* fdt.c — the DTB reader is arch independent; it lives with the aarch64 port
 * (kernels/aarch64/fdt.c) and is compiled into this one too. */
#include "../aarch64/fdt.c"
