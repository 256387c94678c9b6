/* palloc.h — physical page allocator over the boot memory map.
 *
 * One bitmap (1 bit per 4 KiB page, set = in use) spans the lowest to the
 * highest usable address; holes between regions are marked in use. The bitmap
 * lives in the first region large enough to hold it. Allocations are
 * contiguous runs, first fit; pages are not zeroed (QEMU RAM starts zeroed,
 * callers that reuse memory clear what they need). */
#ifndef PALLOC_H
#define PALLOC_H

#include <stddef.h>
#include <stdint.h>
#include "platform.h"

#define PAGE_SIZE 4096u

void palloc_init(const struct mem_region *regions, int n);
void *palloc_alloc(size_t npages);             /* NULL when no run that long is free */
void palloc_free(void *p, size_t npages);
size_t palloc_total_pages(void);               /* usable pages handed to palloc_init */
size_t palloc_free_pages(void);
size_t palloc_largest_free_run(void);          /* in pages */

#endif
