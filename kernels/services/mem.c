/* mem.c — memcpy/memset/memmove/memcmp for the freestanding kernel.
 * The compiler also emits calls to these for struct copies and zeroing, so they
 * must exist even when no code calls them by name. Built with
 * -fno-tree-loop-distribute-patterns so GCC does not turn these loops back into
 * calls to themselves. */
#include <stdint.h>
#include "klib.h"

typedef uint64_t __attribute__((may_alias)) word_t; /* word access to any object */

void *memcpy(void *dst, const void *src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    /* word copies when both are aligned: the model loader copies a lot */
    if ((((uintptr_t)d | (uintptr_t)s) & 7) == 0) {
        for (; n >= 8; n -= 8, d += 8, s += 8) *(word_t *)d = *(const word_t *)s;
    }
    while (n--) *d++ = *s++;
    return dst;
}

void *memset(void *dst, int c, size_t n) {
    uint8_t *d = dst;
    if (((uintptr_t)d & 7) == 0) {
        uint64_t w = (uint8_t)c * 0x0101010101010101ull;
        for (; n >= 8; n -= 8, d += 8) *(word_t *)d = w;
    }
    while (n--) *d++ = (uint8_t)c;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d == s || n == 0) return dst;
    if (d < s || d >= s + n) return memcpy(dst, src, n);
    while (n--) d[n] = s[n]; /* overlapping with dst after src: copy backwards */
    return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}
