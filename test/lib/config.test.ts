// config.test.ts — auton.toml: validation, defaults, and the memo that skips zod on a no-op.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../lib/config.js'

test('defaults, a change seen at once through the memo, and errors never memoised', () => {
  const dir = mkdtempSync(join(tmpdir(), 'auton-config-'))
  try {
    const none = loadConfig(dir)
    assert.is(none.cache.dir, 'cache')
    assert.is(none.slm.preset, 'micro')
    writeFileSync(join(dir, 'auton.toml'), '[build]\njobs = 3\n')
    assert.is(loadConfig(dir).build.jobs, 3)
    assert.ok(existsSync(join(dir, '.auton', 'config.json')))
    assert.is(loadConfig(dir).build.jobs, 3) // from the memo
    writeFileSync(join(dir, 'auton.toml'), '[build]\njobs = 4\n')
    assert.is(loadConfig(dir).build.jobs, 4)
    writeFileSync(join(dir, 'auton.toml'), '[build]\njobs = -1\n')
    assert.throws(() => loadConfig(dir), /invalid configuration\n  build.jobs/)
    assert.throws(() => loadConfig(dir), /invalid configuration/) // still refused: not memoised
    writeFileSync(join(dir, 'auton.toml'), '[build\n')
    assert.throws(() => loadConfig(dir), /auton.toml/)
    // a memo someone edited by hand is only trusted for the exact bytes it was made from
    writeFileSync(join(dir, 'auton.toml'), '[build]\njobs = 5\n')
    loadConfig(dir)
    const memo = JSON.parse(readFileSync(join(dir, '.auton', 'config.json'), 'utf8'))
    memo.data.build.jobs = 99
    writeFileSync(join(dir, '.auton', 'config.json'), JSON.stringify(memo))
    writeFileSync(join(dir, 'auton.toml'), '[build]\njobs = 6\n')
    assert.is(loadConfig(dir).build.jobs, 6)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
