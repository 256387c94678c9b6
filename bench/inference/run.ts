// bench/inference/run.ts — tokens/s of slm-run (our C core) vs llama.cpp (node-llama-cpp,
// CPU prebuilt) on the same GGUF, prompt and token count, in one run.
//
//   npx tsx bench/inference/run.ts [--n 128] [--threads 1] [MODEL.gguf ...]
//
// Without model arguments it exports random-weight models for the micro and tiny_10M
// presets (F32, Q8_0, Q4_0) into build/bench-inference/. Both sides are timed from
// the first prompt token to the last generated token, model loading excluded; the
// best of 3 runs counts. Greedy, EOS does not stop either side early (slm-run stops at
// EOS, so random weights are used: they rarely emit it).

import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, existsSync } from 'node:fs'
import { join, basename } from 'node:path'
import { buildGguf, type ModelConfig } from '../../SLM/tools/export.js'
import { writeGguf } from '../../SLM/tools/gguf-write.js'
import { tinyTensors, tinyTokenizerJson } from '../../test/helpers/tiny-model.js'
import { getLlama, LlamaLogLevel } from 'node-llama-cpp'

const root = new URL('../../', import.meta.url).pathname
const out = join(root, 'build/bench-inference')
mkdirSync(out, { recursive: true })

const args = process.argv.slice(2)
const opt = (name: string, def: number) => {
  const i = args.indexOf(name)
  if (i < 0) return def
  const v = Number(args[i + 1])
  args.splice(i, 2)
  return v
}
const nTokens = opt('--n', 128)
const threads = opt('--threads', 1)
const prompt = 'PCI device 8086:10d3 is'

// The host build (kernels/host/slm-run.c header), with gcc and, if installed, clang.
const core = ['slm', 'model', 'tokenizer', 'gguf', 'sample', 'slm_math', 'errbuf'].map(f => join(root, 'kernels/inference', f + '.c'))
const compilers = ['gcc', 'clang'].filter(cc => spawnSync(cc, ['--version']).status === 0)
for (const cc of compilers) {
  execFileSync(cc, ['-std=gnu11', '-O3', '-march=native', '-o', join(out, `slm-run-${cc}`), join(root, 'kernels/host/slm-run.c'), ...core, '-lm'])
}

const PRESETS: Record<string, ModelConfig> = {
  micro: { name: 'micro', vocab_size: 1024, dim: 128, n_layers: 4, n_heads: 4, n_kv_heads: 2, ffn_dim: 384, seq_len: 256, rope_theta: 10000, norm_eps: 1e-5 },
  tiny_10M: { name: 'tiny_10M', vocab_size: 2048, dim: 384, n_layers: 5, n_heads: 6, n_kv_heads: 2, ffn_dim: 1024, seq_len: 256, rope_theta: 10000, norm_eps: 1e-5 },
}

async function models(): Promise<string[]> {
  if (args.length) return args
  const tokPath = join(root, 'SLM/datasets/tokenizer-1024/tokenizer.json')
  const tok = existsSync(tokPath) ? JSON.parse(readFileSync(tokPath, 'utf8')) : tinyTokenizerJson()
  const paths: string[] = []
  for (const [name, cfg] of Object.entries(PRESETS)) {
    const tensors = tinyTensors(cfg, 42)
    for (const type of ['f32', 'q8_0', 'q4_0'] as const) {
      const p = join(out, `${name}-${type}.gguf`)
      if (!existsSync(p)) await writeGguf(p, buildGguf(cfg, tok, tensors, type))
      paths.push(p)
    }
  }
  return paths
}

function slmRun(bin: string, path: string): number {
  let best = Infinity
  for (let r = 0; r < 3; r++) {
    const res = spawnSync(bin, [path, '--prompt', prompt, '--n', String(nTokens)], { encoding: 'utf8' })
    const m = /in ([\d.]+) s/.exec(res.stderr)
    if (res.status !== 0 || !m) throw new Error(`slm-run failed on ${path}: ${res.stderr}`)
    best = Math.min(best, Number(m[1]))
  }
  return best
}

async function llamaRun(path: string): Promise<{ seconds: number; promptTokens: number }> {
  const llama = await getLlama({ gpu: false, build: 'never', skipDownload: true, usePrebuiltBinaries: true, progressLogs: false, logLevel: LlamaLogLevel.error, maxThreads: threads })
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 })
  const ids = [...model.tokenize(prompt, false)]
  let best = Infinity
  for (let r = 0; r < 3; r++) {
    const ctx = await model.createContext({ contextSize: 256, batchSize: 64, threads })
    const seq = ctx.getSequence()
    const t0 = performance.now()
    let n = 0
    for await (const _ of seq.evaluate(ids as never, { temperature: 0, yieldEogToken: true })) if (++n >= nTokens) break
    best = Math.min(best, (performance.now() - t0) / 1000)
    await ctx.dispose()
  }
  await model.dispose()
  return { seconds: best, promptTokens: ids.length }
}

const rows: string[] = []
for (const path of await models()) {
  const ref = await llamaRun(path)
  const total = ref.promptTokens + nTokens
  const ours = compilers.map(cc => slmRun(join(out, `slm-run-${cc}`), path))
  const best = Math.min(...ours)
  rows.push(`| ${basename(path)} | ${ref.promptTokens}+${nTokens} | ${ours.map(t => (total / t).toFixed(0)).join(' | ')} | ${(total / ref.seconds).toFixed(0)} | ${(ref.seconds / best).toFixed(2)}x |`)
  console.log(rows[rows.length - 1])
}
console.log(`\nslm-run: 1 thread, -O3 -march=native; llama.cpp: node-llama-cpp ${'3.21.1'} CPU prebuilt, ${threads} thread(s); best of 3 runs each`)
console.log(`| model | prompt+gen tokens | ${compilers.map(cc => `slm-run (${cc}) tok/s`).join(' | ')} | llama.cpp tok/s | best slm-run vs llama.cpp |`)
console.log(`|---|---|${compilers.map(() => '---|').join('')}---|---|`)
console.log(rows.join('\n'))
process.exit(0)
