/* uart.c — NS16550A at 0x10000000 (QEMU virt); byte-wide registers. */
#include "board.h"
#include "../services/platform.h"

#define UART ((volatile uint8_t *)VIRT_UART_BASE)
#define RBR 0 /* receive (read) / THR transmit (write) */
#define IER 1
#define LSR 5
#define LSR_DR   0x01 /* a byte is waiting */
#define LSR_THRE 0x20 /* transmit holding register empty */

/* OpenSBI already set the line up (8N1, FIFOs on). Touching FCR could clear
 * the receive FIFO and lose bytes typed during boot, so only mask interrupts. */
void uart_init(void) {
    UART[IER] = 0;
}

void plat_putc(char c) {
    while (!(UART[LSR] & LSR_THRE)) {}
    UART[RBR] = (uint8_t)c;
}

int plat_getc(void) {
    while (!(UART[LSR] & LSR_DR)) {}
    return UART[RBR];
}
