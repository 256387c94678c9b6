// state.test.ts — the journal: torn tails, tombstones, compaction, the salt.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { State, type TargetRecord } from '../../lib/state.js'

const test = suite('state')

const rec = (name: string, key = `k-${name}`): TargetRecord => ({
  name, key, fullKey: key, parts: { [`input:${name}.txt`]: 'h' }, outputs: { [`out/${name}`]: 'o' }, discovered: {}, ms: 1, via: 'ran', at: 1,
})

test('a journal cut at any byte of its last record: that record is gone, no other is, and the next append survives', () => {
  const dir = mkdtempSync(join(tmpdir(), 'auton-state-'))
  try {
    const s = new State(dir).load()
    s.record(rec('a'))
    s.record(rec('b'))
    s.save()
    const file = join(dir, '.auton', 'targets.jsonl')
    const before = readFileSync(file)
    const s2 = new State(dir).load()
    s2.record(rec('c'))
    s2.save()
    const full = readFileSync(file)
    assert.ok(full.length > before.length)
    for (let cut = before.length; cut < full.length; cut++) {
      writeFileSync(file, full)
      truncateSync(file, cut)
      const torn = new State(dir).load()
      // a line without its newline is torn, even if its JSON happens to be whole
      assert.equal([...torn.records.keys()].sort(), ['a', 'b'], `cut at ${cut}`)
      torn.record(rec('d'))
      torn.save()
      const after = new State(dir).load()
      assert.equal([...after.records.keys()].sort(), ['a', 'b', 'd'], `append after a cut at ${cut}`)
      assert.is(after.records.get('d')!.key, 'k-d')
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('forget() writes a tombstone: a crash after it never resurrects the old record', () => {
  const dir = mkdtempSync(join(tmpdir(), 'auton-state-'))
  try {
    const s = new State(dir).load()
    s.record(rec('a'))
    s.save()
    const s2 = new State(dir).load()
    s2.forget('a') // about to run: no save(), as in a crash
    assert.equal([...new State(dir).load().records.keys()], [])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('records are buffered until save() or a tombstone; a tombstone is on disk at once, after what came before it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'auton-state-'))
  try {
    const s = new State(dir).load()
    s.record(rec('a'))
    s.save()
    const s2 = new State(dir).load()
    s2.record(rec('b')) // a crash now loses b: it rebuilds
    assert.equal([...new State(dir).load().records.keys()], ['a'])
    s2.forget('a') // about to run a again: b and the tombstone go out together, in order
    assert.equal([...new State(dir).load().records.keys()], ['b'])
    s2.record(rec('a', 'k2'))
    s2.save()
    const last = new State(dir).load()
    assert.equal([...last.records.keys()].sort(), ['a', 'b'])
    assert.is(last.records.get('a')!.key, 'k2')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('compaction keeps the last record of each name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'auton-state-'))
  try {
    const s = new State(dir).load()
    for (let i = 0; i < 300; i++) s.record(rec('a', `k${i}`))
    s.record(rec('b'))
    s.save()
    const lines = readFileSync(join(dir, '.auton', 'targets.jsonl'), 'utf8').trim().split('\n')
    assert.is(lines.length, 2)
    const again = new State(dir).load()
    assert.is(again.records.get('a')!.key, 'k299')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('the salt is random per checkout and stable within one', () => {
  const d1 = mkdtempSync(join(tmpdir(), 'auton-state-'))
  const d2 = mkdtempSync(join(tmpdir(), 'auton-state-'))
  try {
    const a = new State(d1).salt()
    assert.is(a.length, 64)
    assert.is(new State(d1).salt(), a)
    assert.is.not(new State(d2).salt(), a)
  } finally {
    rmSync(d1, { recursive: true, force: true })
    rmSync(d2, { recursive: true, force: true })
  }
})


// Tool identities are measured once per build, not once per process: a long-lived process
// (watch mode) sees a compiler upgrade between two builds.
test('two builds in one process measure a tool twice', async () => {
  const { build } = await import('../../lib/engine.js')
  const { loadAutonfile } = await import('../../lib/load.js')
  const { loadConfig } = await import('../../lib/config.js')
  const { Project } = await import('../helpers/project.js')
  const p = new Project({
    'autonfile.ts': `import { target, sh } from 'auton'\ntarget('t', { outputs: ['out/t.txt'], tools: ['cat cc-version.txt'], run: sh\`cat cc-version.txt > out/t.txt\` })\n`,
    'cc-version.txt': 'cc 1\n',
  })
  try {
    const cfg = loadConfig(p.dir)
    const once = async () => {
      const { graph } = await loadAutonfile(p.path('autonfile.ts'), cfg)
      const reasons: string[] = []
      const r = await build(graph, { root: p.dir, targets: ['t'], config: cfg, emit: (e) => e.type === 'target' && reasons.push(`${e.status}:${e.reason ?? ''}`), jobs: 1 })
      return { r, reasons }
    }
    assert.equal((await once()).reasons, ['ran:it has never been built (or its last run failed or was interrupted)'])
    assert.equal((await once()).reasons, ['up-to-date:'])
    p.write('cc-version.txt', 'cc 2\n')
    assert.equal((await once()).reasons, ["ran:tool 'cat cc-version.txt' changed"])
    assert.is(p.read('out/t.txt'), 'cc 2\n')
  } finally {
    p.remove()
  }
})

test.run()
