import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import {
  fp32ToFp16, fp16ToFp32, quantizeQ8_0, quantizeQ4_0, dequantizeQ8_0, dequantizeQ4_0,
  quantize, dequantize, GGML_TYPE, tensorBytes,
} from '../../SLM/tools/quantize.js'
import { gaussian, rng } from '../helpers/tiny-model.js'

const hex = (b: Uint8Array) => [...b].map(x => x.toString(16).padStart(2, '0')).join(' ')
const block = (vals: Record<number, number>) => {
  const x = new Float32Array(32)
  for (const [i, v] of Object.entries(vals)) x[Number(i)] = v
  return x
}

test('fp16: round to nearest even, subnormals, overflow, specials', () => {
  const cases: [number, number][] = [
    [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff],
    [1 + 2 ** -11, 0x3c00], // tie between 0x3c00 and 0x3c01: even wins
    [1 + 3 * 2 ** -11, 0x3c02], // tie between 0x3c01 and 0x3c02: even wins
    [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above the tie rounds up
    [65519, 0x7bff], [65520, 0x7c00], [1e6, 0x7c00], [-1e6, 0xfc00], // overflow → inf from 65520
    [2 ** -24, 0x0001], [2 ** -25, 0x0000], [1.5 * 2 ** -24, 0x0002], [3 * 2 ** -25 + 2 ** -30, 0x0002],
    [2 ** -14, 0x0400], [2 ** -14 - 2 ** -24, 0x03ff], [1e-10, 0x0000], [-1e-10, 0x8000],
    [Infinity, 0x7c00], [-Infinity, 0xfc00], [NaN, 0x7e00],
  ]
  for (const [x, h] of cases) assert.is(fp32ToFp16(x), h, `fp16(${x})`)
  for (let h = 0; h < 0x7c00; h += 7) assert.is(fp32ToFp16(fp16ToFp32(h)), h, `fp16 round trip 0x${h.toString(16)}`)
})

test('Q8_0: hand-computed blocks from ggml\'s algorithm', () => {
  // amax 127 → d = 1.0 (fp16 3c00), q = roundf(x): halves go away from zero
  const a = quantizeQ8_0(block({ 0: 127, 1: -127, 2: 2.5, 3: -2.5, 4: 0.5, 5: -0.5, 6: 1.49, 7: -1.51 }))
  assert.is(hex(a), '00 3c 7f 81 03 fd 01 ff 01 fe' + ' 00'.repeat(24))
  // amax 63.5 → d = 0.5 (fp16 3800), id = 2
  const b = quantizeQ8_0(block({ 0: 63.5, 1: 1.25, 2: -1.25, 3: 0.2 }))
  assert.is(hex(b), '00 38 7f 03 fd 00' + ' 00'.repeat(28))
  // amax/127 = 1 + 2^-11 exactly: the fp16 scale ties and rounds to even (3c00, not 3c01)
  const c = quantizeQ8_0(block({ 9: 127.06201171875 }))
  assert.is(hex(c), '00 3c' + ' 00'.repeat(9) + ' 7f' + ' 00'.repeat(22))
  // all zeros: d = 0, q = 0
  assert.is(hex(quantizeQ8_0(new Float32Array(32))), '00'.concat(' 00'.repeat(33)))
})

test('Q4_0: hand-computed blocks from ggml\'s algorithm', () => {
  // largest magnitude -8 → d = -8/-8 = 1 (3c00); code = min(15, trunc(x/d + 8.5)); byte j = q[j] | q[j+16] << 4
  const a = quantizeQ4_0(block({ 0: -8, 1: 7, 2: 7.6, 3: -0.5, 4: -0.6, 5: 0.5, 6: 0.49, 7: -7.6, 16: 3, 17: -3 }))
  assert.is(hex(a), '00 3c b0 5f 8f 88 87 89 88 80' + ' 88'.repeat(8))
  // largest magnitude +4 → d = -0.5 (b800); the first of equal magnitudes (4 before -4) sets the sign
  const b = quantizeQ4_0(block({ 0: 4, 1: -4, 2: 1, 3: -1, 5: -4, 16: 0.25, 17: -0.25 }))
  assert.is(hex(b), '00 b8 80 9f 86 8a 88 8f' + ' 88'.repeat(10))
  // all zeros: d = 0/-8 = -0, stored as fp16 8000 like ggml; every code is 8
  assert.is(hex(quantizeQ4_0(new Float32Array(32))), '00 80' + ' 88'.repeat(16))
})

test('round trip: errors within the formats\' bounds, typical error measured', () => {
  const x = gaussian(32 * 4096, 0.05, rng(7))
  for (const [type, deq, bound] of [
    // Q8_0: |x - q d| <= d/2 plus what rounding d to fp16 costs (|q| <= 127)
    ['Q8_0', dequantizeQ8_0(quantizeQ8_0(x), x.length), (d: number, dh: number) => 0.5 * d + 127 * Math.abs(d - dh)],
    // Q4_0: codes cover [-8, 7] d, so the top half-step clamps: |err| <= |d|, plus fp16 of d (|q-8| <= 8)
    ['Q4_0', dequantizeQ4_0(quantizeQ4_0(x), x.length), (d: number, dh: number) => Math.abs(d) + 8 * Math.abs(d - dh)],
  ] as const) {
    let se = 0
    let sx = 0
    for (let b = 0; b < x.length / 32; b++) {
      let amax = 0
      let max = 0
      for (let j = 0; j < 32; j++) if (Math.abs(x[b * 32 + j]) > amax) { amax = Math.abs(x[b * 32 + j]); max = x[b * 32 + j] }
      const d = type === 'Q8_0' ? Math.fround(amax / 127) : Math.fround(max / -8)
      const limit = bound(d, fp16ToFp32(fp32ToFp16(d))) + 1e-7 * amax
      for (let j = 0; j < 32; j++) {
        const i = b * 32 + j
        const err = Math.abs(x[i] - deq[i])
        if (err > limit) assert.unreachable(`${type} block ${b} value ${j}: error ${err} > bound ${limit}`)
        se += err * err
        sx += x[i] * x[i]
      }
    }
    const rel = Math.sqrt(se / sx)
    console.log(`  ${type} relative RMS error on N(0, 0.05): ${(rel * 100).toFixed(2)}%`)
    assert.ok(type === 'Q8_0' ? rel < 0.01 : rel < 0.12, `${type} relative RMS error ${rel}`)
  }
})

test('quantize/dequantize dispatch and sizes', () => {
  const x = gaussian(64, 1, rng(3))
  assert.equal([...dequantize(GGML_TYPE.F32, quantize(GGML_TYPE.F32, x), 64)], [...x])
  assert.is(quantize(GGML_TYPE.Q8_0, x).length, tensorBytes(GGML_TYPE.Q8_0, [64]))
  assert.is(quantize(GGML_TYPE.Q4_0, x).length, 36)
  assert.is(tensorBytes(GGML_TYPE.Q4_0, [64, 3]), 108)
  assert.throws(() => quantizeQ8_0(new Float32Array(33)), /not a multiple of the block size 32/)
  assert.throws(() => tensorBytes(GGML_TYPE.Q4_0, [48]), /not a multiple of Q4_0's block size 32/)
  assert.throws(() => dequantize(12, new Uint8Array(144), 256), /not supported/)
})

// ggml's own reference quantizers, from the libggml-base.so that node-llama-cpp ships:
// a small C harness feeds them floats and prints fp16 + Q8_0 + Q4_0 bytes to compare.
const GGML_DIR = resolve('node_modules/@node-llama-cpp/linux-x64/bins/linux-x64')
const HARNESS = `
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
void quantize_row_q8_0_ref(const float *x, void *y, int64_t k);
void quantize_row_q4_0_ref(const float *x, void *y, int64_t k);
uint16_t ggml_fp32_to_fp16(float x);
int main(void) {
  size_t cap = 1 << 16, n = 0, got;
  float *x = malloc(cap * sizeof *x);
  while ((got = fread(x + n, sizeof *x, cap - n, stdin)) > 0) {
    n += got;
    if (n == cap) x = realloc(x, (cap *= 2) * sizeof *x);
  }
  for (size_t i = 0; i < n; i++) { uint16_t h = ggml_fp32_to_fp16(x[i]); fwrite(&h, 2, 1, stdout); }
  void *q8 = malloc(n / 32 * 34), *q4 = malloc(n / 32 * 18);
  quantize_row_q8_0_ref(x, q8, (int64_t)n);
  quantize_row_q4_0_ref(x, q4, (int64_t)n);
  fwrite(q8, 34, n / 32, stdout);
  fwrite(q4, 18, n / 32, stdout);
  return 0;
}
`

test('bit-exact against ggml\'s quantize_row_q8_0_ref / q4_0_ref / fp32_to_fp16', () => {
  assert.ok(existsSync(join(GGML_DIR, 'libggml-base.so')), `ggml library missing in ${GGML_DIR}`)
  const dir = mkdtempSync(join(tmpdir(), 'ggml-ref-'))
  try {
    writeFileSync(join(dir, 'ref.c'), HARNESS)
    execFileSync('gcc', ['-O1', '-o', join(dir, 'ref'), join(dir, 'ref.c'), `-L${GGML_DIR}`, '-lggml-base', `-Wl,-rpath,${GGML_DIR}`])
    // Gaussian data at several scales, then blocks built to hit edge cases.
    const rand = rng(99)
    const parts: Float32Array[] = [1e-6, 1e-3, 0.02, 1, 300].map(s => gaussian(32 * 64, s, rand))
    const edge: number[] = []
    const push = (vals: number[]) => { const b = new Array(32).fill(0); vals.forEach((v, i) => (b[i] = v)); edge.push(...b) }
    push([127, 2.5, -2.5, 0.5, -0.5, 126.5, -126.5]) // roundf ties
    push([-8, 7.5, 7.49, -0.5, 0.5, 3.5, -3.5]) // Q4_0 ties and clamp
    push([4, -4, 2, -2]) // equal magnitudes, positive first
    push([-4, 4, 2, -2]) // equal magnitudes, negative first
    push([127.06201171875, 1, -1]) // fp16 tie in d
    push([1e7, -3e6, 5]) // d overflows fp16 to inf
    push([1e-30, -2e-31]) // d far below fp16 subnormals
    push([6e-6, 1e-7]) // d a fp16 subnormal
    push(new Array(32).fill(-0)) // negative zeros
    push(new Array(32).fill(0.75)) // constant block
    for (let i = 0; i < 32; i++) edge.push((i - 16) / 2) // ramp
    const x = new Float32Array([...parts.flatMap(p => [...p]), ...edge])
    const out = execFileSync(join(dir, 'ref'), { input: Buffer.from(x.buffer) })
    const n = x.length
    const fp16 = new Uint8Array(n * 2)
    const view = new DataView(fp16.buffer)
    for (let i = 0; i < n; i++) view.setUint16(i * 2, fp32ToFp16(x[i]), true)
    const ours = [fp16, quantizeQ8_0(x), quantizeQ4_0(x)]
    let at = 0
    for (const [k, name] of ['fp16', 'Q8_0', 'Q4_0'].entries()) {
      const theirs = out.subarray(at, at + ours[k].length)
      at += ours[k].length
      const diff = ours[k].findIndex((b, i) => b !== theirs[i])
      assert.is(diff, -1, `${name} differs from ggml at byte ${diff}`)
    }
    assert.is(at, out.length, 'ggml harness output length')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
