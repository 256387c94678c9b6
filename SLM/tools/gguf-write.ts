// gguf-write.ts — write a GGUF v3 file (ggml's docs/gguf.md), little-endian.
//
//   "GGUF" u32 version=3  u64 n_tensors  u64 n_kv
//   n_kv × { string key, u32 value_type, value }
//   n_tensors × { string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset }
//   zero padding to `alignment`, then each tensor's data, each padded to `alignment`
//
// Strings are u64 length + UTF-8 bytes (no NUL). Arrays are u32 item type + u64 count +
// items. Tensor offsets are relative to the start of the data section, in the order the
// infos are written (llama.cpp requires exactly that order and padding).

import { open } from 'node:fs/promises'
import { tensorBytes } from './quantize.js'

/** GGUF metadata value types (`enum gguf_metadata_value_type`). */
export const GGUF_VALUE = {
  UINT8: 0, INT8: 1, UINT16: 2, INT16: 3, UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7,
  STRING: 8, ARRAY: 9, UINT64: 10, INT64: 11, FLOAT64: 12,
} as const
export type GgufScalarType = Exclude<(typeof GGUF_VALUE)[keyof typeof GGUF_VALUE], 9>

export const GGUF_MAGIC = 'GGUF'
export const GGUF_VERSION = 3
export const GGUF_DEFAULT_ALIGNMENT = 32

export type GgufScalar = number | bigint | boolean | string
/** One metadata entry. For arrays, `type` is ARRAY and `itemType` the type of every item. */
export type GgufKV =
  | { key: string; type: GgufScalarType; value: GgufScalar }
  | { key: string; type: typeof GGUF_VALUE.ARRAY; itemType: GgufScalarType; value: GgufScalar[] }

export interface GgufTensorOut {
  name: string
  /** ggml order: ne[0] is the contiguous dimension (PyTorch shape reversed). */
  dims: number[]
  /** ggml type number (see GGML_TYPE in quantize.ts). */
  type: number
  data: Uint8Array
}

export interface GgufOut {
  metadata: GgufKV[]
  tensors: GgufTensorOut[]
}

export function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment
}

/** Grows a byte buffer as values are appended. Used for the header only. */
class ByteWriter {
  private buf = new Uint8Array(1 << 16)
  private view = new DataView(this.buf.buffer)
  length = 0

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.length + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.length))
    this.buf = next
    this.view = new DataView(next.buffer)
  }
  u8(v: number) { this.reserve(1); this.view.setUint8(this.length, v); this.length += 1 }
  i8(v: number) { this.reserve(1); this.view.setInt8(this.length, v); this.length += 1 }
  u16(v: number) { this.reserve(2); this.view.setUint16(this.length, v, true); this.length += 2 }
  i16(v: number) { this.reserve(2); this.view.setInt16(this.length, v, true); this.length += 2 }
  u32(v: number) { this.reserve(4); this.view.setUint32(this.length, v, true); this.length += 4 }
  i32(v: number) { this.reserve(4); this.view.setInt32(this.length, v, true); this.length += 4 }
  f32(v: number) { this.reserve(4); this.view.setFloat32(this.length, v, true); this.length += 4 }
  f64(v: number) { this.reserve(8); this.view.setFloat64(this.length, v, true); this.length += 8 }
  u64(v: number | bigint) { this.reserve(8); this.view.setBigUint64(this.length, BigInt(v), true); this.length += 8 }
  i64(v: number | bigint) { this.reserve(8); this.view.setBigInt64(this.length, BigInt(v), true); this.length += 8 }
  bytes(b: Uint8Array) { this.reserve(b.length); this.buf.set(b, this.length); this.length += b.length }
  string(s: string) { const b = new TextEncoder().encode(s); this.u64(b.length); this.bytes(b) }
  pad(alignment: number) { const n = alignUp(this.length, alignment) - this.length; this.bytes(new Uint8Array(n)) }
  result(): Uint8Array { return this.buf.slice(0, this.length) }
}

function checkInt(key: string, v: GgufScalar, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw new Error(`gguf metadata ${key}: ${String(v)} is not an integer in [${lo}, ${hi}]`)
  }
  return v
}

function writeScalar(w: ByteWriter, key: string, type: GgufScalarType, v: GgufScalar): void {
  switch (type) {
    case GGUF_VALUE.UINT8: return w.u8(checkInt(key, v, 0, 0xff))
    case GGUF_VALUE.INT8: return w.i8(checkInt(key, v, -0x80, 0x7f))
    case GGUF_VALUE.UINT16: return w.u16(checkInt(key, v, 0, 0xffff))
    case GGUF_VALUE.INT16: return w.i16(checkInt(key, v, -0x8000, 0x7fff))
    case GGUF_VALUE.UINT32: return w.u32(checkInt(key, v, 0, 0xffffffff))
    case GGUF_VALUE.INT32: return w.i32(checkInt(key, v, -0x80000000, 0x7fffffff))
    case GGUF_VALUE.FLOAT32: return w.f32(Number(v))
    case GGUF_VALUE.FLOAT64: return w.f64(Number(v))
    case GGUF_VALUE.BOOL: return w.u8(v ? 1 : 0)
    case GGUF_VALUE.STRING:
      if (typeof v !== 'string') throw new Error(`gguf metadata ${key}: expected a string, got ${typeof v}`)
      return w.string(v)
    case GGUF_VALUE.UINT64: return w.u64(typeof v === 'bigint' ? v : checkInt(key, v, 0, Number.MAX_SAFE_INTEGER))
    case GGUF_VALUE.INT64: return w.i64(typeof v === 'bigint' ? v : checkInt(key, v, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER))
    default: throw new Error(`gguf metadata ${key}: unknown value type ${type as number}`)
  }
}

/** Bytes of everything before the tensor data: header, metadata, tensor infos, padding. */
export function encodeGgufHeader(gguf: GgufOut): { header: Uint8Array; offsets: number[]; alignment: number } {
  const alignEntry = gguf.metadata.find(kv => kv.key === 'general.alignment')
  const alignment = alignEntry ? Number(alignEntry.value) : GGUF_DEFAULT_ALIGNMENT
  if (alignEntry && alignEntry.type !== GGUF_VALUE.UINT32) throw new Error('gguf: general.alignment must be UINT32')
  if (!Number.isInteger(alignment) || alignment < 8 || (alignment & (alignment - 1)) !== 0) {
    throw new Error(`gguf: general.alignment ${alignment} must be a power of two >= 8`)
  }
  const keys = new Set<string>()
  for (const kv of gguf.metadata) {
    if (keys.has(kv.key)) throw new Error(`gguf: metadata key ${kv.key} given twice`)
    keys.add(kv.key)
  }
  const names = new Set<string>()
  const w = new ByteWriter()
  w.bytes(new TextEncoder().encode(GGUF_MAGIC))
  w.u32(GGUF_VERSION)
  w.u64(gguf.tensors.length)
  w.u64(gguf.metadata.length)
  for (const kv of gguf.metadata) {
    w.string(kv.key)
    w.u32(kv.type)
    if (kv.type === GGUF_VALUE.ARRAY) {
      w.u32(kv.itemType)
      w.u64(kv.value.length)
      for (const item of kv.value) writeScalar(w, kv.key, kv.itemType, item)
    } else {
      writeScalar(w, kv.key, kv.type, kv.value)
    }
  }
  const offsets: number[] = []
  let offset = 0
  for (const t of gguf.tensors) {
    if (names.has(t.name)) throw new Error(`gguf: tensor ${t.name} given twice`)
    names.add(t.name)
    if (new TextEncoder().encode(t.name).length > 63) throw new Error(`gguf: tensor name ${t.name} is longer than 63 bytes`)
    if (t.dims.length < 1 || t.dims.length > 4) throw new Error(`gguf: tensor ${t.name} has ${t.dims.length} dims (1..4 allowed)`)
    let want: number
    try {
      want = tensorBytes(t.type, t.dims)
    } catch (e) {
      throw new Error(`gguf: tensor ${t.name}: ${(e as Error).message}`)
    }
    if (t.data.length !== want) {
      throw new Error(`gguf: tensor ${t.name} has ${t.data.length} bytes of data, its type and dims [${t.dims}] need ${want}`)
    }
    w.string(t.name)
    w.u32(t.dims.length)
    for (const ne of t.dims) w.u64(ne)
    w.u32(t.type)
    w.u64(offset)
    offsets.push(offset)
    offset += alignUp(t.data.length, alignment)
  }
  w.pad(alignment)
  return { header: w.result(), offsets, alignment }
}

/** Write `gguf` to `path`. Tensor data is streamed; only the header is built in memory. */
export async function writeGguf(path: string, gguf: GgufOut): Promise<void> {
  const { header, alignment } = encodeGgufHeader(gguf)
  const fh = await open(path, 'w')
  try {
    await fh.write(header)
    for (const t of gguf.tensors) {
      await fh.write(t.data)
      const pad = alignUp(t.data.length, alignment) - t.data.length
      if (pad) await fh.write(new Uint8Array(pad))
    }
  } finally {
    await fh.close()
  }
}

/** The whole file as one buffer (tests, small models). */
export function encodeGguf(gguf: GgufOut): Uint8Array {
  const { header, offsets, alignment } = encodeGgufHeader(gguf)
  const last = gguf.tensors.length - 1
  const dataSize = last < 0 ? 0 : offsets[last] + alignUp(gguf.tensors[last].data.length, alignment)
  const out = new Uint8Array(header.length + dataSize)
  out.set(header)
  gguf.tensors.forEach((t, i) => out.set(t.data, header.length + offsets[i]))
  return out
}
