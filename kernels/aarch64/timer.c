/* timer.c — the generic timer's virtual counter, CNTVCT_EL0, at CNTFRQ_EL0 Hz. */
#include "board.h"
#include "../services/platform.h"

static uint64_t freq, start;

static uint64_t counter(void) {
    uint64_t v;
    __asm__ volatile("isb\nmrs %0, cntvct_el0" : "=r"(v));
    return v;
}

void timer_init(void) {
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(freq));
    if (!freq) freq = 62500000; /* QEMU's default if firmware left it unset */
    start = counter();
}

/* Split so ticks * 1e9 never overflows 64 bits. */
uint64_t plat_time_ns(void) {
    uint64_t t = counter() - start;
    return t / freq * 1000000000ull + t % freq * 1000000000ull / freq;
}
