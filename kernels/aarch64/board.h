/* board.h — what the aarch64 port learns about the machine at boot. */
#ifndef BOARD_H
#define BOARD_H

#include <stdint.h>

/* QEMU virt's fixed layout; used when the DTB lacks a node. */
#define VIRT_RAM_BASE   0x40000000ull
#define VIRT_RAM_SIZE   (256ull << 20)
#define VIRT_RAM_LIMIT  0x4000000000ull /* RAM may reach 256 GiB (mmu.c maps it Normal) */
#define VIRT_UART_BASE  0x09000000ull
#define VIRT_ECAM_BASE  0x4010000000ull /* high ECAM (highmem=on, the default) */
#define VIRT_ECAM_SIZE  (256ull << 20)

struct board {
    const void *dtb;     /* NULL if none was found */
    uint64_t ram_base, ram_size;
    uint64_t ecam_base, ecam_size;
    int psci_smc;        /* PSCI conduit: 1 = smc, 0 = hvc */
    int have_psci;
};
extern struct board board;

void uart_init(void);
void timer_init(void);

#endif
