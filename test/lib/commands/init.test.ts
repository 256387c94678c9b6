// lib/commands/init.ts: the starter files, and never overwriting.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { initProject, InitError, STARTER_AUTONFILE } from '../../../lib/commands/init.js'

let dir = ''
test.before.each(() => { dir = mkdtempSync(join(tmpdir(), 'auton-init-')) })
test.after.each(() => rmSync(dir, { recursive: true, force: true }))

test('an empty folder gets every starter file', () => {
  const r = initProject(dir)
  assert.equal(r.written, ['autonfile.ts', 'auton.toml', 'tsconfig.json', 'notes/hello.txt', '.gitignore'])
  assert.is(readFileSync(join(dir, 'autonfile.ts'), 'utf8'), STARTER_AUTONFILE)
  assert.is(readFileSync(join(dir, '.gitignore'), 'utf8'), '.auton/\ncache/\nbuild/\n')
})

test('an existing auton.toml stops it before anything is written', () => {
  writeFileSync(join(dir, 'auton.toml'), 'mine\n')
  assert.throws(() => initProject(dir), (e: unknown) => e instanceof InitError && /auton\.toml already exists/.test((e as Error).message))
  assert.is(readFileSync(join(dir, 'auton.toml'), 'utf8'), 'mine\n')
  assert.not.ok(existsSync(join(dir, 'autonfile.ts')))
  assert.not.ok(existsSync(join(dir, '.gitignore')))
})

test('.gitignore gains only the lines it lacks; tsconfig.json and notes/ are kept', () => {
  writeFileSync(join(dir, '.gitignore'), 'node_modules\ncache')
  writeFileSync(join(dir, 'tsconfig.json'), '{}\n')
  mkdirSync(join(dir, 'notes'))
  const r = initProject(dir)
  assert.is(readFileSync(join(dir, '.gitignore'), 'utf8'), 'node_modules\ncache\n.auton/\nbuild/\n')
  assert.is(readFileSync(join(dir, 'tsconfig.json'), 'utf8'), '{}\n')
  assert.equal(r.kept, ['tsconfig.json', 'notes/'])
  assert.not.ok(existsSync(join(dir, 'notes/hello.txt')))
})

test.run()
