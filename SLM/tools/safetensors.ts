// safetensors (https://huggingface.co/docs/safetensors) read/write for the model stages:
// u64 little-endian header length N, N bytes of JSON header {name: {dtype, shape,
// data_offsets: [begin, end]}, "__metadata__": {string: string}}, then the tensor bytes.
// Reading converts F32/F16/BF16 to Float32Array; writing always stores F32.
import { openSync, readSync, closeSync, fstatSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export interface Tensor {
  dtype: string;          // as stored: 'F32', 'F16' or 'BF16' (data is always float32)
  shape: number[];
  data: Float32Array;
}

export interface Safetensors {
  metadata: Record<string, string>;
  tensors: Map<string, Tensor>;  // in file order
}

const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };

export function readSafetensors(path: string): Safetensors {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const lenBuf = Buffer.alloc(8);
    if (size < 8 || readSync(fd, lenBuf, 0, 8, 0) !== 8) throw new Error(`${path}: too short for safetensors`);
    const headerLen = Number(lenBuf.readBigUInt64LE(0));
    if (headerLen > size - 8) throw new Error(`${path}: header length ${headerLen} exceeds file size ${size}; not a safetensors file`);
    const hbuf = Buffer.alloc(headerLen);
    readSync(fd, hbuf, 0, headerLen, 8);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(hbuf.toString('utf8'));
    } catch (e) {
      throw new Error(`${path}: bad JSON header: ${(e as Error).message}`);
    }
    const dataStart = 8 + headerLen;
    const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
    const entries = Object.entries(header).filter(([k]) => k !== '__metadata__') as
      [string, { dtype: string; shape: number[]; data_offsets: [number, number] }][];
    entries.sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
    const tensors = new Map<string, Tensor>();
    for (const [name, info] of entries) {
      const width = BYTES[info.dtype];
      if (!width) throw new Error(`${path}: tensor ${name} has dtype ${info.dtype}; only F32, F16, BF16 are supported`);
      const [begin, end] = info.data_offsets;
      const count = info.shape.reduce((a, b) => a * b, 1);
      if (end - begin !== count * width || dataStart + end > size) {
        throw new Error(`${path}: tensor ${name}: data_offsets [${begin}, ${end}] do not match shape [${info.shape}] ${info.dtype} or run past the end of the file`);
      }
      const raw = Buffer.alloc(end - begin);
      readSync(fd, raw, 0, raw.length, dataStart + begin);
      tensors.set(name, { dtype: info.dtype, shape: info.shape, data: decode(raw, info.dtype, count) });
    }
    return { metadata, tensors };
  } finally {
    closeSync(fd);
  }
}

function decode(raw: Buffer, dtype: string, count: number): Float32Array {
  if (dtype === 'F32') {   // hosts are little-endian; copy to get an aligned, owned array
    return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + 4 * count));
  }
  const out = new Float32Array(count);
  if (dtype === 'BF16') {
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) u[i] = raw.readUInt16LE(2 * i) << 16;
  } else {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(raw.readUInt16LE(2 * i));
  }
  return out;
}

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

export type TensorInput = { shape: number[]; data: Float32Array | number[] };

/**
 * Writes tensors (a Map or object, in insertion order) as F32 with the given string
 * metadata. Atomic: writes path.tmp, then renames.
 */
export function writeSafetensors(path: string, tensors: Map<string, TensorInput> | Record<string, TensorInput>,
                                 metadata: Record<string, string> = {}): void {
  const list = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of list) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`writeSafetensors: tensor ${name} has shape [${t.shape}] (${count} values) but ${t.data.length} values`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * count] };
    offset += 4 * count;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);   // data 8-byte aligned
  const hbuf = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + hbuf.length + offset);
  out.writeBigUInt64LE(BigInt(hbuf.length), 0);
  hbuf.copy(out, 8);
  let pos = 8 + hbuf.length;
  for (const [, t] of list) {
    const f32 = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
    Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength).copy(out, pos);
    pos += f32.byteLength;
  }
  mkdirSync(dirname(resolve(path)), { recursive: true });
  writeFileSync(`${path}.tmp`, out);
  renameSync(`${path}.tmp`, path);
}
