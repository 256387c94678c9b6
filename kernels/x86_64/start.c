/* start.c — the x86_64 bring-up order, called from boot.S in long mode with
 * paging, SSE and a stack ready. */
#include "arch.h"
#include "../services/platform.h"

const char *const plat_arch_name = "x86_64";

void x86_start(uint32_t magic, uint32_t mbi_phys) __attribute__((noreturn));

void x86_start(uint32_t magic, uint32_t mbi_phys) {
    serial_init();                  /* first, so everything after can print */
    idt_init();                     /* faults now print a dump instead of resetting */
    time_init();
    memmap_init(magic, mbi_phys);   /* copy the map before anything allocates */
    kernel_main();
}
