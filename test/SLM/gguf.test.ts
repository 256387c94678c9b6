import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync, readFileSync, writeFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gguf as hfGguf } from '@huggingface/gguf'
import { buildGguf, exportGguf, expectedTensors, type ExportType } from '../../SLM/tools/export.js'
import { writeGguf, encodeGguf, GGUF_VALUE, type GgufOut } from '../../SLM/tools/gguf-write.js'
import { parseGguf, readGguf, tensorFloats, metaValue, GgufError } from '../../SLM/tools/gguf-read.js'
import { describeGguf } from '../../SLM/tools/gguf-cli.js'
import { writeSafetensors } from '../../SLM/tools/safetensors.js'
import { GGML_TYPE, quantize, dequantize } from '../../SLM/tools/quantize.js'
import { TINY_CONFIG, tinyTensors, tinyTokenizerJson, rng } from '../helpers/tiny-model.js'

const dir = mkdtempSync(join(tmpdir(), 'gguf-test-'))
const tensors = tinyTensors()
const TYPES: ExportType[] = ['f32', 'q8_0', 'q4_0']
const paths = Object.fromEntries(TYPES.map(t => [t, join(dir, `tiny-${t}.gguf`)])) as Record<ExportType, string>

test.before(async () => {
  for (const t of TYPES) await writeGguf(paths[t], buildGguf(TINY_CONFIG, tinyTokenizerJson(), tensors, t))
})
test.after(() => rmSync(dir, { recursive: true, force: true }))

test('@huggingface/gguf parses every file; keys, types and tensors match the config', async () => {
  const V = GGUF_VALUE
  const c = TINY_CONFIG
  const want: Record<string, [number, unknown]> = {
    'general.architecture': [V.STRING, 'llama'],
    'general.name': [V.STRING, 'tiny-test'],
    'general.alignment': [V.UINT32, 32],
    'general.quantization_version': [V.UINT32, 2],
    'llama.context_length': [V.UINT32, c.seq_len],
    'llama.embedding_length': [V.UINT32, c.dim],
    'llama.block_count': [V.UINT32, c.n_layers],
    'llama.feed_forward_length': [V.UINT32, c.ffn_dim],
    'llama.attention.head_count': [V.UINT32, c.n_heads],
    'llama.attention.head_count_kv': [V.UINT32, c.n_kv_heads],
    'llama.rope.dimension_count': [V.UINT32, c.dim / c.n_heads],
    'llama.attention.layer_norm_rms_epsilon': [V.FLOAT32, Math.fround(c.norm_eps)],
    'llama.rope.freq_base': [V.FLOAT32, c.rope_theta],
    'llama.vocab_size': [V.UINT32, c.vocab_size],
    'tokenizer.ggml.model': [V.STRING, 'gpt2'],
    'tokenizer.ggml.pre': [V.STRING, 'gpt-2'],
    'tokenizer.ggml.bos_token_id': [V.UINT32, 299],
    'tokenizer.ggml.eos_token_id': [V.UINT32, 299],
  }
  for (const [t, fileType, ggml] of [['f32', 0, 0], ['q8_0', 7, 8], ['q4_0', 2, 2]] as const) {
    const parsed = await hfGguf(paths[t], { allowLocalFile: true, typedMetadata: true })
    const md = parsed.typedMetadata as Record<string, { value: unknown; type: number; subType?: number }>
    assert.is(md.version.value, 3)
    for (const [key, [type, value]] of Object.entries(want)) {
      assert.is(md[key]?.type, type, `${t} ${key} type`)
      assert.is(md[key].value, value, `${t} ${key} value`)
    }
    assert.equal([md['general.file_type'].type, md['general.file_type'].value], [V.UINT32, fileType])
    const tokens = md['tokenizer.ggml.tokens']
    assert.is(tokens.subType, V.STRING)
    assert.is((tokens.value as string[]).length, 300)
    assert.is(new Set(tokens.value as string[]).size, 300, 'tokens unique')
    assert.is((tokens.value as string[])[299], '<|endoftext|>')
    const types = md['tokenizer.ggml.token_type']
    assert.is(types.subType, V.INT32)
    assert.equal([(types.value as number[])[0], (types.value as number[])[299]], [1, 3])
    assert.is((md['tokenizer.ggml.merges'].value as string[])[0], 'Ġ e')
    // tensors: contract order, GGUF dims = PyTorch shape reversed, 2-D quantized, norms F32
    const expected = expectedTensors(TINY_CONFIG)
    assert.equal(parsed.tensorInfos.map(x => x.name), expected.map(x => x.name))
    let prevEnd = 0n
    for (const [i, info] of parsed.tensorInfos.entries()) {
      assert.equal(info.shape.map(Number), [...expected[i].shape].reverse(), info.name)
      assert.is(info.dtype as number, expected[i].shape.length === 2 ? ggml : 0, `${info.name} dtype`)
      assert.is(info.offset % 32n, 0n, `${info.name} aligned`)
      assert.ok(info.offset >= prevEnd, `${info.name} in data order`)
      prevEnd = info.offset
    }
    assert.is(parsed.tensorDataOffset % 32n, 0n)
  }
})

test('our reader round-trips the tensors (F32 exact, quantized = dequantize(quantize(x)))', async () => {
  for (const [t, type] of [['f32', GGML_TYPE.F32], ['q8_0', GGML_TYPE.Q8_0], ['q4_0', GGML_TYPE.Q4_0]] as const) {
    const file = await readGguf(paths[t])
    assert.is(file.tensors.length, 21)
    assert.is(metaValue(file, 'llama.embedding_length'), 64)
    for (const [name, x] of tensors) {
      const got = tensorFloats(file, name)
      const expect = x.shape.length === 1 ? x.data : dequantize(type, quantize(type, x.data), x.data.length)
      assert.ok(got.length === expect.length && got.every((v, i) => v === expect[i]), `${t} ${name}`)
    }
  }
  const sizes = TYPES.map(t => statSync(paths[t]).size)
  console.log(`  tiny model (dim 64, 2 layers, vocab 300): f32 ${sizes[0]} B, q8_0 ${sizes[1]} B, q4_0 ${sizes[2]} B`)
  assert.ok(sizes[0] > sizes[1] && sizes[1] > sizes[2])
})

test('writeGguf streams exactly the bytes encodeGguf builds; the writer refuses bad input', () => {
  const g = buildGguf(TINY_CONFIG, tinyTokenizerJson(), tensors, 'q4_0')
  assert.ok(Buffer.from(encodeGguf(g)).equals(readFileSync(paths.q4_0)))
  const bad = (mutate: (g: GgufOut) => void, re: RegExp) => {
    const copy: GgufOut = { metadata: [...g.metadata], tensors: g.tensors.map(t => ({ ...t })) }
    mutate(copy)
    assert.throws(() => encodeGguf(copy), re)
  }
  bad(g => g.tensors.push({ ...g.tensors[0] }), /token_embd.weight given twice/)
  bad(g => (g.tensors[1].data = new Uint8Array(3)), /3 bytes of data/)
  bad(g => (g.tensors[0].dims = [48, 400]), /not a multiple of Q4_0's block size/)
  bad(g => g.metadata.push({ key: 'general.name', type: GGUF_VALUE.STRING, value: 'x' }), /general.name given twice/)
  bad(g => g.metadata.push({ key: 'x.y', type: GGUF_VALUE.UINT32, value: -1 }), /x.y: -1 is not an integer/)
})

test('export refuses checkpoints that do not match the config or contract', () => {
  const tok = tinyTokenizerJson()
  const without = new Map(tensors)
  without.delete('blk.1.ffn_up.weight')
  assert.throws(() => buildGguf(TINY_CONFIG, tok, without, 'f32'), /blk.1.ffn_up.weight is missing/)
  const extra = new Map(tensors).set('rope.freqs', { shape: [8], data: new Float32Array(8) })
  assert.throws(() => buildGguf(TINY_CONFIG, tok, extra, 'f32'), /unexpected tensors rope.freqs/)
  assert.throws(() => buildGguf({ ...TINY_CONFIG, ffn_dim: 96 }, tok, tensors, 'f32'), /ffn_gate.weight has shape \[128,64\], config says \[96,64\]/)
  assert.throws(() => buildGguf(TINY_CONFIG, tok, tensors, 'q5_0' as ExportType), /not one of f32, q8_0, q4_0/)
  const noEot = JSON.parse(JSON.stringify(tok))
  noEot.added_tokens = []
  assert.throws(() => buildGguf({ ...TINY_CONFIG }, noEot, tensors, 'f32'), /no <\|endoftext\|> token/)
  const noByte = JSON.parse(JSON.stringify(tok))
  delete noByte.model.vocab['Ċ']
  assert.throws(() => buildGguf(TINY_CONFIG, noByte, tensors, 'f32'), /no token has id 10/)
})

// ---- malformed files ----------------------------------------------------------------

/** A small valid file: a few keys of every kind and two tensors. */
function smallFile(): Uint8Array {
  const x = new Float32Array(64).map((_, i) => i / 10 - 3)
  return encodeGguf({
    metadata: [
      { key: 'general.architecture', type: GGUF_VALUE.STRING, value: 'llama' },
      { key: 'general.alignment', type: GGUF_VALUE.UINT32, value: 32 },
      { key: 'test.flag', type: GGUF_VALUE.BOOL, value: true },
      { key: 'test.list', type: GGUF_VALUE.ARRAY, itemType: GGUF_VALUE.INT32, value: [1, -2, 3] },
      { key: 'test.words', type: GGUF_VALUE.ARRAY, itemType: GGUF_VALUE.STRING, value: ['a', 'bc'] },
    ],
    tensors: [
      { name: 'a.weight', dims: [32, 2], type: GGML_TYPE.Q8_0, data: quantize(GGML_TYPE.Q8_0, x) },
      { name: 'b.weight', dims: [5], type: GGML_TYPE.F32, data: quantize(GGML_TYPE.F32, x.slice(0, 5)) },
    ],
  })
}

const enc = new TextEncoder()
/** Offset just past the first occurrence of `s` in the file (a key's or name's bytes). */
function after(buf: Uint8Array, s: string): number {
  const at = Buffer.from(buf).indexOf(enc.encode(s))
  assert.ok(at >= 0, `${s} in file`)
  return at + s.length
}
function patch(buf: Uint8Array, f: (v: DataView, b: Uint8Array) => void): Uint8Array {
  const copy = buf.slice()
  f(new DataView(copy.buffer), copy)
  return copy
}
function refuses(buf: Uint8Array, re: RegExp): void {
  try {
    parseGguf(buf, 'bad.gguf')
  } catch (e) {
    assert.instance(e, GgufError)
    assert.match((e as Error).message, /^bad\.gguf: at byte \d+: /)
    assert.match((e as Error).message, re)
    return
  }
  assert.unreachable(`accepted a file that should fail with ${re}`)
}

test('the small valid file parses', () => {
  const f = parseGguf(smallFile())
  assert.equal(f.metadata.get('test.list')?.value, [1, -2, 3])
  assert.equal(f.tensors.map(t => [t.name, t.typeName, t.offset, t.bytes]), [['a.weight', 'Q8_0', 0, 68], ['b.weight', 'F32', 96, 20]])
})

test('refuses: every truncation', () => {
  const buf = smallFile()
  const end = parseGguf(buf).tensors[1].fileOffset + 20 // trailing padding after the last tensor is optional, as in llama.cpp
  for (let n = 0; n < end; n++) refuses(buf.subarray(0, n), /too short|truncated|runs past the end|only \d+ bytes are left/)
})

test('refuses: magic, version, endianness', () => {
  const buf = smallFile()
  refuses(patch(buf, (_, b) => (b[0] = 0x46)), /bad magic "FGUF".*starts with "GGUF"/)
  refuses(patch(buf, v => v.setUint32(4, 1, true)), /v1 is not supported/)
  refuses(patch(buf, v => v.setUint32(4, 4, true)), /unsupported GGUF version 4/)
  refuses(patch(buf, v => v.setUint32(4, 3, false)), /big-endian/)
})

test('refuses: absurd counts and lengths, without allocating them', () => {
  const buf = smallFile()
  const huge = 2n ** 63n
  refuses(patch(buf, v => v.setBigUint64(8, huge, true)), /tensor count is 9223372036854775808, which is impossibly large/)
  refuses(patch(buf, v => v.setBigUint64(8, 2n ** 40n, true)), /tensor count is 1099511627776, but only \d+ bytes are left/)
  refuses(patch(buf, v => v.setBigUint64(16, 2n ** 40n, true)), /metadata count is 1099511627776, but only/)
  refuses(patch(buf, v => v.setBigUint64(24, 10_000_000n, true)), /string length 10000000 runs past the end/)
  const list = after(buf, 'test.list') + 4 + 4 // past key, value type, item type
  refuses(patch(buf, v => v.setBigUint64(list, 2n ** 50n, true)), /test.list: array length is 1125899906842624, but only/)
  const name = after(buf, 'a.weight') + 4 // past name and n_dims: ne[0]
  refuses(patch(buf, v => v.setBigUint64(name + 8, 2n ** 52n, true)), /impossible element count|runs past the end/)
})

test('refuses: unknown types, bad values, duplicates', () => {
  const buf = smallFile()
  refuses(patch(buf, v => v.setUint32(after(buf, 'test.flag'), 13, true)), /test.flag: unknown value type 13/)
  refuses(patch(buf, (_, b) => (b[after(buf, 'test.flag') + 4] = 2)), /BOOL value 2 is neither 0 nor 1/)
  refuses(patch(buf, v => v.setUint32(after(buf, 'test.list') + 4, 9, true)), /nested arrays are not supported/)
  refuses(patch(buf, v => v.setUint32(after(buf, 'test.list') + 4, 42, true)), /unknown array item type 42/)
  refuses(patch(buf, (_, b) => b.set(enc.encode('test.flag'), after(buf, 'test.list') - 9)), /key "test.flag" appears twice/)
  refuses(patch(buf, v => v.setUint32(after(buf, 'general.alignment') + 4, 24, true)), /alignment 24 is not a power of two/)
  refuses(patch(buf, (_, b) => (b[after(buf, 'test.words') + 4 + 4 + 8 + 8] = 0xff)), /test.words\[0\] is not valid UTF-8/)
  const a = after(buf, 'a.weight')
  refuses(patch(buf, (_, b) => b.set(enc.encode('a'), after(buf, 'b.weight') - 8)), /tensor "a.weight" appears twice/)
  refuses(patch(buf, v => v.setUint32(a, 5, true)), /has 5 dims; 1..4 are allowed/)
  refuses(patch(buf, v => v.setUint32(a + 4 + 16, 99, true)), /unknown ggml type 99/)
  refuses(patch(buf, v => v.setBigUint64(a + 4, 48n, true)), /ne\[0\] = 48 is not a multiple of Q8_0's block size 32/)
  refuses(patch(buf, v => v.setBigUint64(a + 4, 0n, true)), /ne\[0\] = 0/)
})

test('refuses: misaligned, out-of-order and out-of-file tensor data', () => {
  const buf = smallFile()
  const bOffset = after(buf, 'b.weight') + 4 + 8 + 4
  refuses(patch(buf, v => v.setBigUint64(bOffset, 100n, true)), /b.weight: offset 100 is not a multiple of the alignment 32/)
  refuses(patch(buf, v => v.setBigUint64(bOffset, 128n, true)), /b.weight: offset 128, expected 96/)
  refuses(patch(buf, v => v.setBigUint64(after(buf, 'b.weight') + 4, 1000n, true)), /b.weight: data \[\d+, \d+\) runs past the end of the file/)
})

test('random corruption: always a GgufError or a valid parse, never a hang or a crash', () => {
  const buf = smallFile()
  const r = rng(42) // seeded: a failing mutation can be replayed
  const rand = (n: number) => Math.floor(r() * n)
  const t0 = Date.now()
  for (let i = 0; i < 3000; i++) {
    const b = buf.slice()
    for (let k = 0; k < 1 + rand(4); k++) b[rand(b.length)] = rand(256)
    try {
      parseGguf(b)
    } catch (e) {
      if (!(e instanceof GgufError)) throw new Error(`mutation ${i}: ${(e as Error).stack}`)
    }
  }
  assert.ok(Date.now() - t0 < 5000, 'fuzzing 3000 files took over 5 s')
})

test('describeGguf prints metadata and the tensor table', () => {
  const text = describeGguf(paths.q4_0)
  assert.match(text, /GGUF v3, \d+ bytes, alignment 32/)
  assert.match(text, /general\.file_type\s+UINT32\s+2/)
  assert.match(text, /llama\.attention\.layer_norm_rms_epsilon\s+FLOAT32\s+0\.00001\n/)
  assert.match(text, /tokenizer\.ggml\.tokens\s+STRING\[300\]\s+\["Ā", "ā", "Ă", "ă", "Ą", "ą", … 294 more\]/)
  assert.match(text, /tensors \(21, \d+ parameters\)/)
  assert.match(text, /0\s+token_embd\.weight\s+Q4_0\s+64 x 300\s+0\s+10800/)
  assert.match(text, /blk\.1\.ffn_norm\.weight\s+F32\s+64\s/)
  const bad = join(dir, 'bad.gguf')
  writeFileSync(bad, 'GGUX is not a model, just some text')
  assert.throws(() => describeGguf(bad), /bad\.gguf: at byte 0: bad magic "GGUX"/)
})

test('exportGguf: files in, file out, same bytes as the in-memory build', async () => {
  const ckpt = join(dir, 'model.safetensors')
  const config = join(dir, 'config.json')
  const tokenizer = join(dir, 'tokenizer.json')
  writeSafetensors(ckpt, tensors, { config: JSON.stringify(TINY_CONFIG), step: '10' })
  writeFileSync(config, JSON.stringify({ ...TINY_CONFIG, train: { steps: 10 } }))
  writeFileSync(tokenizer, JSON.stringify(tinyTokenizerJson()))
  const out = join(dir, 'exported-q8_0.gguf')
  await exportGguf({ checkpoint: ckpt, tokenizer, config, type: 'q8_0', out })
  assert.ok(readFileSync(out).equals(readFileSync(paths.q8_0)))
  writeFileSync(config, JSON.stringify({ ...TINY_CONFIG, norm_eps: 1e-6 }))
  try {
    await exportGguf({ checkpoint: ckpt, tokenizer, config, type: 'q8_0', out })
    assert.unreachable('exported under a different config')
  } catch (e) {
    assert.match((e as Error).message, /was trained with norm_eps=0.00001 but .*config.json says 0.000001/)
  }
})

test.run()
