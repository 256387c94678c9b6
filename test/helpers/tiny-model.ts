// tiny-model.ts — a small random-weight llama model (config, tokenizer.json, tensors)
// for export/GGUF/llama.cpp tests: dim 64, 2 layers, vocab 300, seeded so every run
// and every engineer gets the same weights.

import { BYTE_TO_CHAR, EOT } from '../../SLM/tools/bpe-bytes.js'
import { expectedTensors, type FloatTensor, type ModelConfig } from '../../SLM/tools/export.js'

export const TINY_CONFIG: ModelConfig = {
  name: 'tiny-test', vocab_size: 300, dim: 64, n_layers: 2, n_heads: 4, n_kv_heads: 2,
  ffn_dim: 128, seq_len: 128, rope_theta: 10000, norm_eps: 1e-5,
}

/** 256 byte tokens (id = byte), 43 merges, then <|endoftext|> = 299. HF tokenizers format. */
export function tinyTokenizerJson(): object {
  const vocab: Record<string, number> = {}
  for (let b = 0; b < 256; b++) vocab[BYTE_TO_CHAR[b]] = b
  const pairs: [string, string][] = [...'etaoinshrdlucmfwypvbgk'].map(c => ['Ġ', c])
  for (const p of ['th', 'he', 'in', 'er', 'an', 're', 'on', 'at', 'en', 'nd', 'ti', 'es', 'or', 'te', 'of', 'ed', 'is', 'it', 'al', 'ar', 'st']) {
    pairs.push([p[0], p[1]])
  }
  const merges = pairs.map(([a, b]) => {
    vocab[a + b] = Object.keys(vocab).length
    return `${a} ${b}`
  })
  const eotId = Object.keys(vocab).length
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: eotId, content: EOT, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, fuse_unk: false, byte_fallback: false, vocab, merges },
  }
}

/** mulberry32: a tiny seeded PRNG, so weights are reproducible across machines. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Standard normal samples (Box–Muller). */
export function gaussian(n: number, std: number, rand: () => number): Float32Array {
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    const u = 1 - rand()
    const v = rand()
    out[i] = std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }
  return out
}

/**
 * Random weights with the checkpoint contract's names and shapes. Matrices have std
 * 1/sqrt(fan_in) and embeddings std 1, so logits are spread out and greedy choices are
 * decisive (not ties that rounding differences could flip); norms are near 1.
 */
export function tinyTensors(cfg: ModelConfig = TINY_CONFIG, seed = 1234): Map<string, FloatTensor> {
  const rand = rng(seed)
  const out = new Map<string, FloatTensor>()
  for (const { name, shape } of expectedTensors(cfg)) {
    const n = shape.reduce((a, b) => a * b, 1)
    let data: Float32Array
    if (shape.length === 1) data = gaussian(n, 0.1, rand).map(x => 1 + x)
    else if (name === 'token_embd.weight') data = gaussian(n, 1, rand)
    else data = gaussian(n, 1 / Math.sqrt(shape[1]), rand)
    out.set(name, { shape, data })
  }
  return out
}
