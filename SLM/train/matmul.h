// The one matrix-multiply kernel that all linear layers (forward and backward) use.
#pragma once

// C[m, n] (=|+=) sum_k A(m, k) * B[k, n]   for m < M, n < N, k < K.
// A(m, k) = A[m*sam + k*sak] (any strides, so A may be a transposed view);
// B and C are row-major with leading dimensions ldb, ldc. accumulate=0 overwrites C.
// Each C element is summed in the same k order whatever the thread count: deterministic.
void matmul(float *C, long ldc, const float *A, long sam, long sak, const float *B, long ldb,
            int M, int N, int K, int accumulate);

// Common views of a linear layer W [out, in] (PyTorch layout) on activations X [n, in]:
// Y = X W^T needs W^T [in, out]: transpose(WT, W, out, in).
void transpose(float *dst, const float *src, int rows, int cols);
