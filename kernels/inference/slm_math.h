/* slm_math.h — the floating-point functions the inference core needs, without libm.
 *
 * The float functions are computed in double and rounded once, so they are
 * (nearly always) correctly rounded — the same values glibc returns, which keeps
 * our logits bit-close to llama.cpp's. fp16 conversions are bit-exact IEEE
 * binary16 with round-to-nearest-even, like the F16C instructions ggml uses.
 */
#ifndef SLM_MATH_H
#define SLM_MATH_H

#include <stdint.h>

double slm_exp(double x);
double slm_log(double x); /* x > 0 */
double slm_sqrt(double x); /* x >= 0 */
double slm_sin(double x);
double slm_cos(double x);

float slm_expf(float x);
float slm_logf(float x);
float slm_sqrtf(float x);
float slm_powf(float base, float e); /* base > 0 */
float slm_sinf(float x);
float slm_cosf(float x);
float slm_roundf_even(float x); /* round half to even, like _mm256_round_ps */

float slm_fp16_to_fp32(uint16_t h);
uint16_t slm_fp32_to_fp16(float f);

#define SLM_INFINITY (__builtin_inff())

#endif
