// action-log.test.ts — the local cache's append-only action records (lib/action-log.ts).

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ActionLog } from '../../lib/action-log.js'
import { writeAtomic } from '../../lib/atomic.js'

const t = suite('action log')

const inDir = (fn: (file: string) => void) => () => {
  const dir = mkdtempSync(join(tmpdir(), 'auton-aclog-'))
  try {
    fn(join(dir, 'cache', 'ac.log'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

t('records round-trip; the last line for a key wins; an unknown key is a miss', inDir((file) => {
  const log = new ActionLog(file)
  assert.is(log.get('k1'), undefined, 'no file yet')
  log.put('k1', '{"v":1}')
  log.put('k2', '{"v":2}')
  assert.is(log.get('k1'), '{"v":1}')
  log.put('k1', '{"v":3}')
  assert.is(log.get('k1'), '{"v":3}')
  assert.is(new ActionLog(file).get('k2'), '{"v":2}', 'another instance reads the same file')
  assert.is(log.get('nope'), undefined)
  assert.equal(log.entries(), [['k2', '{"v":2}'], ['k1', '{"v":3}']], 'latest per key, in the order last written')
  assert.throws(() => log.put('a b', '{}'), /not a key/)
}))

t('a torn last record (cut at every byte) is a miss, loses no other record, and the next append is whole', inDir((file) => {
  const log = new ActionLog(file)
  log.put('old', '{"keep":true}')
  log.put('torn', '{"old":"version"}')
  const before = readFileSync(file).length
  log.put('torn', '{"new":"version, cut short"}')
  const whole = readFileSync(file)
  for (let cut = before; cut < whole.length; cut++) {
    writeFileSync(file, whole.subarray(0, cut))
    const fresh = new ActionLog(file)
    assert.is(fresh.get('old'), '{"keep":true}', `cut at ${cut}`)
    const got = fresh.get('torn')
    // a cut inside the new line leaves the old version (or, cut at the very end, only the
    // trailing newline missing: not yet a complete line, so the old version too)
    assert.is(got, '{"old":"version"}', `cut at ${cut}: ${got}`)
    fresh.put('after', `{"cut":${cut}}`)
    assert.is(new ActionLog(file).get('after'), `{"cut":${cut}}`, `the record appended after a cut at ${cut}`)
    assert.is(new ActionLog(file).get('old'), '{"keep":true}')
  }
}))

t('a damaged line is skipped, not trusted, and does not hide an older good one', inDir((file) => {
  const log = new ActionLog(file)
  log.put('a', '{"n":1}')
  log.put('a', '{"n":2}')
  log.put('b', '{"n":3}')
  writeFileSync(file, readFileSync(file, 'utf8').replace('{"n":2}', '{"n":9}'))
  const fresh = new ActionLog(file)
  assert.is(fresh.get('a'), '{"n":1}')
  assert.is(fresh.get('b'), '{"n":3}')
}))

t('records another process appends are seen by a reader that indexed the file before', inDir((file) => {
  const log = new ActionLog(file)
  log.put('mine', '{"by":"me"}')
  assert.is(log.get('mine'), '{"by":"me"}')
  const src = fileURLToPath(new URL('../../lib/action-log.ts', import.meta.url))
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e',
    `const { ActionLog } = await import(${JSON.stringify(src)}); const l = new ActionLog(${JSON.stringify(file)}); l.put('theirs', '{"by":"them"}'); l.put('mine', '{"by":"them too"}')`])
  assert.is(child.status, 0, String(child.stderr))
  log.put('later', '{"by":"me again"}')
  assert.is(log.get('theirs'), '{"by":"them"}')
  assert.is(log.get('mine'), '{"by":"them too"}')
  assert.is(log.get('later'), '{"by":"me again"}')
}))

t('rewrite replaces the file; readers holding an index of the old one re-read it', inDir((file) => {
  const log = new ActionLog(file)
  for (let i = 0; i < 5; i++) log.put(`k${i}`, `{"i":${i}}`)
  assert.is(log.get('k4'), '{"i":4}')
  const other = new ActionLog(file)
  other.rewrite([['k1', '{"i":1}'], ['k9', '{"i":9}']], (f, data) => writeAtomic(f, data))
  assert.is(log.get('k4'), undefined, 'dropped by the rewrite')
  assert.is(log.get('k9'), '{"i":9}')
  assert.is(log.get('k1'), '{"i":1}')
  // a file cut shorter than the index (replaced in place): re-read from the start
  truncateSync(file, 0)
  assert.is(log.get('k1'), undefined)
  log.put('k1', '{"i":"again"}')
  assert.is(log.get('k1'), '{"i":"again"}')
}))

t.run()
