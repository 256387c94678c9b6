/* serial.c — COM1 16550 UART at 0x3F8, polled (no interrupts). */
#include "arch.h"
#include "io.h"
#include "../services/platform.h"

#define COM1 0x3F8
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20

void serial_init(void) {
    outb(COM1 + 1, 0x00); /* IER: no interrupts */
    outb(COM1 + 3, 0x80); /* LCR: DLAB on to set the divisor */
    outb(COM1 + 0, 0x01); /* divisor 1 = 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03); /* 8 data bits, no parity, 1 stop bit */
    outb(COM1 + 2, 0xC7); /* FIFO on, cleared, 14-byte threshold */
    outb(COM1 + 4, 0x03); /* DTR | RTS */
}

void plat_putc(char c) {
    while (!(inb(COM1 + 5) & LSR_THR_EMPTY)) {
    }
    outb(COM1, (uint8_t)c);
}

int plat_getc(void) {
    while (!(inb(COM1 + 5) & LSR_DATA_READY)) {
        __asm__ volatile("pause");
    }
    return inb(COM1);
}
