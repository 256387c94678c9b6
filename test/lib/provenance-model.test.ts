// provenance-model.test.ts — the model says where it came from: the GGUF export writes the
// digest of its checkpoint's provenance statement, the inference core's `slm info` prints it
// (host slm-run here; the kernels share the core), and the boot report's check
// (rules/model-provenance.ts) trusts a kernel only when the digest is the build's.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildGguf, provenanceKVs } from '../../SLM/tools/export.js'
import { encodeGguf } from '../../SLM/tools/gguf-write.js'
import { parseGguf } from '../../SLM/tools/gguf-read.js'
import { TINY_CONFIG, tinyTensors, tinyTokenizerJson } from '../helpers/tiny-model.js'
import { buildHostSlmRun } from '../helpers/kernel-boot.js'
import { provenanceOf } from '../../lib/commands/provenance.js'
import { modelProvenance } from '../../rules/model-provenance.js'

const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex')
const CKPT = 'models/t/model.safetensors'
const GGUF = 'models/t/model-q8_0.gguf'

/** A checkout with a journal: src → checkpoint → gguf (whose metadata carries `digest`, if given). */
function checkout(digest?: (dir: string) => string) {
  const dir = mkdtempSync(join(tmpdir(), 'auton-modelprov-'))
  mkdirSync(join(dir, 'models/t'), { recursive: true })
  mkdirSync(join(dir, '.auton'))
  writeFileSync(join(dir, 'src.txt'), 'corpus\n')
  writeFileSync(join(dir, CKPT), 'weights\n')
  const ckpt = { name: 'checkpoint', outputs: { [CKPT]: sha('weights\n') }, discovered: {}, parts: { 'recipe:sh': 'r'.repeat(64), 'input:src.txt': sha('corpus\n') } }
  writeFileSync(join(dir, '.auton/targets.jsonl'), JSON.stringify(ckpt) + '\n')
  const g = buildGguf(TINY_CONFIG, tinyTokenizerJson(), tinyTensors(), 'q8_0')
  const d = digest?.(dir)
  if (d) g.metadata.push(...provenanceKVs({ sha256: d, subject: CKPT }))
  const bytes = Buffer.from(encodeGguf(g))
  writeFileSync(join(dir, GGUF), bytes)
  const rec = { name: 'gguf-q8_0', outputs: { [GGUF]: sha(bytes) }, discovered: {}, parts: { 'recipe:function': 'f'.repeat(64), [`input:${CKPT}`]: sha('weights\n') } }
  writeFileSync(join(dir, '.auton/targets.jsonl'), JSON.stringify(ckpt) + '\n' + JSON.stringify(rec) + '\n')
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}
const real = (dir: string) => provenanceOf(dir, CKPT).digest

const t = suite('model provenance')

t('the GGUF carries the digest and its subject as strings; a malformed digest is refused', () => {
  const g = buildGguf(TINY_CONFIG, tinyTokenizerJson(), tinyTensors(), 'q8_0')
  g.metadata.push(...provenanceKVs({ sha256: 'a'.repeat(64), subject: CKPT }))
  const meta = parseGguf(encodeGguf(g)).metadata
  assert.is(meta.get('auton.provenance.sha256')?.value, 'a'.repeat(64))
  assert.is(meta.get('auton.provenance.subject')?.value, CKPT)
  assert.throws(() => provenanceKVs({ sha256: 'A'.repeat(64), subject: CKPT }), /64 lowercase hex/)
})

t('slm info (the inference core, host build) prints the digest and its subject, or says none is recorded', () => {
  const c = checkout((dir) => real(dir))
  const bare = checkout()
  try {
    const run = buildHostSlmRun(c.dir)
    const info = (dir: string) => {
      const r = spawnSync(run, [join(dir, GGUF), '--prompt', 'a', '--n', '1'], { env: { ...process.env, SLM_INFO: '1' }, encoding: 'utf8' })
      assert.is(r.status, 0, r.stderr)
      return r.stdout + r.stderr // slm-run prints slm_info's lines on stderr
    }
    assert.match(info(c.dir), new RegExp(`SLM: provenance sha256:${real(c.dir)} of ${CKPT}\n`))
    assert.match(info(bare.dir), /SLM: provenance: none recorded in the GGUF/)
  } finally {
    c.remove()
    bare.remove()
  }
})

t('trusted when the kernel prints the digest of the build\'s GGUF, which equals the journal\'s statement', () => {
  const c = checkout((dir) => real(dir))
  try {
    const p = modelProvenance(c.dir, GGUF, `SLM: model x\nSLM: provenance sha256:${real(c.dir)} of ${CKPT}\n`)
    assert.ok(p.trusted, p.note)
    assert.is(p.kernel, real(c.dir))
    assert.is(p.journal, p.gguf)
    assert.is(p.note, undefined)
  } finally {
    c.remove()
  }
})

t('not trusted: another digest, no digest line, a GGUF without provenance, a GGUF changed since its record', () => {
  const c = checkout((dir) => real(dir))
  const bare = checkout()
  try {
    const other = modelProvenance(c.dir, GGUF, `SLM: provenance sha256:${'e'.repeat(64)} of ${CKPT}`)
    assert.not.ok(other.trusted)
    assert.match(other.note!, /does not run the model this build made/)
    assert.match(modelProvenance(c.dir, GGUF, 'SLM: model x').note!, /printed no provenance digest/)
    const none = modelProvenance(bare.dir, GGUF, `SLM: provenance sha256:${'e'.repeat(64)}`)
    assert.not.ok(none.trusted)
    assert.match(none.note!, /records no auton.provenance.sha256/)
    const bytes = readFileSync(join(c.dir, GGUF))
    bytes[bytes.length - 1] ^= 1
    writeFileSync(join(c.dir, GGUF), bytes)
    const swapped = modelProvenance(c.dir, GGUF, `SLM: provenance sha256:${real(c.dir)}`)
    assert.not.ok(swapped.trusted)
    assert.match(swapped.note!, /not the build's: .*not what 'gguf-q8_0' built/)
  } finally {
    c.remove()
    bare.remove()
  }
})

t('a journal whose lineage changed since the export: still the build\'s model, and said so', () => {
  const c = checkout(() => 'c'.repeat(64)) // as if exported when the checkpoint's record said something else
  try {
    const p = modelProvenance(c.dir, GGUF, `SLM: provenance sha256:${'c'.repeat(64)}`)
    assert.ok(p.trusted)
    assert.is.not(p.journal, p.gguf)
    assert.match(p.note!, /changed since the export/)
  } finally {
    c.remove()
  }
})

t.run()
