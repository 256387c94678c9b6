/* start.c — from boot.S to kernel_main: read the board facts from the DTB. */
#include "board.h"
#include "fdt.h"
#include "../common/platform.h"

const char *const plat_arch_name = "riscv64";
struct board board;

/* reg = <addr(2 cells) size(2 cells)>: virt's root and /soc use #address-cells = 2, #size-cells = 2. */
static int read_reg(int node, uint64_t *base, uint64_t *size) {
    uint32_t len;
    const uint8_t *reg = node >= 0 ? fdt_prop(board.dtb, node, "reg", &len) : 0;
    if (!reg || len < 16) return 0;
    *base = fdt_cells(reg, 2);
    *size = fdt_cells(reg + 8, 2);
    return 1;
}

static void read_board(void) {
    board.ram_base = VIRT_RAM_BASE;
    board.ram_size = VIRT_RAM_SIZE;
    board.ecam_base = VIRT_ECAM_BASE;
    board.ecam_size = VIRT_ECAM_SIZE;
    board.timebase = VIRT_TIMEBASE;
    if (!board.dtb) return;
    read_reg(fdt_node(board.dtb, "memory", 0), &board.ram_base, &board.ram_size);
    read_reg(fdt_node(board.dtb, 0, "pci-host-ecam-generic"), &board.ecam_base, &board.ecam_size);
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
