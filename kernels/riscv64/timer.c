/* timer.c — the `time` CSR (rdtime), ticking at the DTB's timebase-frequency. */
#include "board.h"
#include "../services/platform.h"

static uint64_t start;

static uint64_t counter(void) {
    uint64_t v;
    __asm__ volatile("rdtime %0" : "=r"(v));
    return v;
}

void timer_init(void) {
    start = counter();
}

/* Split so ticks * 1e9 never overflows 64 bits. */
uint64_t plat_time_ns(void) {
    uint64_t t = counter() - start, f = board.timebase;
    return t / f * 1000000000ull + t % f * 1000000000ull / f;
}
