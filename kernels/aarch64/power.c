/* power.c — PSCI SYSTEM_OFF through the conduit the DTB names (hvc on plain
 * virt, smc when QEMU emulates EL2/EL3). QEMU exits. */
#include "board.h"
#include "../services/platform.h"

#define PSCI_SYSTEM_OFF 0x84000008u

void plat_poweroff(void) {
    if (board.have_psci) {
        register uint64_t x0 __asm__("x0") = PSCI_SYSTEM_OFF;
        if (board.psci_smc)
            __asm__ volatile("smc #0" : "+r"(x0) :: "memory");
        else
            __asm__ volatile("hvc #0" : "+r"(x0) :: "memory");
    }
    for (;;) __asm__ volatile("wfi"); /* no PSCI: halt here */
}
