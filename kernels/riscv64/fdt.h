/* fdt.h — see kernels/aarch64/fdt.h (shared DTB reader). */
#include "../aarch64/fdt.h"
