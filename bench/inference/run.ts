// bench/inference/run.ts — decode tokens/s of slm-run (our C core, built exactly as the
// pipeline builds it) vs llama.cpp (node-llama-cpp, CPU prebuilt) on the same GGUF,
// prompt and token count, in one run.
//
//   npx tsx bench/inference/run.ts [--n 128] [--threads 1] [--base REV] [MODEL.gguf ...]
//
// Without model arguments it writes random-weight models of the micro and tiny_10M shapes
// (F32, Q8_0, Q4_0) into build/bench-inference/. --base REV also builds slm-run from that
// git revision (the "before" column). Both sides are timed from the first prompt token
// to the last generated token, model loading excluded; the best of --runs (5) counts.
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

function slmRun(bin: string, path: string): number {
  let best = Infinity
  for (let r = 0; r < runs; r++) {
    const res = spawnSync(bin, [path, '--prompt', PROMPT, '--n', String(nTokens)], { encoding: 'utf8' })
    const m = /in ([\d.]+) s/.exec(res.stderr)
    if (res.status !== 0 || !m) throw new Error(`slm-run failed on ${path}: ${res.stderr}`)
    best = Math.min(best, Number(m[1]))
  }
  return best
}

const llama = await getLlama({ gpu: false, build: 'never', skipDownload: true, usePrebuiltBinaries: true, progressLogs: false, logLevel: LlamaLogLevel.error, maxThreads: threads })

async function llamaRun(path: string): Promise<{ seconds: number; promptTokens: number }> {
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 })
  const ids = [...model.tokenize(PROMPT, false)]
  let best = Infinity
  for (let r = 0; r < runs; r++) {
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
  // interleave the two sides so a burst of load on the shared machine hits both
  const ref = await llamaRun(path)
  const total = ref.promptTokens + nTokens
  const ours = bins.map((b) => slmRun(b.path, path))
  const ref2 = await llamaRun(path)
  const llamaS = Math.min(ref.seconds, ref2.seconds)
  const now = ours[ours.length - 1]
  rows.push(`| ${basename(path, '.gguf')} | ${ours.map((t) => (total / t).toFixed(0)).join(' | ')} | ${(total / llamaS).toFixed(0)} | ${(llamaS / now).toFixed(2)}x |`)
  console.log(rows[rows.length - 1])
}
console.log(`\nprompt ${JSON.stringify(PROMPT)} + ${nTokens} generated tokens; slm-run: kbuild's slmRunArgs (gcc -O2 -ffp-contract=off), 1 thread; llama.cpp: node-llama-cpp CPU prebuilt, ${threads} thread(s); best of ${runs} runs each (llama.cpp: of 2x${runs}, before and after ours)`)
console.log(`| model | ${bins.map((b) => `${b.label} tok/s`).join(' | ')} | llama.cpp tok/s | slm-run / llama.cpp |`)
console.log(`|---|${bins.map(() => '---|').join('')}---|---|`)
console.log(rows.join('\n'))
process.exit(0)
