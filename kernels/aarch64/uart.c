/* uart.c — PL011 at 0x09000000 (QEMU virt); QEMU needs no baud setup. */
#include "board.h"
#include "../services/platform.h"

#define UART ((volatile uint32_t *)VIRT_UART_BASE)
#define DR   (0x00 / 4)
#define FR   (0x18 / 4)
#define CR   (0x30 / 4)
#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)
#define CR_UARTEN (1u << 0)
#define CR_TXE (1u << 8)
#define CR_RXE (1u << 9)

/* QEMU resets the PL011 with TX and RX on. Writing LCR_H would toggle FEN,
 * which empties the receive FIFO and loses bytes typed during boot; so only
 * make sure the UART and both directions are enabled. */
void uart_init(void) {
    UART[CR] |= CR_UARTEN | CR_TXE | CR_RXE;
}

void plat_putc(char c) {
    while (UART[FR] & FR_TXFF) {}
    UART[DR] = (uint8_t)c;
}

int plat_getc(void) {
    while (UART[FR] & FR_RXFE) {}
    return (int)(UART[DR] & 0xff);
}
