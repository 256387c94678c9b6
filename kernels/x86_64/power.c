/* power.c — power off under QEMU.
 *
 * Tries, in order: ACPI PM1a_CNT with SLP_EN at 0x604 (what SeaBIOS programs for
 * QEMU's pc and q35 machines), the old Bochs/QEMU port 0xB004, and finally
 * isa-debug-exit at 0xF4 (`-device isa-debug-exit,iobase=0xf4,iosize=0x04`,
 * QEMU exits with status 1). If none exists, halt.
 *
 * QEMU handles an ACPI shutdown request asynchronously while the CPU keeps
 * running, so wait a little after each try; isa-debug-exit, by contrast, exits
 * at once and would otherwise win the race with status 1. */
#include "io.h"
#include "../services/platform.h"

static void wait_ms(uint64_t ms) {
    uint64_t until = plat_time_ns() + ms * 1000000ull;
    while (plat_time_ns() < until) __asm__ volatile("pause");
}

void plat_poweroff(void) {
    outw(0x604, 0x2000); /* PM1a_CNT: SLP_EN, SLP_TYP 0 (S5 on QEMU) */
    wait_ms(200);
    outw(0xB004, 0x2000);
    wait_ms(200);
    outb(0xF4, 0x00);
    halt_forever();
}
