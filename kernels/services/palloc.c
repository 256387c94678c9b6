/* palloc.c — bitmap page allocator (see palloc.h for the design). */
#include "palloc.h"
#include "klib.h"

static uint8_t *bitmap;
static uint64_t base_addr; /* address of page 0 in the bitmap */
static size_t npages_span, total_pages, free_pages, hint;

static int used(size_t i) { return bitmap[i >> 3] >> (i & 7) & 1; }
static void set_used(size_t i) { bitmap[i >> 3] |= (uint8_t)(1u << (i & 7)); }
static void set_free(size_t i) { bitmap[i >> 3] &= (uint8_t)~(1u << (i & 7)); }

void palloc_init(const struct mem_region *r, int n) {
    if (n <= 0) return;
    uint64_t lo = r[0].base, hi = r[0].base + r[0].len;
    for (int i = 1; i < n; i++) {
        if (r[i].base < lo) lo = r[i].base;
        if (r[i].base + r[i].len > hi) hi = r[i].base + r[i].len;
    }
    base_addr = lo & ~(uint64_t)(PAGE_SIZE - 1);
    npages_span = (size_t)((hi - base_addr) / PAGE_SIZE);
    size_t bytes = (npages_span + 7) / 8;
    size_t bm_pages = (bytes + PAGE_SIZE - 1) / PAGE_SIZE;

    int home = -1;
    for (int i = 0; i < n && home < 0; i++)
        if (r[i].len >= (uint64_t)bm_pages * PAGE_SIZE) home = i;
    if (home < 0) return; /* no region can hold the bitmap: allocator stays empty */
    bitmap = (uint8_t *)(uintptr_t)r[home].base;
    memset(bitmap, 0xFF, bytes); /* everything in use until a region says otherwise */

    for (int i = 0; i < n; i++) {
        size_t first = (size_t)((r[i].base - base_addr + PAGE_SIZE - 1) / PAGE_SIZE);
        size_t last = (size_t)((r[i].base + r[i].len - base_addr) / PAGE_SIZE);
        for (size_t p = first; p < last; p++) set_free(p), total_pages++;
    }
    size_t bm_first = (size_t)(((uint64_t)(uintptr_t)bitmap - base_addr) / PAGE_SIZE);
    for (size_t p = bm_first; p < bm_first + bm_pages; p++) set_used(p);
    free_pages = total_pages - bm_pages;
}

void *palloc_alloc(size_t count) {
    if (count == 0 || count > free_pages) return 0;
    for (int pass = 0; pass < 2; pass++) { /* from the hint, then from the start */
        size_t run = 0;
        for (size_t i = pass ? 0 : hint; i < npages_span; i++) {
            run = used(i) ? 0 : run + 1;
            if (run == count) {
                size_t first = i + 1 - count;
                for (size_t p = first; p <= i; p++) set_used(p);
                free_pages -= count;
                hint = i + 1;
                return (void *)(uintptr_t)(base_addr + (uint64_t)first * PAGE_SIZE);
            }
        }
    }
    return 0;
}

void palloc_free(void *ptr, size_t count) {
    uint64_t a = (uint64_t)(uintptr_t)ptr;
    if (!ptr || a < base_addr) return;
    size_t first = (size_t)((a - base_addr) / PAGE_SIZE);
    for (size_t p = first; p < first + count && p < npages_span; p++) {
        if (used(p)) set_free(p), free_pages++;
    }
    if (first < hint) hint = first;
}

size_t palloc_total_pages(void) { return total_pages; }
size_t palloc_free_pages(void) { return free_pages; }

size_t palloc_largest_free_run(void) {
    size_t best = 0, run = 0;
    for (size_t i = 0; i < npages_span; i++) {
        run = used(i) ? 0 : run + 1;
        if (run > best) best = run;
    }
    return best;
}
