// quantize.ts — ggml's Q8_0 and Q4_0 block formats, and the fp16 they store scales in.
//
// Both formats cut a row into blocks of 32 values and store one fp16 scale per block.
// The quantizers follow ggml's reference functions (quantize_row_q8_0_ref,
// quantize_row_q4_0_ref in ggml-quants.c) step by step in float32 arithmetic, so the
// bytes we write are the bytes llama-quantize writes for the same floats. JS computes
// in float64; every step is rounded back with Math.fround. For +, -, *, / of two float32
// values that double rounding is exact (53 >= 2*24+2), so the results match C's float.
//
//   Q8_0 block (34 bytes): fp16 d; int8 qs[32]          x ≈ qs[j] * d
//   Q4_0 block (18 bytes): fp16 d; uint8 qs[16]         x[j] ≈ (lo(qs[j]) - 8) * d,
//                                                      x[j+16] ≈ (hi(qs[j]) - 8) * d

/** ggml tensor types this project writes. Numbers are ggml's `enum ggml_type`. */
export const GGML_TYPE = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 8 } as const
export type GgmlType = (typeof GGML_TYPE)[keyof typeof GGML_TYPE]

/**
 * Block size (values) and block bytes of every ggml type a GGUF file may name, so a
 * reader can size and check tensors it cannot decode. From ggml's type_traits table.
 */
export const GGML_TYPE_INFO: Record<number, { name: string; blockSize: number; typeSize: number }> = {
  0: { name: 'F32', blockSize: 1, typeSize: 4 },
  1: { name: 'F16', blockSize: 1, typeSize: 2 },
  2: { name: 'Q4_0', blockSize: 32, typeSize: 18 },
  3: { name: 'Q4_1', blockSize: 32, typeSize: 20 },
  6: { name: 'Q5_0', blockSize: 32, typeSize: 22 },
  7: { name: 'Q5_1', blockSize: 32, typeSize: 24 },
  8: { name: 'Q8_0', blockSize: 32, typeSize: 34 },
  9: { name: 'Q8_1', blockSize: 32, typeSize: 36 },
  10: { name: 'Q2_K', blockSize: 256, typeSize: 84 },
  11: { name: 'Q3_K', blockSize: 256, typeSize: 110 },
  12: { name: 'Q4_K', blockSize: 256, typeSize: 144 },
  13: { name: 'Q5_K', blockSize: 256, typeSize: 176 },
  14: { name: 'Q6_K', blockSize: 256, typeSize: 210 },
  15: { name: 'Q8_K', blockSize: 256, typeSize: 292 },
  24: { name: 'I8', blockSize: 1, typeSize: 1 },
  25: { name: 'I16', blockSize: 1, typeSize: 2 },
  26: { name: 'I32', blockSize: 1, typeSize: 4 },
  27: { name: 'I64', blockSize: 1, typeSize: 8 },
  28: { name: 'F64', blockSize: 1, typeSize: 8 },
  30: { name: 'BF16', blockSize: 1, typeSize: 2 },
}

/** Bytes of a tensor of `type` with ggml dims `ne` (ne[0] must be a whole number of blocks). */
export function tensorBytes(type: number, ne: readonly number[]): number {
  const info = GGML_TYPE_INFO[type]
  if (!info) throw new Error(`ggml type ${type} is unknown`)
  if (ne[0] % info.blockSize !== 0) {
    throw new Error(`ne[0]=${ne[0]} is not a multiple of ${info.name}'s block size ${info.blockSize}`)
  }
  const rows = ne.slice(1).reduce((a, b) => a * b, 1)
  return (ne[0] / info.blockSize) * info.typeSize * rows
}

export const QK = 32 // values per block, both formats
export const Q8_0_BLOCK_BYTES = 2 + QK // 34
export const Q4_0_BLOCK_BYTES = 2 + QK / 2 // 18

const f32 = new Float32Array(1)
const u32 = new Uint32Array(f32.buffer)
const fr = Math.fround

/** float32 → IEEE half bits, round to nearest even; overflow → ±inf, NaN → 0x7e00. */
export function fp32ToFp16(x: number): number {
  f32[0] = x
  const w = u32[0]
  const sign = (w >>> 16) & 0x8000
  const exp = (w >>> 23) & 0xff
  const mant = w & 0x7fffff
  if (exp === 0xff) return sign | (mant ? 0x7e00 : 0x7c00)
  const e = exp - 127 + 15 // rebiased exponent
  if (e >= 31) return sign | 0x7c00
  if (e <= 0) {
    // half subnormal: value = h * 2^-24; shift the 24-bit significand right
    if (exp === 0) return sign // float32 subnormals are far below half's range
    const m = mant | 0x800000
    const shift = 14 - e
    if (shift > 24) return sign
    return sign | roundShift(m, shift)
  }
  // normal: keep 10 mantissa bits; a carry out of the mantissa bumps the exponent,
  // which is exactly right (up to 0x7c00 = inf)
  return sign | roundShift((e << 23) | mant, 13)
}

/** m >> shift, rounded to nearest, ties to even. */
function roundShift(m: number, shift: number): number {
  const q = Math.floor(m / 2 ** shift)
  const rem = m - q * 2 ** shift
  const half = 2 ** (shift - 1)
  return rem > half || (rem === half && (q & 1)) ? q + 1 : q
}

/** IEEE half bits → number (exact). */
export function fp16ToFp32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1
  const exp = (h >>> 10) & 0x1f
  const mant = h & 0x3ff
  if (exp === 0) return sign * mant * 2 ** -24
  if (exp === 31) return mant ? NaN : sign * Infinity
  return sign * (1 + mant / 1024) * 2 ** (exp - 15)
}

/** C's roundf: halves away from zero (not JS Math.round, not banker's rounding). */
function roundf(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5)
}

function checkLength(n: number, what: string): void {
  if (n % QK !== 0) {
    throw new Error(`${what}: ${n} values is not a multiple of the block size ${QK}; ` +
      `quantized tensors need a row length (ne0) that is a multiple of ${QK}`)
  }
}

/** Quantize x (length a multiple of 32) to Q8_0 blocks: d = amax/127, q = roundf(x/d). */
export function quantizeQ8_0(x: Float32Array): Uint8Array {
  checkLength(x.length, 'Q8_0')
  const nb = x.length / QK
  const out = new Uint8Array(nb * Q8_0_BLOCK_BYTES)
  const view = new DataView(out.buffer)
  for (let b = 0; b < nb; b++) {
    const base = b * QK
    let amax = 0
    for (let j = 0; j < QK; j++) {
      const a = Math.abs(x[base + j])
      if (a > amax) amax = a
    }
    const d = fr(amax / 127)
    const id = d ? fr(1 / d) : 0
    const o = b * Q8_0_BLOCK_BYTES
    view.setUint16(o, fp32ToFp16(d), true)
    for (let j = 0; j < QK; j++) view.setInt8(o + 2 + j, roundf(fr(x[base + j] * id)))
  }
  return out
}

/**
 * Quantize x to Q4_0 blocks. d = m / -8 where m is the value of largest magnitude (sign
 * kept), so m itself maps to code 0 and codes run 0..15 for (x/d + 8.5) truncated,
 * capped at 15 — ggml's rule, which gives the block an asymmetric range.
 */
export function quantizeQ4_0(x: Float32Array): Uint8Array {
  checkLength(x.length, 'Q4_0')
  const nb = x.length / QK
  const out = new Uint8Array(nb * Q4_0_BLOCK_BYTES)
  const view = new DataView(out.buffer)
  const code = (v: number, id: number) => Math.min(15, Math.trunc(fr(fr(v * id) + 8.5)))
  for (let b = 0; b < nb; b++) {
    const base = b * QK
    let amax = 0
    let max = 0
    for (let j = 0; j < QK; j++) {
      const v = x[base + j]
      if (amax < Math.abs(v)) {
        amax = Math.abs(v)
        max = v
      }
    }
    const d = fr(max / -8) // -0 for an all-zero block, stored as 0x8000 like ggml
    const id = d ? fr(1 / d) : 0
    const o = b * Q4_0_BLOCK_BYTES
    view.setUint16(o, fp32ToFp16(d), true)
    for (let j = 0; j < QK / 2; j++) {
      out[o + 2 + j] = code(x[base + j], id) | (code(x[base + j + QK / 2], id) << 4)
    }
  }
  return out
}

export function dequantizeQ8_0(bytes: Uint8Array, n: number): Float32Array {
  checkLength(n, 'Q8_0')
  checkBytes(bytes, (n / QK) * Q8_0_BLOCK_BYTES, 'Q8_0')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const y = new Float32Array(n)
  for (let b = 0; b < n / QK; b++) {
    const o = b * Q8_0_BLOCK_BYTES
    const d = fp16ToFp32(view.getUint16(o, true))
    for (let j = 0; j < QK; j++) y[b * QK + j] = view.getInt8(o + 2 + j) * d
  }
  return y
}

export function dequantizeQ4_0(bytes: Uint8Array, n: number): Float32Array {
  checkLength(n, 'Q4_0')
  checkBytes(bytes, (n / QK) * Q4_0_BLOCK_BYTES, 'Q4_0')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const y = new Float32Array(n)
  for (let b = 0; b < n / QK; b++) {
    const o = b * Q4_0_BLOCK_BYTES
    const d = fp16ToFp32(view.getUint16(o, true))
    for (let j = 0; j < QK / 2; j++) {
      const q = bytes[o + 2 + j]
      y[b * QK + j] = ((q & 0x0f) - 8) * d
      y[b * QK + j + QK / 2] = ((q >> 4) - 8) * d
    }
  }
  return y
}

function checkBytes(bytes: Uint8Array, want: number, what: string): void {
  if (bytes.length < want) {
    throw new Error(`${what}: ${bytes.length} bytes given, ${want} needed for the values asked for`)
  }
}

/** Encode float32 values as `type` (F32 copies, F16 rounds each value). */
export function quantize(type: GgmlType, x: Float32Array): Uint8Array {
  switch (type) {
    case GGML_TYPE.F32:
      return new Uint8Array(x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength))
    case GGML_TYPE.F16: {
      const out = new Uint8Array(x.length * 2)
      const view = new DataView(out.buffer)
      for (let i = 0; i < x.length; i++) view.setUint16(i * 2, fp32ToFp16(x[i]), true)
      return out
    }
    case GGML_TYPE.Q8_0:
      return quantizeQ8_0(x)
    case GGML_TYPE.Q4_0:
      return quantizeQ4_0(x)
  }
}

/** Decode n values of `type` back to float32. */
export function dequantize(type: number, bytes: Uint8Array, n: number): Float32Array {
  switch (type) {
    case GGML_TYPE.F32: {
      checkBytes(bytes, n * 4, 'F32')
      const copy = new Uint8Array(bytes.subarray(0, n * 4)) // a real copy (Buffer.slice would be a view), aligned
      return new Float32Array(copy.buffer, 0, n)
    }
    case GGML_TYPE.F16: {
      checkBytes(bytes, n * 2, 'F16')
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      const y = new Float32Array(n)
      for (let i = 0; i < n; i++) y[i] = fp16ToFp32(view.getUint16(i * 2, true))
      return y
    }
    case GGML_TYPE.Q8_0:
      return dequantizeQ8_0(bytes, n)
    case GGML_TYPE.Q4_0:
      return dequantizeQ4_0(bytes, n)
    default:
      throw new Error(`dequantize: ggml type ${type} is not supported (F32, F16, Q8_0, Q4_0 are)`)
  }
}
