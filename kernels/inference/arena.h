/* arena.h — a bump allocator over memory the caller provides.
 *
 * The kernel hands slm_load() pages from its physical allocator, the host hands it
 * malloc'd memory; everything the core allocates (tokenizer tables, activations,
 * KV cache) comes from here and is never freed individually.
 */
#ifndef ARENA_H
#define ARENA_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *base;
    size_t size, used;
} slm_arena;

#define ARENA_ALIGN 64 /* cache line: keeps hot arrays from sharing lines */

static inline size_t arena_round(size_t n) { return (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1); }

/* Returns 64-byte aligned, uninitialized memory, or NULL when the arena is full. */
static inline void *arena_alloc(slm_arena *a, size_t n) {
    size_t start = arena_round((size_t)(uintptr_t)(a->base + a->used)) - (size_t)(uintptr_t)a->base;
    if (start > a->size || arena_round(n) > a->size - start) return NULL;
    a->used = start + arena_round(n);
    return a->base + start;
}

#endif
