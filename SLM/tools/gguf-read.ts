// gguf-read.ts — parse and validate a GGUF file (v2/v3, little-endian).
//
// The reader is also the validator: it refuses any file llama.cpp's gguf loader would
// refuse, and a few more, with an error that names the file, the byte offset and the
// field. Invariants it keeps:
//   - every read is bounds-checked, so a truncated file is an error, never a garbage value;
//   - a count (tensors, metadata, array items) is checked against the bytes left before
//     anything is allocated or looped over, so a forged count of 2^63 fails at once;
//   - tensor offsets must be exactly ggml's running offsets (data in info order, each
//     padded to the alignment), and every tensor must end inside the file.

import { readFile } from 'node:fs/promises'
import { GGML_TYPE_INFO, dequantize } from './quantize.js'
import { GGUF_VALUE, GGUF_DEFAULT_ALIGNMENT, alignUp, type GgufScalar } from './gguf-write.js'

export type GgufValue =
  | { type: number; value: GgufScalar }
  | { type: typeof GGUF_VALUE.ARRAY; itemType: number; value: GgufScalar[] }

export interface GgufTensorInfo {
  name: string
  /** ggml order, ne[0] contiguous. */
  dims: number[]
  type: number
  typeName: string
  /** Offset relative to the data section, as stored. */
  offset: number
  /** Absolute offset in the file. */
  fileOffset: number
  bytes: number
  elements: number
}

export interface GgufFile {
  version: number
  alignment: number
  metadata: Map<string, GgufValue>
  tensors: GgufTensorInfo[]
  /** Absolute offset of the tensor data section. */
  dataOffset: number
  /** The whole file. */
  bytes: Uint8Array
}

export class GgufError extends Error {}

const VALUE_NAMES = Object.fromEntries(Object.entries(GGUF_VALUE).map(([k, v]) => [v, k])) as Record<number, string>
export const valueTypeName = (t: number): string => VALUE_NAMES[t] ?? `type ${t}`

/** Fixed byte size of scalar value types; strings are 8 + len. */
const SCALAR_SIZE: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 }
const MIN_KV_BYTES = 8 + 4 + 1 // empty key, type, 1-byte value
const MIN_TENSOR_INFO_BYTES = 8 + 4 + 8 + 4 + 8 // empty name, n_dims, one dim, type, offset
const MAX_NAME_BYTES = 63 // GGML_MAX_NAME - 1 (room for the NUL)
const MAX_DIMS = 4

class Cursor {
  pos = 0
  readonly view: DataView
  constructor(readonly buf: Uint8Array, readonly source: string) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }
  fail(msg: string, at = this.pos): never {
    throw new GgufError(`${this.source}: at byte ${at}: ${msg}`)
  }
  left(): number { return this.buf.length - this.pos }
  need(n: number, what: string): void {
    if (n > this.left()) {
      this.fail(`${what} needs ${n} bytes but the file ends after ${this.left()} (file is ${this.buf.length} bytes; truncated?)`)
    }
  }
  u8(what: string) { this.need(1, what); return this.view.getUint8(this.pos++) }
  i8(what: string) { this.need(1, what); return this.view.getInt8(this.pos++) }
  u16(what: string) { this.need(2, what); const v = this.view.getUint16(this.pos, true); this.pos += 2; return v }
  i16(what: string) { this.need(2, what); const v = this.view.getInt16(this.pos, true); this.pos += 2; return v }
  u32(what: string) { this.need(4, what); const v = this.view.getUint32(this.pos, true); this.pos += 4; return v }
  i32(what: string) { this.need(4, what); const v = this.view.getInt32(this.pos, true); this.pos += 4; return v }
  f32(what: string) { this.need(4, what); const v = this.view.getFloat32(this.pos, true); this.pos += 4; return v }
  f64(what: string) { this.need(8, what); const v = this.view.getFloat64(this.pos, true); this.pos += 8; return v }
  u64big(what: string) { this.need(8, what); const v = this.view.getBigUint64(this.pos, true); this.pos += 8; return v }
  i64big(what: string) { this.need(8, what); const v = this.view.getBigInt64(this.pos, true); this.pos += 8; return v }
  /** A u64 used as a count or size: must fit a JS number. */
  u64(what: string): number {
    const at = this.pos
    const v = this.u64big(what)
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} is ${v}, which is impossibly large`, at)
    return Number(v)
  }
  /** A count of items each at least `minBytes` long: must fit in what is left. */
  count(what: string, minBytes: number): number {
    const at = this.pos
    const n = this.u64(what)
    if (n * minBytes > this.left()) {
      this.fail(`${what} is ${n}, but only ${this.left()} bytes are left (each needs >= ${minBytes}); corrupt or truncated file`, at)
    }
    return n
  }
  string(what: string): string {
    const at = this.pos
    const len = this.u64(`length of ${what}`)
    if (len > this.left()) this.fail(`${what}: string length ${len} runs past the end of the file (${this.left()} bytes left)`, at)
    const bytes = this.buf.subarray(this.pos, this.pos + len)
    this.pos += len
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    } catch {
      return this.fail(`${what} is not valid UTF-8`, at)
    }
  }
}

function readScalar(c: Cursor, type: number, what: string): GgufScalar {
  switch (type) {
    case GGUF_VALUE.UINT8: return c.u8(what)
    case GGUF_VALUE.INT8: return c.i8(what)
    case GGUF_VALUE.UINT16: return c.u16(what)
    case GGUF_VALUE.INT16: return c.i16(what)
    case GGUF_VALUE.UINT32: return c.u32(what)
    case GGUF_VALUE.INT32: return c.i32(what)
    case GGUF_VALUE.FLOAT32: return c.f32(what)
    case GGUF_VALUE.FLOAT64: return c.f64(what)
    case GGUF_VALUE.UINT64: return smallest(c.u64big(what))
    case GGUF_VALUE.INT64: return smallest(c.i64big(what))
    case GGUF_VALUE.STRING: return c.string(what)
    case GGUF_VALUE.BOOL: {
      const at = c.pos
      const b = c.u8(what)
      if (b > 1) c.fail(`${what}: BOOL value ${b} is neither 0 nor 1`, at)
      return b === 1
    }
    default:
      return c.fail(`${what}: unknown value type ${type} (known: 0..12)`, c.pos - 4)
  }
}

/** 64-bit integers come back as numbers when exact, else as bigint. */
function smallest(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v
}

function readValue(c: Cursor, type: number, what: string): GgufValue {
  if (type !== GGUF_VALUE.ARRAY) return { type, value: readScalar(c, type, what) }
  const itemType = c.u32(`${what}: array item type`)
  if (itemType === GGUF_VALUE.ARRAY) c.fail(`${what}: nested arrays are not supported (llama.cpp refuses them too)`, c.pos - 4)
  const minBytes = itemType === GGUF_VALUE.STRING ? 8 : SCALAR_SIZE[itemType]
  if (minBytes === undefined) c.fail(`${what}: unknown array item type ${itemType} (known: 0..12)`, c.pos - 4)
  const n = c.count(`${what}: array length`, minBytes)
  const value: GgufScalar[] = new Array(n)
  for (let i = 0; i < n; i++) value[i] = readScalar(c, itemType, `${what}[${i}]`)
  return { type, itemType, value }
}

/** Parse and validate a whole GGUF file held in memory. `source` names it in errors. */
export function parseGguf(buf: Uint8Array, source = 'gguf'): GgufFile {
  const c = new Cursor(buf, source)
  if (buf.length < 24) c.fail(`file is ${buf.length} bytes, too short for a GGUF header (24 bytes)`, 0)
  const magic = String.fromCharCode(...buf.subarray(0, 4))
  if (magic !== 'GGUF') {
    c.fail(`bad magic ${JSON.stringify(magic)} (bytes ${[...buf.subarray(0, 4)].map(b => b.toString(16).padStart(2, '0')).join(' ')}); ` +
      `a GGUF file starts with "GGUF" (47 47 55 46)`, 0)
  }
  c.pos = 4
  const version = c.u32('version')
  if (version === 0x03000000 || version === 0x02000000) c.fail(`version field reads ${version}: this looks like a big-endian GGUF; only little-endian is supported`, 4)
  if (version === 1) c.fail('GGUF v1 is not supported (it used 32-bit counts); reconvert the model to v3', 4)
  if (version !== 2 && version !== 3) c.fail(`unsupported GGUF version ${version} (this reader knows 2 and 3)`, 4)
  const nTensors = c.count('tensor count', MIN_TENSOR_INFO_BYTES)
  const nKV = c.count('metadata count', MIN_KV_BYTES)

  const metadata = new Map<string, GgufValue>()
  for (let i = 0; i < nKV; i++) {
    const at = c.pos
    const key = c.string(`metadata key #${i}`)
    if (metadata.has(key)) c.fail(`metadata key ${JSON.stringify(key)} appears twice`, at)
    const type = c.u32(`type of ${key}`)
    metadata.set(key, readValue(c, type, key))
  }

  let alignment = GGUF_DEFAULT_ALIGNMENT
  const align = metadata.get('general.alignment')
  if (align) {
    if (align.type !== GGUF_VALUE.UINT32) c.fail(`general.alignment has type ${valueTypeName(align.type)}, must be UINT32`, 0)
    alignment = align.value as number
    if (alignment === 0 || (alignment & (alignment - 1)) !== 0) c.fail(`general.alignment ${alignment} is not a power of two`, 0)
  }

  const tensors: GgufTensorInfo[] = []
  const names = new Set<string>()
  let expectedOffset = 0
  for (let i = 0; i < nTensors; i++) {
    const at = c.pos
    const name = c.string(`tensor #${i} name`)
    const nameBytes = new TextEncoder().encode(name).length
    if (nameBytes > MAX_NAME_BYTES) c.fail(`tensor name ${JSON.stringify(name)} is ${nameBytes} bytes; ggml allows at most ${MAX_NAME_BYTES}`, at)
    if (names.has(name)) c.fail(`tensor ${JSON.stringify(name)} appears twice`, at)
    names.add(name)
    const nDims = c.u32(`${name}: n_dims`)
    if (nDims < 1 || nDims > MAX_DIMS) c.fail(`tensor ${name} has ${nDims} dims; 1..${MAX_DIMS} are allowed`, c.pos - 4)
    const dims: number[] = []
    let elements = 1
    for (let d = 0; d < nDims; d++) {
      const ne = c.u64(`${name}: ne[${d}]`)
      if (ne === 0) c.fail(`tensor ${name} has ne[${d}] = 0 (empty tensor)`, c.pos - 8)
      elements *= ne
      if (elements > Number.MAX_SAFE_INTEGER) c.fail(`tensor ${name} has an impossible element count (dims overflow)`, c.pos - 8)
      dims.push(ne)
    }
    const type = c.u32(`${name}: type`)
    const info = GGML_TYPE_INFO[type]
    if (!info) c.fail(`tensor ${name} has unknown ggml type ${type}`, c.pos - 4)
    if (dims[0] % info.blockSize !== 0) {
      c.fail(`tensor ${name}: ne[0] = ${dims[0]} is not a multiple of ${info.name}'s block size ${info.blockSize}`, at)
    }
    const offAt = c.pos
    const offset = c.u64(`${name}: offset`)
    if (offset % alignment !== 0) c.fail(`tensor ${name}: offset ${offset} is not a multiple of the alignment ${alignment}`, offAt)
    if (offset !== expectedOffset) {
      c.fail(`tensor ${name}: offset ${offset}, expected ${expectedOffset} (data must follow the infos' order, each padded to ${alignment})`, offAt)
    }
    const bytes = (elements / info.blockSize) * info.typeSize
    expectedOffset = alignUp(offset + bytes, alignment)
    tensors.push({ name, dims, type, typeName: info.name, offset, fileOffset: 0, bytes, elements })
  }

  const dataOffset = alignUp(c.pos, alignment)
  for (const t of tensors) {
    t.fileOffset = dataOffset + t.offset
    if (t.fileOffset + t.bytes > buf.length) {
      c.fail(`tensor ${t.name}: data [${t.fileOffset}, ${t.fileOffset + t.bytes}) runs past the end of the file (${buf.length} bytes; truncated?)`, t.fileOffset)
    }
  }
  return { version, alignment, metadata, tensors, dataOffset, bytes: buf }
}

/** Read, parse and validate the GGUF file at `path`. */
export async function readGguf(path: string): Promise<GgufFile> {
  return parseGguf(await readFile(path), path)
}

/** A metadata value, or an error naming the key if it is missing. */
export function metaValue(file: GgufFile, key: string): GgufScalar | GgufScalar[] {
  const kv = file.metadata.get(key)
  if (!kv) throw new GgufError(`metadata key ${key} is missing`)
  return kv.value
}

export function findTensor(file: GgufFile, name: string): GgufTensorInfo {
  const t = file.tensors.find(x => x.name === name)
  if (!t) throw new GgufError(`tensor ${name} is not in the file`)
  return t
}

/** The raw bytes of a tensor (a view into the file). */
export function tensorBytesOf(file: GgufFile, name: string): Uint8Array {
  const t = findTensor(file, name)
  return file.bytes.subarray(t.fileOffset, t.fileOffset + t.bytes)
}

/** A tensor decoded to float32 (F32, F16, Q8_0, Q4_0). */
export function tensorFloats(file: GgufFile, name: string): Float32Array {
  const t = findTensor(file, name)
  return dequantize(t.type, tensorBytesOf(file, name), t.elements)
}
