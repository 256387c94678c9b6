// Register-tiled, cache-blocked SGEMM written with GCC vector extensions, so it compiles to
// AVX-512, AVX2, NEON or SSE depending on -march. Micro-tile: MR rows x NR columns held in
// registers while k streams; KC blocks k so a B panel (KC x NR) stays in L1 across rows.
#include "matmul.h"
#include <string.h>

#if defined(__AVX512F__)
#define VL 16
#elif defined(__AVX__)
#define VL 8
#else
#define VL 4
#endif
#define MR 6
#define NR (2 * VL)
#define KC 256
#define MB 48   // rows per parallel task (8 micro-tiles)

typedef float vf __attribute__((vector_size(VL * 4)));

static inline vf vload(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline void vstore(float *p, vf v) { memcpy(p, &v, sizeof v); }

// mr is a compile-time constant at every call site (see dispatch), so the accumulators
// live in registers.
static inline __attribute__((always_inline)) void
micro(const int mr, int kc, const float *A, long sam, long sak, const float *B, long ldb,
      float *C, long ldc, int load_c) {
    vf c0[MR], c1[MR];
    for (int i = 0; i < mr; i++) {
        if (load_c) { c0[i] = vload(C + i * ldc); c1[i] = vload(C + i * ldc + VL); }
        else { c0[i] = (vf){0}; c1[i] = (vf){0}; }
    }
    for (int k = 0; k < kc; k++) {
        vf b0 = vload(B + k * ldb), b1 = vload(B + k * ldb + VL);
        const float *a = A + k * sak;
        for (int i = 0; i < mr; i++) {
            float ai = a[i * sam];
            c0[i] += ai * b0;
            c1[i] += ai * b1;
        }
    }
    for (int i = 0; i < mr; i++) { vstore(C + i * ldc, c0[i]); vstore(C + i * ldc + VL, c1[i]); }
}

static void dispatch(int mr, int kc, const float *A, long sam, long sak, const float *B, long ldb,
                     float *C, long ldc, int load_c) {
    switch (mr) {
    case 6: micro(6, kc, A, sam, sak, B, ldb, C, ldc, load_c); break;
    case 5: micro(5, kc, A, sam, sak, B, ldb, C, ldc, load_c); break;
    case 4: micro(4, kc, A, sam, sak, B, ldb, C, ldc, load_c); break;
    case 3: micro(3, kc, A, sam, sak, B, ldb, C, ldc, load_c); break;
    case 2: micro(2, kc, A, sam, sak, B, ldb, C, ldc, load_c); break;
    default: micro(1, kc, A, sam, sak, B, ldb, C, ldc, load_c); break;
    }
}

void matmul(float *C, long ldc, const float *A, long sam, long sak, const float *B, long ldb,
            int M, int N, int K, int accumulate) {
    int nmb = (M + MB - 1) / MB, njb = N / NR, ntail = N - njb * NR;
    if (njb > 0) {
        #pragma omp parallel for collapse(2) schedule(static)
        for (int mb = 0; mb < nmb; mb++)
            for (int jb = 0; jb < njb; jb++) {
                int m0 = mb * MB, m1 = m0 + MB < M ? m0 + MB : M, j = jb * NR;
                for (int k0 = 0; k0 < K; k0 += KC) {
                    int kc = K - k0 < KC ? K - k0 : KC;
                    int load_c = accumulate || k0 > 0;
                    for (int i = m0; i < m1; i += MR) {
                        int mr = m1 - i < MR ? m1 - i : MR;
                        dispatch(mr, kc, A + i * sam + k0 * sak, sam, sak, B + (long)k0 * ldb + j,
                                 ldb, C + i * ldc + j, ldc, load_c);
                    }
                }
            }
    }
    if (ntail > 0) {  // columns that do not fill a micro-tile (small or odd shapes only)
        int j0 = njb * NR;
        #pragma omp parallel for schedule(static)
        for (int m = 0; m < M; m++)
            for (int j = j0; j < N; j++) {
                float s = accumulate ? C[m * ldc + j] : 0.0f;
                for (int k = 0; k < K; k++) s += A[m * sam + k * sak] * B[(long)k * ldb + j];
                C[m * ldc + j] = s;
            }
    }
    if (K == 0 && !accumulate)
        for (int m = 0; m < M; m++) memset(C + m * ldc, 0, sizeof(float) * N);
}

void transpose(float *dst, const float *src, int rows, int cols) {
    #pragma omp parallel for schedule(static)
    for (int c = 0; c < cols; c++)
        for (int r = 0; r < rows; r++) dst[(long)c * rows + r] = src[(long)r * cols + c];
}
