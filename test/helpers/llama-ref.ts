// llama-ref.ts — the model math of notes/contracts.md as a plain float64 forward pass:
// RMSNorm, RoPE on adjacent pairs (ggml "norm" mode), grouped-query attention, SwiGLU.
// Tests run it on the weights read back from a GGUF and check that llama.cpp's greedy
// tokens are the same: proof that llama.cpp reads our tensors the way the trainer meant
// (ne0 = in, no Q/K permutation, which kv head serves which q head).

import type { ModelConfig } from '../../SLM/tools/export.js'

/** Weights by GGUF tensor name, row-major [out, in] as float arrays. */
export type Weights = (name: string) => Float32Array

function rmsnorm(x: Float64Array, w: Float32Array, eps: number): Float64Array {
  let ss = 0
  for (const v of x) ss += v * v
  const s = 1 / Math.sqrt(ss / x.length + eps)
  return x.map((v, i) => v * s * w[i])
}

function matvec(w: Float32Array, x: Float64Array, rows: number): Float64Array {
  const cols = x.length
  const out = new Float64Array(rows)
  for (let r = 0; r < rows; r++) {
    let s = 0
    for (let c = 0; c < cols; c++) s += w[r * cols + c] * x[c]
    out[r] = s
  }
  return out
}

function rope(v: Float64Array, pos: number, headDim: number, base: number): void {
  for (let h = 0; h < v.length; h += headDim) {
    for (let i = 0; i < headDim; i += 2) {
      const theta = pos * Math.pow(base, -i / headDim)
      const c = Math.cos(theta)
      const s = Math.sin(theta)
      const a = v[h + i]
      const b = v[h + i + 1]
      v[h + i] = a * c - b * s
      v[h + i + 1] = a * s + b * c
    }
  }
}

/** A forward pass with its own KV cache: call it with positions 0, 1, 2, ...; returns the logits. */
export function referenceForward(cfg: ModelConfig, w: Weights): (tok: number, pos: number) => Float64Array {
  const hd = cfg.dim / cfg.n_heads
  const kvDim = cfg.n_kv_heads * hd
  const group = cfg.n_heads / cfg.n_kv_heads
  const keys: Float64Array[][] = Array.from({ length: cfg.n_layers }, () => [])
  const values: Float64Array[][] = Array.from({ length: cfg.n_layers }, () => [])
  const emb = w('token_embd.weight')
  const forward = (tok: number, pos: number): Float64Array => {
    let x = Float64Array.from(emb.subarray(tok * cfg.dim, (tok + 1) * cfg.dim))
    for (let l = 0; l < cfg.n_layers; l++) {
      const p = `blk.${l}.`
      const h = rmsnorm(x, w(p + 'attn_norm.weight'), cfg.norm_eps)
      const q = matvec(w(p + 'attn_q.weight'), h, cfg.dim)
      const k = matvec(w(p + 'attn_k.weight'), h, kvDim)
      const v = matvec(w(p + 'attn_v.weight'), h, kvDim)
      rope(q, pos, hd, cfg.rope_theta)
      rope(k, pos, hd, cfg.rope_theta)
      keys[l].push(k)
      values[l].push(v)
      const att = new Float64Array(cfg.dim)
      for (let head = 0; head < cfg.n_heads; head++) {
        const kvh = Math.floor(head / group) * hd
        const scores = keys[l].map(kt => {
          let s = 0
          for (let i = 0; i < hd; i++) s += q[head * hd + i] * kt[kvh + i]
          return s / Math.sqrt(hd)
        })
        const m = Math.max(...scores)
        const e = scores.map(s => Math.exp(s - m))
        const z = e.reduce((a, b) => a + b, 0)
        for (let t = 0; t < e.length; t++) {
          for (let i = 0; i < hd; i++) att[head * hd + i] += (e[t] / z) * values[l][t][kvh + i]
        }
      }
      const o = matvec(w(p + 'attn_output.weight'), att, cfg.dim)
      x = x.map((v, i) => v + o[i])
      const h2 = rmsnorm(x, w(p + 'ffn_norm.weight'), cfg.norm_eps)
      const gate = matvec(w(p + 'ffn_gate.weight'), h2, cfg.ffn_dim)
      const up = matvec(w(p + 'ffn_up.weight'), h2, cfg.ffn_dim)
      const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i])
      const down = matvec(w(p + 'ffn_down.weight'), act, cfg.dim)
      x = x.map((v, i) => v + down[i])
    }
    return matvec(w('output.weight'), rmsnorm(x, w('output_norm.weight'), cfg.norm_eps), cfg.vocab_size)
  }
  return forward
}

/** The logits after each token of `prompt`. */
export function referenceLogits(cfg: ModelConfig, w: Weights, prompt: number[]): Float64Array[] {
  const forward = referenceForward(cfg, w)
  return prompt.map((t, pos) => forward(t, pos))
}

/** Greedy decoding: returns the next `n` token ids and the logit margin (top1 - top2) of each. */
export function referenceGreedy(cfg: ModelConfig, w: Weights, prompt: number[], n: number): { ids: number[]; margins: number[] } {
  const forward = referenceForward(cfg, w)
  let logits: Float64Array = new Float64Array(0)
  prompt.forEach((t, pos) => (logits = forward(t, pos)))
  const ids: number[] = []
  const margins: number[] = []
  for (let i = 0; i < n; i++) {
    let best = 0
    for (let j = 1; j < logits.length; j++) if (logits[j] > logits[best]) best = j
    let second = -Infinity
    for (let j = 0; j < logits.length; j++) if (j !== best && logits[j] > second) second = logits[j]
    ids.push(best)
    margins.push(logits[best] - second)
    if (i + 1 < n) logits = forward(best, prompt.length + i)
  }
  return { ids, margins }
}
