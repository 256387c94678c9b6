// gguf-cli.ts — `slm-gguf <file>` (bin/slm-gguf.js): a GGUF file's metadata and tensor table, as text.
// The file is fully validated first (gguf-read.ts), so a malformed file prints its error.

import { readFileSync } from 'node:fs'
import { parseGguf, valueTypeName, type GgufValue } from './gguf-read.js'
import { GGUF_VALUE, type GgufScalar } from './gguf-write.js'

const MAX_ITEMS = 6 // array items shown before "…"
const MAX_CHARS = 60 // string values are cut here

function show(v: GgufScalar, type: number): string {
  if (type === GGUF_VALUE.FLOAT32 && typeof v === 'number') return String(shortestFloat32(v))
  if (typeof v === 'string') return JSON.stringify(v.length > MAX_CHARS ? v.slice(0, MAX_CHARS) + '…' : v)
  return String(v)
}

/** The shortest decimal that reads back as the same float32 (1e-5, not 0.0000099999997). */
function shortestFloat32(v: number): number {
  for (let p = 1; p < 9; p++) {
    const d = Number(v.toPrecision(p))
    if (Math.fround(d) === v) return d
  }
  return v
}

function showValue(kv: GgufValue): { type: string; text: string } {
  if (kv.type === GGUF_VALUE.ARRAY && 'itemType' in kv) {
    const items = kv.value.slice(0, MAX_ITEMS).map(v => show(v, kv.itemType)).join(', ')
    const more = kv.value.length > MAX_ITEMS ? `, … ${kv.value.length - MAX_ITEMS} more` : ''
    return { type: `${valueTypeName(kv.itemType)}[${kv.value.length}]`, text: `[${items}${more}]` }
  }
  return { type: valueTypeName(kv.type), text: show(kv.value as GgufScalar, kv.type) }
}

/** Human-readable summary of the GGUF at `path`; throws GgufError on a malformed file. */
export function describeGguf(path: string): string {
  const file = parseGguf(readFileSync(path), path)
  const lines: string[] = []
  const params = file.tensors.reduce((n, t) => n + t.elements, 0)
  lines.push(`${path}: GGUF v${file.version}, ${file.bytes.length} bytes, alignment ${file.alignment}, tensor data at byte ${file.dataOffset}`)
  lines.push('', `metadata (${file.metadata.size} keys):`)
  const keyWidth = Math.max(...[...file.metadata.keys()].map(k => k.length), 3)
  for (const [key, kv] of file.metadata) {
    const { type, text } = showValue(kv)
    lines.push(`  ${key.padEnd(keyWidth)}  ${type.padEnd(12)}  ${text}`)
  }
  lines.push('', `tensors (${file.tensors.length}, ${params} parameters):`)
  const rows = file.tensors.map((t, i) => [String(i), t.name, t.typeName, t.dims.join(' x '), String(t.offset), String(t.bytes)])
  const head = ['#', 'name', 'type', 'ne', 'offset', 'bytes']
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map(r => r[c].length)))
  const fmt = (r: string[]) => '  ' + r.map((s, c) => (c >= 4 ? s.padStart(widths[c]) : s.padEnd(widths[c]))).join('  ')
  lines.push(fmt(head), ...rows.map(fmt))
  return lines.join('\n') + '\n'
}
