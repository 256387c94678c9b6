// slm-run.test.ts — the kernels' inference core (kernels/inference) built for the host and
// checked against llama.cpp (node-llama-cpp) on the same GGUFs: greedy token ids for
// F32 and Q8_0, agreement rate for Q4_0, tokenization, refusals of malformed files,
// seeded top-k and perplexity.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildGguf, type ExportType } from '../../SLM/tools/export.js'
import { writeGguf } from '../../SLM/tools/gguf-write.js'
import { trainTokenizer } from '../../SLM/tools/bpe.js'
import { TINY_CONFIG, tinyTensors, tinyTokenizerJson } from '../helpers/tiny-model.js'
import { llamaCppGreedy, llamaCppTokenize } from '../helpers/llamacpp.js'
import { REPO_ROOT, slmRunArgs } from '../../kernels/tools/kbuild.js'

const root = new URL('../../', import.meta.url).pathname
const dir = mkdtempSync(join(tmpdir(), 'slm-run-test-'))
const bin = join(dir, 'slm-run')
const TYPES: ExportType[] = ['f32', 'q8_0', 'q4_0']
const model = (t: string) => join(dir, `tiny-${t}.gguf`)
const EOS = TINY_CONFIG.vocab_size - 1 // <|endoftext|> in the tiny tokenizer
const PROBES = ['PCI device 8086:10d3 is', 'PCI device 8086:100e is', 'PCI device 10de:1c82 is', 'USB device 046d:c52b is']
const N = 16

// The pipeline's host build (kbuild's slmRunArgs: -O2 -ffp-contract=off, the whole of
// kernels/inference), here with warnings as errors.
const [CC, ...SLM_RUN_ARGS] = slmRunArgs(bin)
const BUILD = ['-std=gnu11', '-Wall', '-Wextra', '-Werror', ...SLM_RUN_ARGS]

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(bin, args, { encoding: 'utf8' })
}

function slmIds(path: string, prompt: string, n = N, extra: string[] = []): number[] {
  const r = run([path, '--prompt', prompt, '--n', String(n), '--ids', ...extra])
  assert.is(r.status, 0, r.stderr)
  return r.stdout.trimEnd().split('\n').pop()!.split(' ').map(Number)
}

/** How many leading tokens agree; ours may stop early at EOS (llama.cpp's helper goes on). */
function agreement(ours: number[], ref: number[]): number {
  let k = 0
  while (k < ours.length && ours[k] === ref[k]) k++
  return k
}

test.before(async () => {
  execFileSync(CC, BUILD, { cwd: REPO_ROOT })
  const tensors = tinyTensors()
  for (const t of TYPES) await writeGguf(model(t), buildGguf(TINY_CONFIG, tinyTokenizerJson(), tensors, t))
})
test.after(() => rmSync(dir, { recursive: true, force: true }))

for (const t of ['f32', 'q8_0'] as const) {
  test(`${t}: greedy token ids equal llama.cpp's on probe prompts`, async () => {
    for (const prompt of PROBES) {
      const ours = slmIds(model(t), prompt)
      const ref = await llamaCppGreedy(model(t), prompt, N)
      assert.ok(ours.length === N || ours[ours.length - 1] === EOS, `stopped early without EOS: ${ours}`)
      assert.equal(ours, ref.slice(0, ours.length), `${t} ${JSON.stringify(prompt)}`)
    }
  })
}

// Measured: 60/60 tokens (every probe equal until our EOS; 2 shared AVX-512 cores, llama.cpp
// node-llama-cpp 3.21.1 prebuilt). llama.cpp's Q4_0 kernels sum in another order than ours, so this is not
// exact by construction as F32/Q8_0 are; a mismatch means the Q4_0 path changed.
test('q4_0: greedy token ids equal llama.cpp\'s on the probes (measured 60/60)', async () => {
  let agree = 0, total = 0
  for (const prompt of PROBES) {
    const ours = slmIds(model('q4_0'), prompt)
    const ref = await llamaCppGreedy(model('q4_0'), prompt, N)
    agree += agreement(ours, ref)
    total += ours.length
  }
  assert.is(agree, total, `q4_0 agreement with llama.cpp ${agree}/${total} tokens (measured: all)`)
})

test('--selfcheck: every SIMD dot-product path this CPU has equals the portable reference bit for bit', () => {
  const r = run(['--selfcheck'])
  assert.is(r.status, 0, r.stdout + r.stderr)
  const m = /^selfcheck: (\d+) results bit-identical across portable( \S+)*; using (\S+)$/m.exec(r.stdout)
  assert.ok(m, r.stdout)
  if (process.arch === 'x64') {
    assert.match(r.stdout, / sse2/)
    assert.ok(Number(m![1]) > 0, 'compared something')
  }
  // the host-only AVX-512 forward-pass paths (expf, SwiGLU, attention), where the CPU has them
  if (m![3] === 'avx512vnni') assert.match(r.stdout, /^selfcheck: \d+ forward-pass values \(expf, SwiGLU, attention\) bit-identical to portable$/m)
})

// The tiny test model has 16-wide heads and rows of 2-4 blocks; the bench's tiny_10M shape
// (random init, seed 42) takes the other branches of the host's fast paths: 64-wide heads
// (4 accumulator chunks), rows of 12 and 32 blocks in groups of 4 with a scale table, F32
// rows of 384 and 1024. Each type's 64 greedy tokens must equal those of --portable (the
// portable dot products, none of the host-only paths), bit-identity seen on whole runs.
// Against llama.cpp, measured on this shape (the core before these fast paths, 256330c,
// gives the same token ids): F32 48/48, Q8_0 38/48, Q4_0 4/48 leading tokens. The Q8_0 divergence at token 39 is not explained yet (random weights give flat
// logits, so a near tie is likely but not verified); Q4_0 sums in another order than ggml.
test('tiny_10M shape: the fast paths give --portable\'s tokens; F32 equals llama.cpp, Q8_0/Q4_0 agree as measured', async () => {
  const cfg = { name: 'tiny_10M', vocab_size: 2048, dim: 384, n_layers: 5, n_heads: 6, n_kv_heads: 2, ffn_dim: 1024, seq_len: 256, rope_theta: 10000, norm_eps: 1e-5 }
  const tensors = tinyTensors(cfg, 42)
  const measured: Record<string, number> = { f32: 48, q8_0: 38, q4_0: 4 }
  for (const t of TYPES) {
    const path = join(dir, `tiny10m-${t}.gguf`)
    await writeGguf(path, buildGguf(cfg, tinyTokenizerJson(), tensors, t))
    const ours = slmIds(path, PROBES[0], 64)
    assert.equal(ours, slmIds(path, PROBES[0], 64, ['--portable']), `${t}: fast paths vs --portable`)
    const ref = await llamaCppGreedy(path, PROBES[0], 48)
    assert.ok(agreement(ours, ref) >= measured[t], `${t}: ${agreement(ours, ref)}/48 leading tokens equal llama.cpp's (measured ${measured[t]})`)
  }
})

test('tokenizer: encodes like llama.cpp with a trained BPE vocabulary', async () => {
  const text = [
    'PCI device 8086:10d3 is Intel Corporation 82574L Gigabit Network Connection.',
    'PCI device 10de:1c82 is NVIDIA Corporation GP107 [GeForce GTX 1050 Ti].',
    "It's what we've done, they'll say; I'm sure you'd agree. Café — naïve “quotes” 3½ × 2.",
  ].join('\n').repeat(20)
  writeFileSync(join(dir, 'train.txt'), text)
  await trainTokenizer({ trainFile: join(dir, 'train.txt'), vocabSize: 360, outFile: join(dir, 'tokenizer.json') })
  const cfg = { ...TINY_CONFIG, vocab_size: 360 }
  const path = join(dir, 'tok.gguf')
  await writeGguf(path, buildGguf(cfg, JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')), tinyTensors(cfg), 'q8_0'))
  const strings = [
    'PCI device 8086:10d3 is Intel Corporation 82574L Gigabit Network Connection.',
    "It's what we've done, they'll say. I'm sure you'd agree. DON'T x'y",
    'spaces:   three  two \t tab\nnewline\n\n  indented\r\nCRLF  ', '  leading', 'trailing   ', ' ',
    'Café naïve — “quoted” 10,000 × 3½ ÷ 2 ™ © µs ¡hola! ª º ² ¼',
    '日本語 😀 Ünïcödé ß Ωμέγα Привет', 'a\u00a0b\u2003c\u3000d', 'x\u0301y', '123abc456 $%^&*()_+ ~~~ ...',
  ]
  for (const s of strings) {
    const r = run([path, '--prompt', s, '--tokenize'])
    assert.is(r.status, 0, r.stderr)
    const ours = r.stdout.trim().split(' ').filter(Boolean).map(Number)
    assert.equal(ours, await llamaCppTokenize(path, s), JSON.stringify(s))
  }
})

test('refuses malformed GGUFs with a message, never crashes', async () => {
  const good = readFileSync(model('q8_0'))
  const cases: [string, Buffer, RegExp][] = [
    ['truncated.gguf', good.subarray(0, 5000), /gguf: .*runs past the end of the file/],
    ['tail-cut.gguf', good.subarray(0, good.length - 100), /gguf: tensor data .*file ends before the last tensor/],
    ['magic.gguf', Buffer.concat([Buffer.from('GGML'), good.subarray(4)]), /not a GGUF file/],
    ['version.gguf', Buffer.concat([good.subarray(0, 4), Buffer.from([9, 0, 0, 0]), good.subarray(8)]), /unsupported GGUF version/],
    ['empty.gguf', Buffer.alloc(0), /runs past the end/],
  ]
  const out = buildGguf(TINY_CONFIG, tinyTokenizerJson(), tinyTensors(), 'q8_0')
  out.tensors = out.tensors.filter(t => t.name !== 'blk.1.ffn_up.weight')
  await writeGguf(join(dir, 'missing.gguf'), out)
  for (const [name, bytes, message] of cases) {
    writeFileSync(join(dir, name), bytes)
    const r = run([join(dir, name), '--prompt', 'hi'])
    assert.is(r.status, 2, `${name}: ${r.stderr}`)
    assert.match(r.stderr, message, name)
  }
  const r = run([join(dir, 'missing.gguf'), '--prompt', 'hi'])
  assert.is(r.status, 2)
  assert.match(r.stderr, /model: tensor blk\.1\.ffn_up\.weight is missing/)
})

test('top-k sampling is reproducible from the seed', () => {
  const a = slmIds(model('q8_0'), 'PCI device', 24, ['--topk', '40', '--seed', '7'])
  const b = slmIds(model('q8_0'), 'PCI device', 24, ['--topk', '40', '--seed', '7'])
  const c = slmIds(model('q8_0'), 'PCI device', 24, ['--topk', '40', '--seed', '8'])
  assert.equal(a, b)
  assert.not.equal(a, c)
  assert.not.equal(a, slmIds(model('q8_0'), 'PCI device', 24))
})

test('--ppl prints perplexity JSON over a text file', () => {
  const txt = join(dir, 'val.txt')
  writeFileSync(txt, 'PCI device 8086:10d3 is Intel Corporation 82574L Gigabit Network Connection.\n'.repeat(8))
  const r = run([model('f32'), '--ppl', txt, '--max-tokens', '200'])
  assert.is(r.status, 0, r.stderr)
  const j = JSON.parse(r.stdout)
  assert.ok(j.tokens > 100 && j.tokens < 200, `scored ${j.tokens}`)
  assert.ok(j.ppl > 1 && Number.isFinite(j.ppl))
  assert.ok(Math.abs(Math.log(j.ppl) - j.nll) < 1e-3)
})

test.run()
