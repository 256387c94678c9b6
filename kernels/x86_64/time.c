/* time.c — plat_time_ns from the TSC, calibrated once against PIT channel 2.
 *
 * The PIT counts at 1.193182 MHz on every PC; we gate channel 2 (port 0x61),
 * let it count down 20 ms in mode 0, and count TSC ticks until its output goes
 * high. ns = ticks * mult >> 32 avoids a 128-bit division at run time. */
#include "arch.h"
#include "io.h"
#include "../services/platform.h"

#define PIT_HZ 1193182u
#define CAL_MS 20u

static uint64_t tsc_boot;
static uint64_t ns_mult; /* (1e9 << 32) / tsc_hz */
uint64_t x86_tsc_hz;

void time_init(void) {
    const uint32_t count = PIT_HZ * CAL_MS / 1000u;
    uint8_t gate = inb(0x61);
    outb(0x61, (gate & ~0x02) | 0x01);   /* speaker off, gate on */
    outb(0x43, 0xB0);                    /* channel 2, lo/hi byte, mode 0, binary */
    outb(0x42, count & 0xFF);
    outb(0x42, count >> 8);
    gate = inb(0x61);
    outb(0x61, gate & ~0x01);            /* gate low then high: (re)start the count */
    outb(0x61, gate | 0x01);
    uint64_t t0 = rdtsc();
    while (!(inb(0x61) & 0x20)) {
    }
    uint64_t t1 = rdtsc();
    uint64_t ticks = t1 - t0;
    if (ticks == 0) ticks = 1;
    x86_tsc_hz = ticks * 1000u / CAL_MS;
    ns_mult = (1000000000ULL << 32) / x86_tsc_hz;
    tsc_boot = t0;
}

/* Nanoseconds since time_init (kernel entry + a few ms). */
uint64_t plat_time_ns(void) {
    uint64_t d = rdtsc() - tsc_boot;
    return (uint64_t)(((unsigned __int128)d * ns_mult) >> 32);
}
