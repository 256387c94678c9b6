// provenance-pipeline.test.ts — provenance in the real AUTON pipeline, on a copy of this
// repository with the `smoke` preset (as test/rules/pipeline.test.ts builds it): the kernel
// ELF's statement reaches pci.ids and the trainer's C sources by digest, its subject is the
// ELF's sha256, and the x86_64 boot report trusts the model the kernel prints.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import { readFileSync, readdirSync } from 'node:fs'
import { Project, show } from '../helpers/project.js'

const p = Project.copyOfRepo((t) => t.replace(/preset = "micro"/, 'preset = "smoke"'))
test.after(() => p.remove())

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex')
const ELF = 'build/kernel-x86_64/kernel-x86_64.elf'

test('the kernel ELF\'s provenance reaches pci.ids and the trainer\'s C sources by digest', async () => {
  const r = await p.run(['build', '--json', 'qemu-boot-report-x86_64'], { timeoutMs: 900_000 })
  assert.is(r.code, 0, r.stderr + r.stdout.slice(-3000))
  const out = await p.run(['provenance', ELF])
  assert.is(out.code, 0, show(out))
  const st = JSON.parse(out.stdout)
  assert.equal(st.subject, [{ name: ELF, digest: { sha256: sha(p.path(ELF)) } }])
  const deps: { name: string; digest?: { sha256: string }; annotations: { kind: string; producedBy?: string } }[] =
    st.predicate.buildDefinition.resolvedDependencies
  const by = new Map(deps.map((d) => [d.name, d]))
  const pci = by.get('/usr/share/misc/pci.ids')
  assert.ok(pci, 'pci.ids reached the kernel')
  assert.is(pci!.digest!.sha256, sha('/usr/share/misc/pci.ids'))
  const trainer = readdirSync(p.path('SLM/train')).filter((f) => f.endsWith('.c'))
  assert.ok(trainer.length > 0)
  for (const c of trainer) {
    const d = by.get(`SLM/train/${c}`)
    assert.ok(d, `SLM/train/${c} reached the kernel`)
    assert.is(d!.digest!.sha256, sha(p.path(`SLM/train/${c}`)))
  }
  for (const t of ['dataset', 'checkpoint', 'gguf-q8_0', 'slm-train']) {
    assert.ok(deps.some((d) => d.annotations.producedBy === t), `${t} is in the lineage`)
  }
  const why = await p.run(['why', ELF])
  assert.match(why.stdout, /\/usr\/share\/misc\/pci.ids  sha256:\w{12}  \(source\)/)
})

test('the GGUF records its checkpoint\'s statement digest, the kernel prints it, the boot report trusts it', async () => {
  const ckpt = readdirSync(p.path('SLM/models/smoke')).includes('model.safetensors') ? 'SLM/models/smoke/model.safetensors' : ''
  assert.ok(ckpt)
  const d = await p.run(['provenance', '--digest', ckpt])
  assert.match(d.stdout, /^[0-9a-f]{64}\n$/, show(d))
  const report = JSON.parse(p.read('reports/qemu-boot-x86_64.json'))
  assert.match(report.info, new RegExp(`SLM: provenance sha256:${d.stdout.trim()} of ${ckpt}`))
  assert.equal({ trusted: report.provenance.trusted, kernel: report.provenance.kernel, journal: report.provenance.journal },
    { trusted: true, kernel: d.stdout.trim(), journal: d.stdout.trim() })
})

test.run()
