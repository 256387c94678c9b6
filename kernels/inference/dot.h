/* dot.h — the dot products of the forward pass's matvecs (F32, Q8_0, Q4_0 weights),
 * with one portable C reference and SIMD paths: SSE2 (x86_64), NEON (aarch64), and on
 * a hosted x86_64 build AVX2 and AVX-512 VNNI, picked at run time by CPU detection.
 *
 * Invariant: every path returns the same float, bit for bit, as the portable one, so a
 * kernel (SSE2 / NEON / portable) answers exactly as the host (AVX-512 / AVX2) does.
 * That holds because the order of float operations is part of the definition:
 *
 *   Q8_0 / Q4_0 (blocks of 32; w = weight values, x = activation values, both integers):
 *     lane k (0..7) of block b:  s = sum of w[j] * x[j] for j = 4k .. 4k+3  (int32, exact)
 *     acc[8 * (b & 1) + k] += (float)s * (d_w[b] * d_x[b])   (multiply, then add; no FMA)
 *   F32 (n a multiple of 32 here; a remainder is added one by one at the end):
 *     acc[i mod 32] += w[i] * x[i], then acc[k] += acc[k + 16] for k < 16
 *   both then reduce 16 accumulators as  acc[k] += acc[k + 8] (k < 8),
 *     acc[k] += acc[k + 4] (k < 4),  result = (acc[0] + acc[2]) + (acc[1] + acc[3]).
 *
 * Integer sums are exact in any order, so each path may form s however suits its
 * instructions (maddubs, dpbusd, pmaddwd, vmull + pairwise adds). The float part is
 * lane-wise, which every SIMD width expresses: 16 accumulators are one zmm, two ymm,
 * four xmm or four NEON q registers. (The kernels and slm-run are built with
 * -ffp-contract=off, so the compiler fuses nothing either.)
 */
#ifndef DOT_H
#define DOT_H

#include <stdint.h>
#include <stddef.h>

#define QK 32 /* elements per Q8_0/Q4_0 block */

/* An activation vector quantized to Q8_0, as the quantized dots read it. */
typedef struct {
    const int8_t *q;   /* n values in [-127, 127] */
    const float *d;    /* n/32 block scales (already fp16-rounded) */
    const int32_t *s4; /* n/4 sums of 4 consecutive values (for Q4_0's +8 offset) */
} q8_act;

typedef struct {
    const char *name; /* "portable", "sse2", "neon", "avx2", "avx512vnni" */
    float (*f32)(const float *w, const float *x, int n);
    /* w: n/32 blocks of {fp16 d, 32 x int8} */
    float (*q8_0)(const uint8_t *w, const q8_act *x, int n);
    /* w: n/32 blocks of {fp16 d, 16 bytes}; byte j holds element j (low nibble) and
     * j+16 (high nibble), each stored +8 */
    float (*q4_0)(const uint8_t *w, const q8_act *x, int n);
    /* Optional (NULL: one row at a time): out[r] for `rows` rows `rb` bytes apart, each
     * exactly what the one-row function returns. dh: NULL, or the rows' block scales
     * (fp16, rows x n/32, contiguous: slm_mat.dh), the same values the blocks hold. */
    void (*f32_rows)(float *out, const uint8_t *w, size_t rb, int rows, const float *x, int n);
    void (*q8_0_rows)(float *out, const uint8_t *w, size_t rb, int rows, const q8_act *x, int n, const uint16_t *dh);
    void (*q4_0_rows)(float *out, const uint8_t *w, size_t rb, int rows, const q8_act *x, int n, const uint16_t *dh);
} dot_impl;

/* The fastest path this CPU runs (chosen once). */
const dot_impl *dot_best(void);

/* From now on dot_best() is the portable reference and the host-only fast paths (the
 * AVX-512 quantization, model.c's expf / SwiGLU / attention) are off: what slm-run
 * --portable runs, to check that they change no result. Call before the first forward pass. */
void dot_use_portable(void);
int dot_portable_only(void);

/* Every path compiled in that this CPU can run, the portable reference first.
 * Returns how many were written (at most max). For the self-check. */
int dot_impls(const dot_impl **out, int max);

/* Quantizes x[n] (n a multiple of 32) to Q8_0 like ggml's quantize_row_q8_0:
 * d = fp16(amax / 127), q = round-half-even(x * 127/amax); also fills s4.
 * q needs n bytes, d n/32 floats, s4 n/4 int32. */
void quantize_q8_0(const float *x, int n, int8_t *q, float *d, int32_t *s4);
/* The portable definition quantize_q8_0 follows (it may take an AVX-512 path). */
void quantize_q8_0_ref(const float *x, int n, int8_t *q, float *d, int32_t *s4);

/* Checks every path against the portable reference on seeded pseudo-random rows
 * (edge values included: -128 weights, zero and subnormal scales, every nibble).
 * Returns the number of results compared, or -1 - (index of the first path that
 * differs) with *bad_name set to it. */
long dot_selfcheck(const char **bad_name);

#endif
