// export.ts — checkpoint + tokenizer + config → a llama.cpp-loadable GGUF (the `gguf` stage).
//
// The checkpoint's tensors already carry GGUF names and PyTorch shapes [out, in]; GGUF
// dims are those reversed (ne[0] = in, the contiguous one). Weights were trained with
// ggml's "norm" RoPE (adjacent pairs), so Q and K need no permutation. In q8_0/q4_0 files
// every 2-D weight is quantized (token_embd and output too); 1-D norm weights stay F32,
// as llama.cpp's own quantizer does.

import { readFile } from 'node:fs/promises'
import { BYTE_TO_CHAR, EOT } from './bpe-bytes.js'
import { readSafetensors } from './safetensors.js'
import { GGML_TYPE, QK, quantize, type GgmlType } from './quantize.js'
import { GGUF_VALUE, writeGguf, type GgufKV, type GgufOut, type GgufTensorOut } from './gguf-write.js'

export type ExportType = 'f32' | 'q8_0' | 'q4_0'

/** The architecture part of config.json (see notes/contracts.md). */
export interface ModelConfig {
  name?: string
  vocab_size: number
  dim: number
  n_layers: number
  n_heads: number
  n_kv_heads: number
  ffn_dim: number
  seq_len: number
  rope_theta: number
  norm_eps: number
}

export interface FloatTensor {
  shape: number[]
  data: Float32Array
}

/** What each export type means in the file: the 2-D weight type and general.file_type. */
const TYPES: Record<ExportType, { weight: GgmlType; fileType: number }> = {
  f32: { weight: GGML_TYPE.F32, fileType: 0 }, // ALL_F32
  q8_0: { weight: GGML_TYPE.Q8_0, fileType: 7 }, // MOSTLY_Q8_0
  q4_0: { weight: GGML_TYPE.Q4_0, fileType: 2 }, // MOSTLY_Q4_0
}

const TOKEN_TYPE = { NORMAL: 1, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5 } as const

/** Check config.json's architecture fields; errors say which field and why. */
export function checkConfig(raw: unknown, source = 'config.json'): ModelConfig {
  const c = raw as Record<string, unknown>
  const ints = ['vocab_size', 'dim', 'n_layers', 'n_heads', 'n_kv_heads', 'ffn_dim', 'seq_len'] as const
  for (const k of ints) {
    if (!Number.isInteger(c?.[k]) || (c[k] as number) <= 0) throw new Error(`${source}: ${k} must be a positive integer, got ${JSON.stringify(c?.[k])}`)
  }
  for (const k of ['rope_theta', 'norm_eps'] as const) {
    if (typeof c[k] !== 'number' || !((c[k] as number) > 0)) throw new Error(`${source}: ${k} must be a positive number, got ${JSON.stringify(c[k])}`)
  }
  const cfg = c as unknown as ModelConfig
  if (cfg.dim % cfg.n_heads !== 0 || (cfg.dim / cfg.n_heads) % 2 !== 0) {
    throw new Error(`${source}: dim ${cfg.dim} / n_heads ${cfg.n_heads} must be an even head size`)
  }
  if (cfg.n_heads % cfg.n_kv_heads !== 0) throw new Error(`${source}: n_heads ${cfg.n_heads} is not a multiple of n_kv_heads ${cfg.n_kv_heads}`)
  return cfg
}

/** Every tensor the model has, in file order, with its PyTorch shape [out, in]. */
export function expectedTensors(cfg: ModelConfig): { name: string; shape: number[] }[] {
  const hd = cfg.dim / cfg.n_heads
  const out = [{ name: 'token_embd.weight', shape: [cfg.vocab_size, cfg.dim] }]
  for (let i = 0; i < cfg.n_layers; i++) {
    const b = `blk.${i}.`
    out.push(
      { name: b + 'attn_norm.weight', shape: [cfg.dim] },
      { name: b + 'attn_q.weight', shape: [cfg.n_heads * hd, cfg.dim] },
      { name: b + 'attn_k.weight', shape: [cfg.n_kv_heads * hd, cfg.dim] },
      { name: b + 'attn_v.weight', shape: [cfg.n_kv_heads * hd, cfg.dim] },
      { name: b + 'attn_output.weight', shape: [cfg.dim, cfg.n_heads * hd] },
      { name: b + 'ffn_norm.weight', shape: [cfg.dim] },
      { name: b + 'ffn_gate.weight', shape: [cfg.ffn_dim, cfg.dim] },
      { name: b + 'ffn_up.weight', shape: [cfg.ffn_dim, cfg.dim] },
      { name: b + 'ffn_down.weight', shape: [cfg.dim, cfg.ffn_dim] },
    )
  }
  out.push({ name: 'output_norm.weight', shape: [cfg.dim] }, { name: 'output.weight', shape: [cfg.vocab_size, cfg.dim] })
  return out
}

/**
 * tokenizer.json (Hugging Face, byte-level BPE) → the tokenizer.ggml.* keys.
 * Ids must be 0..n-1 without gaps; if n < vocab_size the rest are filled with unused
 * placeholder tokens so the token list matches the embedding rows.
 */
export function tokenizerKVs(json: unknown, vocabSize: number, source = 'tokenizer.json'): GgufKV[] {
  const tok = json as { model?: { type?: string; vocab?: Record<string, number>; merges?: unknown[] }; added_tokens?: { id: number; content: string; special?: boolean }[] }
  if (tok?.model?.type !== 'BPE' || typeof tok.model.vocab !== 'object') {
    throw new Error(`${source}: expected a Hugging Face BPE tokenizer (model.type "BPE" with model.vocab)`)
  }
  const tokens: string[] = []
  const types: number[] = []
  const put = (id: number, text: string, type: number) => {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new Error(`${source}: token ${JSON.stringify(text)} has id ${id}, outside 0..${vocabSize - 1} (vocab_size from config)`)
    if (tokens[id] !== undefined && tokens[id] !== text) throw new Error(`${source}: id ${id} is used by both ${JSON.stringify(tokens[id])} and ${JSON.stringify(text)}`)
    tokens[id] = text
    types[id] = type
  }
  for (const [text, id] of Object.entries(tok.model.vocab)) put(id, text, TOKEN_TYPE.NORMAL)
  for (const t of tok.added_tokens ?? []) put(t.id, t.content, t.special ? TOKEN_TYPE.CONTROL : TOKEN_TYPE.USER_DEFINED)
  const n = tokens.length
  for (let id = 0; id < n; id++) if (tokens[id] === undefined) throw new Error(`${source}: no token has id ${id} (ids must run 0..${n - 1} without gaps)`)
  if (new Set(tokens).size !== n) throw new Error(`${source}: token strings are not unique`)
  for (let id = n; id < vocabSize; id++) {
    tokens[id] = `<|unused_${id}|>`
    types[id] = TOKEN_TYPE.UNUSED
  }
  const have = new Set(tokens)
  for (let b = 0; b < 256; b++) {
    if (!have.has(BYTE_TO_CHAR[b])) throw new Error(`${source}: byte token for 0x${b.toString(16).padStart(2, '0')} (${JSON.stringify(BYTE_TO_CHAR[b])}) is missing; byte-level BPE needs all 256`)
  }
  const eot = tokens.indexOf(EOT)
  if (eot < 0) throw new Error(`${source}: no ${EOT} token; it is needed as BOS/EOS`)
  const merges = (tok.model.merges ?? []).map((m, i) => {
    const s = Array.isArray(m) ? m.join(' ') : m
    if (typeof s !== 'string' || s.split(' ').length !== 2) throw new Error(`${source}: merge #${i} ${JSON.stringify(m)} is not a pair`)
    return s
  })
  return [
    { key: 'tokenizer.ggml.model', type: GGUF_VALUE.STRING, value: 'gpt2' },
    { key: 'tokenizer.ggml.pre', type: GGUF_VALUE.STRING, value: 'gpt-2' },
    { key: 'tokenizer.ggml.tokens', type: GGUF_VALUE.ARRAY, itemType: GGUF_VALUE.STRING, value: tokens },
    { key: 'tokenizer.ggml.token_type', type: GGUF_VALUE.ARRAY, itemType: GGUF_VALUE.INT32, value: types },
    { key: 'tokenizer.ggml.merges', type: GGUF_VALUE.ARRAY, itemType: GGUF_VALUE.STRING, value: merges },
    { key: 'tokenizer.ggml.bos_token_id', type: GGUF_VALUE.UINT32, value: eot },
    { key: 'tokenizer.ggml.eos_token_id', type: GGUF_VALUE.UINT32, value: eot },
  ]
}

/** general.* and llama.* keys. Types are exact: llama.cpp rejects e.g. a UINT64 head count. */
export function modelKVs(cfg: ModelConfig, type: ExportType): GgufKV[] {
  const u32 = (key: string, value: number): GgufKV => ({ key, type: GGUF_VALUE.UINT32, value })
  const f32 = (key: string, value: number): GgufKV => ({ key, type: GGUF_VALUE.FLOAT32, value })
  return [
    { key: 'general.architecture', type: GGUF_VALUE.STRING, value: 'llama' },
    { key: 'general.name', type: GGUF_VALUE.STRING, value: cfg.name ?? 'auton-slm' },
    u32('general.alignment', 32),
    u32('general.file_type', TYPES[type].fileType),
    u32('general.quantization_version', 2),
    u32('llama.context_length', cfg.seq_len),
    u32('llama.embedding_length', cfg.dim),
    u32('llama.block_count', cfg.n_layers),
    u32('llama.feed_forward_length', cfg.ffn_dim),
    u32('llama.attention.head_count', cfg.n_heads),
    u32('llama.attention.head_count_kv', cfg.n_kv_heads),
    u32('llama.rope.dimension_count', cfg.dim / cfg.n_heads),
    f32('llama.attention.layer_norm_rms_epsilon', cfg.norm_eps),
    f32('llama.rope.freq_base', cfg.rope_theta),
    u32('llama.vocab_size', cfg.vocab_size),
  ]
}

/** Assemble the GGUF in memory: metadata plus every tensor converted to its file type. */
export function buildGguf(cfg: ModelConfig, tokenizerJson: unknown, tensors: Map<string, FloatTensor>, type: ExportType, source = 'checkpoint'): GgufOut {
  if (!(type in TYPES)) throw new Error(`export: type ${JSON.stringify(type)} is not one of f32, q8_0, q4_0`)
  const want = expectedTensors(cfg)
  const extra = [...tensors.keys()].filter(n => !want.some(w => w.name === n))
  if (extra.length) throw new Error(`${source}: unexpected tensors ${extra.join(', ')} (not part of the llama layout in contracts.md)`)
  const out: GgufTensorOut[] = want.map(({ name, shape }) => {
    const t = tensors.get(name)
    if (!t) throw new Error(`${source}: tensor ${name} is missing`)
    if (t.shape.join(',') !== shape.join(',')) throw new Error(`${source}: tensor ${name} has shape [${t.shape}], config says [${shape}]`)
    const ggmlType = shape.length === 2 ? TYPES[type].weight : GGML_TYPE.F32
    if (ggmlType !== GGML_TYPE.F32 && shape[1] % QK !== 0) {
      throw new Error(`${source}: tensor ${name} rows have ${shape[1]} values, not a multiple of ${QK}; it cannot be ${type}`)
    }
    return { name, dims: [...shape].reverse(), type: ggmlType, data: quantize(ggmlType, t.data) }
  })
  return { metadata: [...modelKVs(cfg, type), ...tokenizerKVs(tokenizerJson, cfg.vocab_size)], tensors: out }
}

export interface ExportOptions {
  checkpoint: string
  tokenizer: string
  config: string
  type: ExportType
  out: string
  /**
   * What the model was made from (specs/export.md "Provenance"): the sha256 of the provenance
   * statement of `subject` (the checkpoint, as the build journal records it), written as the
   * string keys auton.provenance.sha256 and auton.provenance.subject.
   */
  provenance?: { sha256: string; subject: string }
}

/** The auton.provenance.* keys: a 64-hex digest and the path whose statement it is. */
export function provenanceKVs(p: { sha256: string; subject: string }): GgufKV[] {
  if (!/^[0-9a-f]{64}$/.test(p.sha256)) throw new Error(`export: provenance digest ${JSON.stringify(p.sha256)} is not 64 lowercase hex digits`)
  return [
    { key: 'auton.provenance.sha256', type: GGUF_VALUE.STRING, value: p.sha256 },
    { key: 'auton.provenance.subject', type: GGUF_VALUE.STRING, value: p.subject },
  ]
}

/** The `gguf` stage: write `out` from a safetensors checkpoint, tokenizer.json and config.json. */
export async function exportGguf(opts: ExportOptions): Promise<void> {
  const cfg = checkConfig(await readJson(opts.config), opts.config)
  const tokenizerJson = await readJson(opts.tokenizer)
  const ckpt = readSafetensors(opts.checkpoint) // tensors decoded to float32 whatever their stored dtype
  checkSameArchitecture(cfg, ckpt.metadata.config, opts)
  const gguf = buildGguf(cfg, tokenizerJson, ckpt.tensors, opts.type, opts.checkpoint)
  if (opts.provenance) gguf.metadata.push(...provenanceKVs(opts.provenance))
  await writeGguf(opts.out, gguf)
}

async function readJson(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8')
  try {
    return JSON.parse(text)
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`)
  }
}

/** The checkpoint records the config it was trained with; refuse to export it under another. */
export function checkSameArchitecture(cfg: ModelConfig, recorded: string | undefined, opts: { checkpoint: string; config: string }): void {
  if (!recorded) return
  let trained: Record<string, unknown>
  try {
    trained = JSON.parse(recorded)
  } catch {
    throw new Error(`${opts.checkpoint}: __metadata__.config is not JSON`)
  }
  for (const k of ['vocab_size', 'dim', 'n_layers', 'n_heads', 'n_kv_heads', 'ffn_dim', 'rope_theta', 'norm_eps'] as const) {
    if (trained[k] !== undefined && trained[k] !== cfg[k]) {
      throw new Error(`${opts.checkpoint} was trained with ${k}=${trained[k]} but ${opts.config} says ${cfg[k]}; export with the config it was trained with`)
    }
  }
}
