// bench/inference/run.ts — decode tokens/s of slm-run (our C core, built exactly as the
// pipeline builds it) vs llama.cpp (node-llama-cpp, CPU prebuilt) on the same GGUF,
// prompt and token count, in one run: decode tokens/s (the forward passes after the first
// generated token) and tokens/s over the whole generation (prompt included; llama.cpp
// evaluates the prompt as one batch, we one token at a time).
//
//   npx tsx bench/inference/run.ts [--n 128] [--threads 1] [--base REV] [MODEL.gguf ...]
//
// Without model arguments it writes random-weight models of the micro and tiny_10M shapes
// (F32, Q8_0, Q4_0) into build/bench-inference/. --base REV also builds slm-run from that
// git revision (the "before" column). Both sides are timed from the first prompt token
// to the last generated token, model loading excluded; each side runs --runs (5) times, twice,
// alternating with the other, and its best of the 2 x --runs counts.
// Greedy; EOS does not stop either side early (random weights rarely emit it).

import { spawnSync } from 'node:child_process'
import { basename, join } from 'node:path'
import { getLlama, LlamaLogLevel } from 'node-llama-cpp'
import { PROMPT, PRESETS, buildSlmRun, checkoutKernels, out, randomModel } from './common.js'

const args = process.argv.slice(2)
const opt = (name: string, def: string) => {
  const i = args.indexOf(name)
  if (i < 0) return def
  const v = args[i + 1]
  args.splice(i, 2)
  return v
}
const nTokens = Number(opt('--n', '128'))
const threads = Number(opt('--threads', '1'))
const runs = Number(opt('--runs', '5'))
const base = opt('--base', '')

const bins: { label: string; path: string }[] = [{ label: 'slm-run', path: buildSlmRun(join(out, 'slm-run')) }]
if (base) bins.unshift({ label: `slm-run @${base}`, path: buildSlmRun(join(out, 'slm-run-base'), checkoutKernels(base)) })
const check = spawnSync(bins[bins.length - 1].path, ['--selfcheck'], { encoding: 'utf8' })
console.log(check.stdout.trim())

async function models(): Promise<string[]> {
  if (args.length) return args
  const paths: string[] = []
  for (const preset of Object.keys(PRESETS))
    for (const type of ['f32', 'q8_0', 'q4_0'] as const) paths.push(await randomModel(preset, type))
  return paths
}

type Timing = { total: number; decode: number } // seconds: prompt + all tokens; tokens 2..n only

// slm-run prints the whole span and (this revision on) the decode span; an older
// revision only the whole one (decode NaN).
function slmRun(bin: string, path: string): Timing {
  const best: Timing = { total: Infinity, decode: Infinity }
  for (let r = 0; r < runs; r++) {
    const res = spawnSync(bin, [path, '--prompt', PROMPT, '--n', String(nTokens)], { encoding: 'utf8' })
    const m = /in ([\d.]+) s/.exec(res.stderr)
    if (res.status !== 0 || !m) throw new Error(`slm-run failed on ${path}: ${res.stderr}`)
    const d = /decode (\d+) tokens in ([\d.]+) s/.exec(res.stderr)
    best.total = Math.min(best.total, Number(m[1]))
    best.decode = Math.min(best.decode, d ? Number(d[2]) : NaN)
  }
  return best
}

const llama = await getLlama({ gpu: false, build: 'never', skipDownload: true, usePrebuiltBinaries: true, progressLogs: false, logLevel: LlamaLogLevel.error, maxThreads: threads })

async function llamaRun(path: string): Promise<Timing & { promptTokens: number }> {
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 })
  const ids = [...model.tokenize(PROMPT, false)]
  const best: Timing = { total: Infinity, decode: Infinity }
  for (let r = 0; r < runs; r++) {
    const ctx = await model.createContext({ contextSize: 256, batchSize: 64, threads })
    const seq = ctx.getSequence()
    const t0 = performance.now()
    let n = 0, t1 = 0
    for await (const _ of seq.evaluate(ids as never, { temperature: 0, yieldEogToken: true })) {
      if (++n === 1) t1 = performance.now()
      if (n >= nTokens) break
    }
    const t2 = performance.now()
    best.total = Math.min(best.total, (t2 - t0) / 1000)
    best.decode = Math.min(best.decode, (t2 - t1) / 1000)
    await ctx.dispose()
  }
  await model.dispose()
  return { ...best, promptTokens: ids.length }
}

const rows: string[] = []
const f = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '-')
for (const path of await models()) {
  // llama.cpp, ours, llama.cpp, ours: a burst of load on the shared machine hits both, and
  // each side's best is of the same number of runs (2 x --runs)
  const ref = await llamaRun(path)
  const total = ref.promptTokens + nTokens
  const ours1 = bins.map((b) => slmRun(b.path, path))
  const ref2 = await llamaRun(path)
  const ours2 = bins.map((b) => slmRun(b.path, path))
  const ours = ours1.map((t, i) => ({ total: Math.min(t.total, ours2[i].total), decode: Math.min(t.decode, ours2[i].decode) }))
  const lt = Math.min(ref.total, ref2.total), ld = Math.min(ref.decode, ref2.decode)
  const now = ours[ours.length - 1]
  rows.push(`| ${basename(path, '.gguf')} | ${ours.map((t) => f((nTokens - 1) / t.decode)).join(' | ')} | ${f((nTokens - 1) / ld)} | **${(ld / now.decode).toFixed(2)}x** | ${ours.map((t) => f(total / t.total)).join(' | ')} | ${f(total / lt)} | ${(lt / now.total).toFixed(2)}x |`)
  console.log(rows[rows.length - 1])
}
console.log(`\nprompt ${JSON.stringify(PROMPT)} + ${nTokens} generated tokens; decode = the ${nTokens - 1} forward passes after the first generated token (prompt excluded), total = prompt + all ${nTokens} tokens from the first prompt token; slm-run: kbuild's slmRunArgs (gcc -O2 -ffp-contract=off), 1 thread; llama.cpp: node-llama-cpp CPU prebuilt, ${threads} thread(s); best of 2x${runs} runs each, the two sides alternating`)
const labels = bins.map((b) => b.label)
console.log(`| model | ${labels.map((l) => `${l} decode tok/s`).join(' | ')} | llama.cpp decode tok/s | decode ratio | ${labels.map((l) => `${l} total tok/s`).join(' | ')} | llama.cpp total tok/s | total ratio |`)
console.log(`|---|${bins.map(() => '---|').join('')}---|---|${bins.map(() => '---|').join('')}---|---|`)
console.log(rows.join('\n'))
process.exit(0)
