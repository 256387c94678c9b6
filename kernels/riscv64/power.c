/* power.c — ask OpenSBI to shut down (SBI SRST, then the legacy call); if
 * neither returns, write the sifive,test0 "pass" code, which QEMU's virt
 * board turns into an exit. */
#include "board.h"
#include "../services/platform.h"

#define SBI_EXT_SRST        0x53525354 /* "SRST" */
#define SBI_SRST_SHUTDOWN   0
#define SBI_LEGACY_SHUTDOWN 0x08
#define TEST_PASS           0x5555

static void sbi_call(uint64_t ext, uint64_t fid, uint64_t arg0, uint64_t arg1) {
    register uint64_t a0 __asm__("a0") = arg0;
    register uint64_t a1 __asm__("a1") = arg1;
    register uint64_t a6 __asm__("a6") = fid;
    register uint64_t a7 __asm__("a7") = ext;
    __asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a6), "r"(a7) : "memory");
}

void plat_poweroff(void) {
    sbi_call(SBI_EXT_SRST, 0, SBI_SRST_SHUTDOWN, 0);
    sbi_call(SBI_LEGACY_SHUTDOWN, 0, 0, 0);
    *(volatile uint32_t *)VIRT_TEST_BASE = TEST_PASS;
    for (;;) __asm__ volatile("wfi");
}
