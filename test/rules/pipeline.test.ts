// The AUTON pipeline end to end, on a copy of this repository with the `smoke` preset
// (a seconds-long training run): the default autonfile builds through a QEMU boot report
// whose kernel answers equal the host's, a second build does nothing, and edits rebuild
// exactly what they should — a kernel source: one object, the ELFs and the report; the
// eval code: eval only; the corpus: everything downstream.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync, writeFileSync, appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { Project } from '../helpers/project.js'

const p = Project.copyOfRepo((t) => t.replace(/preset = "micro"/, 'preset = "smoke"'))

// kernel-aarch64.elf: a second arch, to show what an edit of one arch's build does not touch
const TARGETS = ['qemu-boot-report-x86_64', 'kernel-aarch64.elf', 'eval', 'quantized']
const build = () => p.run(['build', '--json', ...TARGETS], { timeoutMs: 600_000 })

test.after(() => p.remove())

test('the pipeline builds end to end and the kernel answers like the host', async () => {
  const r = await build()
  assert.is(r.code, 0, r.stderr + r.stdout.slice(-3000))
  const report = JSON.parse(p.read('reports/qemu-boot-x86_64.json'))
  assert.ok(report.queries.length >= 2)
  assert.ok(report.allMatchHost, 'kernel and host slm-run agree token for token')
  assert.match(report.transcript, /SLM: Neural backend ready/)
  assert.ok(report.pci.some((d: { ids: string }) => d.ids === '8086:10d3'), 'the e1000e is on the bus')
  assert.ok(report.kernelBytes > report.kernelBytesWithoutModel)
  const metrics = JSON.parse(p.read('SLM/models/smoke/metrics.json'))
  assert.ok(metrics.val_loss > 0 && Number.isFinite(metrics.val_ppl))
  const quant = JSON.parse(p.read('SLM/models/smoke/quantization.json'))
  assert.ok(Math.abs(quant.types.q8_0.deltaPct) < 1, `Q8_0 within 1% of F32: ${JSON.stringify(quant.types)}`)
})

test('a second build does nothing', async () => {
  const r = await build()
  assert.is(r.code, 0)
  assert.is(r.summary!.ran, 0)
  assert.is(r.summary!.restored, 0)
})

test('one kernel source edited: its object, the ELFs and the report rebuild, nothing else', async () => {
  appendFileSync(p.path('kernels/x86_64/serial.c'), '\nconst char auton_pipeline_test_marker[] = "edited";\n')
  const r = await build()
  assert.is(r.code, 0, r.stderr)
  assert.equal(r.with('ran'), [
    'build/kernel-x86_64/x86_64/serial.o', 'kernel-x86_64-nomodel.elf', 'kernel-x86_64.elf', 'qemu-boot-report-x86_64',
  ])
})

test('the eval code edited: only eval reruns', async () => {
  appendFileSync(p.path('SLM/tools/eval.ts'), '\n// edited by the pipeline test\n')
  const r = await build()
  assert.is(r.code, 0, r.stderr)
  assert.equal(r.with('ran'), ['eval'])
})

test("one arch's build description edited (QEMU memory): that arch's boot report reruns, nothing else", async () => {
  const file = p.path('kernels/x86_64/build.ts')
  const text = readFileSync(file, 'utf8')
  assert.match(text, "'-m', '256M'")
  writeFileSync(file, text.replace("'-m', '256M'", "'-m', '200M'"))
  const dry = await p.run(['build', '--json', '-n', ...TARGETS])
  assert.equal(dry.with('would-run'), ['qemu-boot-report-x86_64'], dry.stdout)
  const r = await build()
  assert.is(r.code, 0, r.stderr)
  assert.equal(r.with('ran'), ['qemu-boot-report-x86_64'])
  assert.match(JSON.parse(p.read('reports/qemu-boot-x86_64.json')).transcript, /SLM: Neural backend ready/)
})

test('the GGUF reader edited: every recipe that runs it reruns, and early cutoff stops there', async () => {
  appendFileSync(p.path('SLM/tools/gguf-read.ts'), '\n// edited by the pipeline test\n')
  const r = await build()
  assert.is(r.code, 0, r.stderr)
  // the exports validate with it, the boot report reads the model's provenance with it;
  // the GGUFs come out byte-identical, so the kernels are not relinked
  assert.equal(r.with('ran'), ['gguf-f32', 'gguf-q4_0', 'gguf-q8_0', 'qemu-boot-report-x86_64'])
})

test('the corpus recipe changed: everything downstream rebuilds, the kernel objects do not', async () => {
  writeFileSync(p.path('autonfile.ts'), p.read('autonfile.ts').replace('const corpus = dataset()', 'const corpus = dataset({ seed: 7 })'))
  const r = await build()
  assert.is(r.code, 0, r.stderr)
  const ran = r.with('ran')
  for (const t of ['dataset', 'tokenizer', 'tokens', 'checkpoint', 'eval', 'gguf-q8_0', 'quantized', 'kernel-x86_64.elf', 'qemu-boot-report-x86_64']) {
    assert.ok(ran.includes(t), `${t} rebuilt (ran: ${ran.join(', ')})`)
  }
  assert.not.ok(ran.some((t) => t.endsWith('/serial.o')), 'kernel objects do not depend on the model')
})

test.run()
