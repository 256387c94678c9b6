/* start.c — from boot.S to kernel_main: find the DTB and read the board facts. */
#include "board.h"
#include "../fdt/fdt.h"
#include "../services/platform.h"

const char *const plat_arch_name = "aarch64";
struct board board;

/* QEMU puts the DTB at the start of RAM for an ELF kernel (x0 is 0 then), or
 * a loader passes it in x0 as for Linux. Only look at x0 if it points into
 * the RAM window: reading an unmapped address would fault. */
static const void *find_dtb(uint64_t x0) {
    if (x0 >= VIRT_RAM_BASE && x0 < VIRT_RAM_LIMIT && fdt_valid((const void *)x0)) return (const void *)x0;
    if (fdt_valid((const void *)VIRT_RAM_BASE)) return (const void *)VIRT_RAM_BASE;
    return 0;
}

static void read_board(void) {
    board.ram_base = VIRT_RAM_BASE;
    board.ram_size = VIRT_RAM_SIZE;
    board.ecam_base = VIRT_ECAM_BASE;
    board.ecam_size = VIRT_ECAM_SIZE;
    board.have_psci = 1; /* virt without EL2/EL3 firmware: PSCI via hvc */
    if (!board.dtb) return;
    fdt_reg(board.dtb, fdt_node(board.dtb, "memory", 0), &board.ram_base, &board.ram_size);
    fdt_reg(board.dtb, fdt_node(board.dtb, 0, "pci-host-ecam-generic"), &board.ecam_base, &board.ecam_size);
    int psci = fdt_node(board.dtb, "psci", 0);
    const char *method = psci >= 0 ? fdt_prop(board.dtb, psci, "method", 0) : 0;
    board.have_psci = method != 0;
    board.psci_smc = method && method[0] == 's';
}

void arch_start(uint64_t x0) __attribute__((noreturn));
void arch_start(uint64_t x0) {
    uart_init();
    board.dtb = find_dtb(x0);
    read_board();
    timer_init();
    kernel_main();
}
