/* board.h — what the riscv64 port learns about the machine at boot. */
#ifndef BOARD_H
#define BOARD_H

#include <stdint.h>

/* QEMU virt's fixed layout; used when the DTB lacks a node. */
#define VIRT_RAM_BASE   0x80000000ull
#define VIRT_RAM_SIZE   (256ull << 20)
#define VIRT_UART_BASE  0x10000000ull
#define VIRT_TEST_BASE  0x00100000ull /* sifive,test0: write 0x5555 to power off */
#define VIRT_ECAM_BASE  0x30000000ull
#define VIRT_ECAM_SIZE  (256ull << 20)
#define VIRT_TIMEBASE   10000000ull   /* rdtime ticks per second */

struct board {
    const void *dtb;     /* NULL if none was found */
    uint64_t ram_base, ram_size;
    uint64_t ecam_base, ecam_size;
    uint64_t timebase;
};
extern struct board board;

void uart_init(void);
void timer_init(void);

#endif
