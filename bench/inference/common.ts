// common.ts — what the inference benchmarks share: random-weight GGUFs of the presets'
// shapes, and slm-run / kernels built from this tree or from an earlier git revision
// (the "before" of a before/after table), each with the build command the pipeline uses.

import { execFileSync, execSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { buildGguf, type ExportType, type ModelConfig } from '../../SLM/tools/export.js'
import { writeGguf } from '../../SLM/tools/gguf-write.js'
import { tinyTensors, tinyTokenizerJson } from '../../test/helpers/tiny-model.js'
import { REPO_ROOT, slmRunArgs } from '../../kernels/tools/kbuild.js'

export const root = REPO_ROOT
export const out = join(root, 'build/bench-inference')
export const PROMPT = 'PCI device 8086:10d3 is'
mkdirSync(out, { recursive: true })

// The presets' shapes (SLM/configs/*.yaml); the weights are a seeded random init.
export const PRESETS: Record<string, ModelConfig> = {
  micro: { name: 'micro', vocab_size: 1024, dim: 128, n_layers: 4, n_heads: 4, n_kv_heads: 2, ffn_dim: 384, seq_len: 256, rope_theta: 10000, norm_eps: 1e-5 },
  tiny_10M: { name: 'tiny_10M', vocab_size: 2048, dim: 384, n_layers: 5, n_heads: 6, n_kv_heads: 2, ffn_dim: 1024, seq_len: 256, rope_theta: 10000, norm_eps: 1e-5 },
}

/** build/bench-inference/<preset>-<type>.gguf, written once. */
export async function randomModel(preset: string, type: ExportType): Promise<string> {
  mkdirSync(out, { recursive: true })
  const p = join(out, `${preset}-${type}.gguf`)
  if (existsSync(p)) return p
  const tokPath = join(root, 'SLM/datasets/tokenizer-1024/tokenizer.json')
  const tok = existsSync(tokPath) ? JSON.parse(readFileSync(tokPath, 'utf8')) : tinyTokenizerJson()
  await writeGguf(p, buildGguf(PRESETS[preset], tok, tinyTensors(PRESETS[preset], 42), type))
  return p
}

/** The tree at git revision `rev` (its kernels/ only) under build/bench-inference/rev-<rev>. */
export function checkoutKernels(rev: string): string {
  const dir = join(out, `rev-${rev.replace(/[^\w.-]/g, '_')}`)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  execSync(`git archive ${rev} kernels | tar -x -C ${dir}`, { cwd: root })
  return dir
}

/** slm-run as the pipeline builds it (kbuild's slmRunArgs), from this tree or from
 *  `treeDir` (a checkoutKernels dir). An older tree kept the core in kernels/common
 *  mixed with kernel-only files; its host build then is the seven core files. */
export function buildSlmRun(binOut: string, treeDir?: string): string {
  if (!treeDir) {
    const argv = slmRunArgs(binOut)
    execFileSync(argv[0], argv.slice(1), { cwd: root })
    return binOut
  }
  const core = existsSync(join(treeDir, 'kernels/inference/slm.h')) ? 'kernels/inference' : 'kernels/common'
  const files = core === 'kernels/common'
    ? ['slm', 'model', 'tokenizer', 'gguf', 'sample', 'slm_math', 'errbuf'].map((f) => `${core}/${f}.c`)
    : execSync(`ls ${core}/*.c`, { cwd: treeDir, encoding: 'utf8' }).trim().split('\n')
  execFileSync('gcc', ['-O2', '-ffp-contract=off', `-I${core}`, 'kernels/host/slm-run.c', ...files, '-lm', '-o', binOut], { cwd: treeDir })
  return binOut
}
