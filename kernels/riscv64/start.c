/* start.c — from boot.S to kernel_main: read the board facts from the DTB. */
#include "board.h"
#include "../fdt/fdt.h"
#include "../services/platform.h"

const char *const plat_arch_name = "riscv64";
struct board board;

static void read_board(void) {
    board.ram_base = VIRT_RAM_BASE;
    board.ram_size = VIRT_RAM_SIZE;
    board.ecam_base = VIRT_ECAM_BASE;
    board.ecam_size = VIRT_ECAM_SIZE;
    board.timebase = VIRT_TIMEBASE;
    if (!board.dtb) return;
    fdt_reg(board.dtb, fdt_node(board.dtb, "memory", 0), &board.ram_base, &board.ram_size);
    fdt_reg(board.dtb, fdt_node(board.dtb, 0, "pci-host-ecam-generic"), &board.ecam_base, &board.ecam_size);
    uint32_t len;
    int cpus = fdt_node(board.dtb, "cpus", 0);
    const void *tb = cpus >= 0 ? fdt_prop(board.dtb, cpus, "timebase-frequency", &len) : 0;
    if (tb && len == 4 && fdt_cells(tb, 1)) board.timebase = fdt_cells(tb, 1);
}

void arch_start(uint64_t dtb) __attribute__((noreturn));
void arch_start(uint64_t dtb) {
    uart_init();
    board.dtb = fdt_valid((const void *)dtb) ? (const void *)dtb : 0;
    read_board();
    timer_init();
    kernel_main();
}
