// Register-tiled, cache-blocked SGEMM written with GCC vector extensions (simd.h), so it
// compiles to AVX-512, AVX2, NEON or SSE depending on -march. Micro-tile: MR rows x NR
// columns held in registers while k streams in blocks of KC. B is packed per k block into
// contiguous KC x NR panels (zero-padded, so every tile runs the full-width kernel); A is
// read in place when its rows are contiguous in k, and packed (KC x MR panels) when it is
// a transposed view, where reading it in place strides across rows at every k.
#include "matmul.h"
#include "simd.h"
#include <stdio.h>
#include <stdlib.h>

#if VL == 16
#define MR 8      // 16 accumulators of 32 zmm registers
#else
#define MR 6      // 12 accumulators: AVX2 and SSE have 16 registers
#endif
#define NR (2 * VL)
#define KC 256
#define MB (MR * 8)   // rows per parallel task

// C[MR x NR] (=|+=) A x Bp over kc, A(i, k) = A[i*sa + k*sk], Bp packed [kc][NR].
static inline __attribute__((always_inline)) void
kernel(int kc, const float *restrict A, long sa, long sk, const float *restrict Bp,
       float *C, long ldc, int load_c) {
    vf c0[MR], c1[MR];
    for (int i = 0; i < MR; i++) {
        if (load_c) { c0[i] = vload(C + i * ldc); c1[i] = vload(C + i * ldc + VL); }
        else { c0[i] = (vf){0}; c1[i] = (vf){0}; }
    }
    for (int k = 0; k < kc; k++) {
        vf b0 = vload(Bp + k * NR), b1 = vload(Bp + k * NR + VL);
        const float *a = A + k * sk;
        for (int i = 0; i < MR; i++) { c0[i] += a[i * sa] * b0; c1[i] += a[i * sa] * b1; }
    }
    for (int i = 0; i < MR; i++) { vstore(C + i * ldc, c0[i]); vstore(C + i * ldc + VL, c1[i]); }
}

// Two instantiations with constant strides on the packed side, so the loads are immediate offsets.
static void kernel_packed(int kc, const float *Ap, const float *Bp, float *C, long ldc, int load_c) {
    kernel(kc, Ap, 1, MR, Bp, C, ldc, load_c);
}
static void kernel_rows(int kc, const float *A, long sam, const float *Bp, float *C, long ldc, int load_c) {
    kernel(kc, A, sam, 1, Bp, C, ldc, load_c);
}

// Pack buffers belong to the calling thread: matmul is also called from inside parallel
// loops (attention), where each thread multiplies its own matrices.
static __thread float *buf;
static __thread size_t buf_floats;

void matmul(float *C, long ldc, const float *A, long sam, long sak, const float *B, long ldb,
            int M, int N, int K, int accumulate) {
    if (K == 0) {
        if (!accumulate) for (int m = 0; m < M; m++) memset(C + m * ldc, 0, sizeof(float) * N);
        return;
    }
    int nib = (M + MR - 1) / MR, njb = (N + NR - 1) / NR, nmb = (nib + MB / MR - 1) / (MB / MR);
    int kcmax = K < KC ? K : KC, in_place = sak == 1;
    size_t need = (size_t)kcmax * ((size_t)nib * MR + (size_t)njb * NR);
    if (need > buf_floats) {
        free(buf);
        if (posix_memalign((void **)&buf, 64, need * sizeof(float))) { perror("matmul: pack buffer"); abort(); }
        buf_floats = need;
    }
    float *Ap = buf, *Bp = buf + (size_t)kcmax * nib * MR;
    for (int k0 = 0; k0 < K; k0 += KC) {
        int kc = K - k0 < KC ? K - k0 : KC, load_c = accumulate || k0 > 0;
        #pragma omp parallel
        {
            // A panels: all of them for a transposed view; only the ragged last one otherwise.
            #pragma omp for schedule(static) nowait
            for (int ib = 0; ib < nib; ib++) {
                int m0 = ib * MR, mr = M - m0 < MR ? M - m0 : MR;
                if (in_place && mr == MR) continue;
                float *p = Ap + (size_t)ib * kc * MR;
                for (int k = 0; k < kc; k++) {
                    const float *a = A + m0 * sam + (k0 + k) * sak;
                    int i = 0;
                    for (; i < mr; i++) p[k * MR + i] = a[i * sam];
                    for (; i < MR; i++) p[k * MR + i] = 0;
                }
            }
            #pragma omp for schedule(static)
            for (int jb = 0; jb < njb; jb++) {
                float *p = Bp + (size_t)jb * kc * NR;
                int j0 = jb * NR, nr = N - j0 < NR ? N - j0 : NR;
                for (int k = 0; k < kc; k++) {
                    const float *b = B + (long)(k0 + k) * ldb + j0;
                    if (nr == NR) { vstore(p + k * NR, vload(b)); vstore(p + k * NR + VL, vload(b + VL)); continue; }
                    for (int j = 0; j < NR; j++) p[k * NR + j] = j < nr ? b[j] : 0.0f;
                }
            }
            // Each C element is summed in the same k order whatever the thread count.
            #pragma omp for collapse(2) schedule(static)
            for (int mb = 0; mb < nmb; mb++)
                for (int jb = 0; jb < njb; jb++) {
                    int j0 = jb * NR, nr = N - j0 < NR ? N - j0 : NR;
                    const float *bp = Bp + (size_t)jb * kc * NR;
                    for (int ib = mb * (MB / MR); ib < (mb + 1) * (MB / MR) && ib < nib; ib++) {
                        int m0 = ib * MR, mr = M - m0 < MR ? M - m0 : MR;
                        const float *ap = Ap + (size_t)ib * kc * MR;
                        float *c = C + m0 * ldc + j0;
                        if (mr == MR && nr == NR) {
                            if (in_place) kernel_rows(kc, A + m0 * sam + k0, sam, bp, c, ldc, load_c);
                            else kernel_packed(kc, ap, bp, c, ldc, load_c);
                            continue;
                        }
                        float t[MR * NR];   // ragged edge: full tile into t, copy back what exists
                        for (int i = 0; i < mr && load_c; i++) memcpy(t + i * NR, c + i * ldc, nr * sizeof(float));
                        if (in_place && mr == MR) kernel_rows(kc, A + m0 * sam + k0, sam, bp, t, NR, load_c);
                        else kernel_packed(kc, ap, bp, t, NR, load_c);
                        for (int i = 0; i < mr; i++) memcpy(c + i * ldc, t + i * NR, nr * sizeof(float));
                    }
                }
        }
    }
}

void transpose(float *dst, const float *src, int rows, int cols) {
    #pragma omp parallel for schedule(static)
    for (int c = 0; c < cols; c++)
        for (int r = 0; r < rows; r++) dst[(long)c * rows + r] = src[(long)r * cols + c];
}
