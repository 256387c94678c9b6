// onnx-export.ts — checkpoint + config → a standard ONNX decoder graph (the `onnx` stage).
//
// One graph, opset 17, only operators of the default ai.onnx domain, so any ONNX runtime
// runs it: RMSNorm is ReduceMean/Sqrt/Reciprocal/Mul, RoPE on adjacent pairs is a reshape
// to [.., hd/2, 2] and a rotation with Cos/Sin of positions × inverse frequencies, GQA
// repeats each KV head with Gather, SwiGLU is Sigmoid/Mul, and the causal mask is built
// in the graph from the sequence length. The forward pass is the one in
// specs/architecture.md; the layout of the graph is in specs/export.md.
//
//   inputs   input_ids       int64 [batch, sequence]
//            attention_mask  int64 [batch, sequence]  (1 = token, 0 = padding; left out
//                            of the graph when exported with attentionMask: false)
//   output   logits          float [batch, sequence, vocab]
//
// With a mask, positions are the running count of real tokens, so a left-padded row gets
// the same logits as the same prompt unpadded. (A graph input with an initializer as its
// default would make the mask optional within one file, but onnxruntime-node silently
// ignores a feed for such an input, so the choice is made at export time instead.)

import { readFile, writeFile, rename, mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { checkConfig, checkSameArchitecture, expectedTensors, type FloatTensor, type ModelConfig } from './export.js'
import { readSafetensors } from './safetensors.js'
import { ATTR_TYPE, DATA_TYPE, encodeModel, type AttributeMsg, type ModelMsg, type NodeMsg, type TensorMsg } from './onnx-proto.js'

export const OPSET = 17
export const IR_VERSION = 8 // the IR of ONNX 1.12, the release that introduced opset 17
/** Added to the scores of masked (future or padding) keys; finite so a row with no real key stays NaN-free. */
export const MASKED = -1e9

// ---- a small graph builder: nodes in topological order, initializers, unique names ----

type Attr = AttributeMsg
const int = (name: string, i: number): Attr => ({ name, type: ATTR_TYPE.INT, i })
const ints = (name: string, v: number[]): Attr => ({ name, type: ATTR_TYPE.INTS, ints: v })

class Graph {
  readonly nodes: NodeMsg[] = []
  readonly initializers: TensorMsg[] = []
  private readonly names = new Set<string>()
  private consts = new Map<string, string>()

  private fresh(name: string): string {
    if (this.names.has(name)) throw new Error(`onnx export: value name ${name} is used twice`)
    this.names.add(name)
    return name
  }

  /** A node with one output, named `out`; returns that name. */
  op(opType: string, inputs: string[], out: string, attribute: Attr[] = []): string {
    this.nodes.push({ name: out, op_type: opType, input: inputs, output: [this.fresh(out)], attribute })
    return out
  }

  f32(name: string, dims: number[], data: Float32Array): string {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    this.initializers.push({ name: this.fresh(name), dims, data_type: DATA_TYPE.FLOAT, raw_data: bytes })
    return name
  }

  i64(name: string, dims: number[], values: number[]): string {
    const data = BigInt64Array.from(values.map(BigInt))
    this.initializers.push({ name: this.fresh(name), dims, data_type: DATA_TYPE.INT64, raw_data: new Uint8Array(data.buffer) })
    return name
  }

  /** A shared int64 constant (shapes, axes, indices), created once per distinct value. */
  constI64(values: number[], scalar = false): string {
    const key = `${scalar ? 's' : 'v'}:${values.join(',')}`
    let name = this.consts.get(key)
    if (!name) {
      name = this.i64(`const.i64.${scalar ? 'scalar.' : ''}${values.join('_').replace(/-/g, 'm')}`, scalar ? [] : [values.length], values)
      this.consts.set(key, name)
    }
    return name
  }

  constF32(value: number): string {
    const key = `f:${value}`
    let name = this.consts.get(key)
    if (!name) {
      name = this.f32(`const.f32.${String(value).replace(/-/g, 'm')}`, [], Float32Array.of(value))
      this.consts.set(key, name)
    }
    return name
  }
}

/** [rows, cols] row-major → [cols, rows]: PyTorch's [out, in] weight as MatMul's right operand. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols)
  for (let r = 0; r < rows; r++) {
    const src = r * cols
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[src + c]
  }
  return out
}

export interface OnnxOptions {
  /** Model name written to the graph; defaults to config `name`. */
  name?: string
  /** Give the graph an attention_mask input (default true); without it every token is real. */
  attentionMask?: boolean
}

/**
 * The ONNX model for these weights. `tensors` has the checkpoint's names and PyTorch
 * shapes (specs/architecture.md); `output.weight` may be absent, and then the output
 * projection is the transposed embedding (tied weights, stored once).
 */
export function buildOnnx(cfg: ModelConfig, tensors: Map<string, FloatTensor>, opts: OnnxOptions = {}, source = 'checkpoint'): ModelMsg {
  const { vocab_size: V, dim: D, n_layers: L, n_heads: H, n_kv_heads: KV } = cfg
  const hd = D / H
  const group = H / KV
  const tied = !tensors.has('output.weight')
  const want = expectedTensors(cfg).filter(t => !(tied && t.name === 'output.weight'))
  const extra = [...tensors.keys()].filter(n => !want.some(w => w.name === n))
  if (extra.length) throw new Error(`${source}: unexpected tensors ${extra.join(', ')} (not part of the llama layout in specs/architecture.md)`)
  const weight = (name: string): FloatTensor => {
    const t = tensors.get(name)
    const shape = want.find(w => w.name === name)!.shape
    if (!t) throw new Error(`${source}: tensor ${name} is missing`)
    if (t.shape.join(',') !== shape.join(',')) throw new Error(`${source}: tensor ${name} has shape [${t.shape}], config says [${shape}]`)
    return t
  }
  for (const w of want) weight(w.name) // every tensor checked before any work

  const g = new Graph()
  const c = (v: number[]) => g.constI64(v)
  /** A [out, in] weight stored as its transpose [in, out], ready for MatMul. */
  const linear = (name: string) => {
    const t = weight(name)
    return g.f32(`${name}.T`, [t.shape[1], t.shape[0]], transpose2d(t.data, t.shape[0], t.shape[1]))
  }
  const vector = (name: string) => g.f32(name, weight(name).shape, weight(name).data)

  // ---- inputs, positions, mask ----
  const ids = 'input_ids'
  const withMask = opts.attentionMask ?? true
  const idsShape = g.op('Shape', [ids], 'input_ids.shape')
  const seqLen = g.op('Gather', [idsShape, g.constI64([1], true)], 'sequence_length', [int('axis', 0)])
  const steps = g.op('Range', [g.constI64([0], true), seqLen, g.constI64([1], true)], 'steps') // [S]: 0, 1, .., S-1
  // Positions: [B, S] (the count of real tokens before each, padding at 0) or [S].
  const pos = withMask
    ? g.op('Max', [g.op('Sub', [g.op('CumSum', ['attention_mask', g.constI64([1], true)], 'mask.cumsum'), g.constI64([1], true)], 'positions.raw'), g.constI64([0], true)], 'positions')
    : steps

  const half = hd / 2
  const invFreq = new Float32Array(half)
  for (let i = 0; i < half; i++) invFreq[i] = Math.pow(cfg.rope_theta, (-2 * i) / hd)
  const posF = g.op('Cast', [pos], 'positions.float', [int('to', DATA_TYPE.FLOAT)])
  const angle = g.op('Mul', [g.op('Unsqueeze', [posF, c([-1])], 'positions.column'), g.f32('rope.inv_freq', [half], invFreq)], 'rope.angle')
  // [B, 1, S, hd/2] or [S, hd/2]: both broadcast against [B, heads, S, hd/2]
  const angle4 = withMask ? g.op('Unsqueeze', [angle, c([1])], 'rope.angle.4d') : angle
  const cos = g.op('Cos', [angle4], 'rope.cos')
  const sin = g.op('Sin', [angle4], 'rope.sin')

  const causal = g.op('LessOrEqual', [g.op('Unsqueeze', [steps, c([0])], 'steps.row'), g.op('Unsqueeze', [steps, c([1])], 'steps.col')], 'causal') // [S, S]: key j <= query i
  let allowed = causal
  if (withMask) {
    const keyReal = g.op('Unsqueeze', [g.op('Cast', ['attention_mask'], 'mask.bool', [int('to', DATA_TYPE.BOOL)]), c([1, 2])], 'mask.keys') // [B, 1, 1, S]
    allowed = g.op('And', [causal, keyReal], 'attention.allowed') // [B, 1, S, S]
  }
  const bias = g.op('Where', [allowed, g.constF32(0), g.constF32(MASKED)], 'attention.bias') // added to the scores

  // ---- the layers ----
  const rmsnorm = (x: string, w: string, out: string) => {
    const ms = g.op('ReduceMean', [g.op('Mul', [x, x], `${out}.sq`)], `${out}.ms`, [ints('axes', [-1]), int('keepdims', 1)])
    const inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [ms, g.constF32(cfg.norm_eps)], `${out}.ms_eps`)], `${out}.rms`)], `${out}.inv_rms`)
    return g.op('Mul', [g.op('Mul', [x, inv], `${out}.normed`), w], out)
  }
  /** [B, S, n*hd] → [B, n, S, hd] */
  const heads = (x: string, n: number, out: string) =>
    g.op('Transpose', [g.op('Reshape', [x, c([0, 0, n, hd])], `${out}.split`)], out, [ints('perm', [0, 2, 1, 3])])
  /** Rotate adjacent pairs (x[2i], x[2i+1]) by position × theta_i; x is [B, n, S, hd]. */
  const rope = (x: string, out: string) => {
    const pairs = g.op('Reshape', [x, c([0, 0, 0, half, 2])], `${out}.pairs`)
    const even = g.op('Gather', [pairs, g.constI64([0], true)], `${out}.even`, [int('axis', -1)])
    const odd = g.op('Gather', [pairs, g.constI64([1], true)], `${out}.odd`, [int('axis', -1)])
    const re = g.op('Sub', [g.op('Mul', [even, cos], `${out}.even_cos`), g.op('Mul', [odd, sin], `${out}.odd_sin`)], `${out}.re`)
    const ro = g.op('Add', [g.op('Mul', [even, sin], `${out}.even_sin`), g.op('Mul', [odd, cos], `${out}.odd_cos`)], `${out}.ro`)
    const both = g.op('Concat', [g.op('Unsqueeze', [re, c([-1])], `${out}.re1`), g.op('Unsqueeze', [ro, c([-1])], `${out}.ro1`)], `${out}.rotated`, [int('axis', -1)])
    return g.op('Reshape', [both, c([0, 0, 0, hd])], out)
  }
  const kvIndex = Array.from({ length: H }, (_, j) => Math.floor(j / group)) // query head j reads kv head j / (H/KV)
  const repeatKv = (x: string, out: string) => (group === 1 ? x : g.op('Gather', [x, c(kvIndex)], out, [int('axis', 1)]))

  let x = g.op('Gather', [vector('token_embd.weight'), ids], 'embed', [int('axis', 0)]) // [B, S, D]
  const scale = g.constF32(1 / Math.sqrt(hd))
  for (let l = 0; l < L; l++) {
    const b = `blk.${l}.`
    const h = rmsnorm(x, vector(b + 'attn_norm.weight'), b + 'attn_norm.out')
    const q = rope(heads(g.op('MatMul', [h, linear(b + 'attn_q.weight')], b + 'q.flat'), H, b + 'q.heads'), b + 'q')
    const k = rope(heads(g.op('MatMul', [h, linear(b + 'attn_k.weight')], b + 'k.flat'), KV, b + 'k.heads'), b + 'k')
    const v = heads(g.op('MatMul', [h, linear(b + 'attn_v.weight')], b + 'v.flat'), KV, b + 'v')
    const kAll = repeatKv(k, b + 'k.repeated')
    const vAll = repeatKv(v, b + 'v.repeated')
    const kT = g.op('Transpose', [kAll], b + 'k.T', [ints('perm', [0, 1, 3, 2])])
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q, kT], b + 'scores.raw'), scale], b + 'scores.scaled'), bias], b + 'scores')
    const probs = g.op('Softmax', [scores], b + 'probs', [int('axis', -1)])
    const att = g.op('MatMul', [probs, vAll], b + 'att.heads') // [B, H, S, hd]
    const merged = g.op('Reshape', [g.op('Transpose', [att], b + 'att.seq', [ints('perm', [0, 2, 1, 3])]), c([0, 0, H * hd])], b + 'att')
    x = g.op('Add', [x, g.op('MatMul', [merged, linear(b + 'attn_output.weight')], b + 'att.out')], b + 'resid.att')

    const h2 = rmsnorm(x, vector(b + 'ffn_norm.weight'), b + 'ffn_norm.out')
    const gate = g.op('MatMul', [h2, linear(b + 'ffn_gate.weight')], b + 'ffn.gate')
    const up = g.op('MatMul', [h2, linear(b + 'ffn_up.weight')], b + 'ffn.up')
    const silu = g.op('Mul', [gate, g.op('Sigmoid', [gate], b + 'ffn.gate.sigmoid')], b + 'ffn.silu')
    const act = g.op('Mul', [silu, up], b + 'ffn.act')
    x = g.op('Add', [x, g.op('MatMul', [act, linear(b + 'ffn_down.weight')], b + 'ffn.out')], b + 'resid.ffn')
  }
  const final = rmsnorm(x, vector('output_norm.weight'), 'output_norm.out')
  const outW = tied ? g.op('Transpose', ['token_embd.weight'], 'output.weight.T', [ints('perm', [1, 0])]) : linear('output.weight')
  g.op('MatMul', [final, outW], 'logits')

  const name = opts.name ?? cfg.name ?? 'auton-slm'
  const tensorType = (elem: number, dims: (number | string)[]) => ({
    tensor_type: { elem_type: elem, shape: { dim: dims.map(d => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } },
  })
  return {
    ir_version: IR_VERSION,
    producer_name: 'auton',
    producer_version: '0.1.0',
    doc_string: 'llama-style decoder (specs/architecture.md), exported by SLM/tools/onnx-export.ts',
    opset_import: [{ domain: '', version: OPSET }],
    metadata_props: [
      { key: 'config', value: JSON.stringify(cfg) },
      { key: 'tied_output', value: String(tied) },
    ],
    graph: {
      name,
      node: g.nodes,
      initializer: g.initializers,
      input: [
        { name: ids, type: tensorType(DATA_TYPE.INT64, ['batch', 'sequence']), doc_string: 'token ids' },
        ...(withMask ? [{ name: 'attention_mask', type: tensorType(DATA_TYPE.INT64, ['batch', 'sequence']), doc_string: '1 for a token, 0 for padding' }] : []),
      ],
      output: [{ name: 'logits', type: tensorType(DATA_TYPE.FLOAT, ['batch', 'sequence', V]), doc_string: 'next-token logits at every position' }],
    },
  }
}

export interface OnnxExportOptions {
  checkpoint: string
  config: string
  out: string
}

/** The `onnx` stage: write `out` from a safetensors checkpoint and config.json (atomically). */
export async function exportOnnx(opts: OnnxExportOptions): Promise<void> {
  const cfg = checkConfig(JSON.parse(await readFile(opts.config, 'utf8')), opts.config)
  const ckpt = readSafetensors(opts.checkpoint)
  checkSameArchitecture(cfg, ckpt.metadata.config, opts)
  const bytes = encodeModel(buildOnnx(cfg, ckpt.tensors, {}, opts.checkpoint))
  await mkdir(dirname(opts.out), { recursive: true })
  await writeFile(`${opts.out}.tmp`, bytes)
  await rename(`${opts.out}.tmp`, opts.out)
}

