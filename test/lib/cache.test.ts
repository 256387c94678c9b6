// LocalCache.storeOutputs on its own: it stores exactly the bytes the journal recorded, and
// nothing of an output that changed since its recipe ran (the cache write comes later: engine.ts).

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalCache } from '../../lib/cache.js'
import { StatCache, sha256 } from '../../lib/hash.js'

function project() {
  const root = mkdtempSync(join(tmpdir(), 'auton-cache-'))
  mkdirSync(join(root, 'out/dir/sub'), { recursive: true })
  writeFileSync(join(root, 'out/a.txt'), 'a\n')
  writeFileSync(join(root, 'out/dir/x'), 'x\n')
  writeFileSync(join(root, 'out/dir/sub/y'), 'y\n')
  const stat = new StatCache()
  const hashes = { 'out/a.txt': stat.hash(join(root, 'out/a.txt'))!, 'out/dir': stat.hash(join(root, 'out/dir'))! }
  return { root, hashes, cache: new LocalCache(join(root, 'cache')) }
}

test('outputs with the recorded hashes are stored, files and directories', () => {
  const { root, hashes, cache } = project()
  const entries = cache.storeOutputs(root, ['out/a.txt', 'out/dir'], hashes)
  assert.equal(entries.map((e) => [e.path, e.kind, e.hash]), [['out/a.txt', 'file', hashes['out/a.txt']], ['out/dir', 'dir', hashes['out/dir']]])
  assert.equal(entries[1].files.map((f) => f.rel), ['sub/y', 'x'])
  for (const data of ['a\n', 'x\n', 'y\n']) assert.ok(cache.readBlob(sha256(data)), data)
})

test('an output changed since its hash was recorded is refused, and none of its bytes stored', () => {
  for (const [changed, bytes] of [['out/a.txt', 'a, edited\n'], ['out/dir/sub/y', 'y, edited\n']]) {
    const { root, hashes, cache } = project()
    writeFileSync(join(root, changed), bytes)
    assert.throws(() => cache.storeOutputs(root, [changed === 'out/a.txt' ? 'out/a.txt' : 'out/dir'], hashes), /changed after its recipe ran/)
    assert.is(cache.readBlob(sha256(bytes)), undefined, changed)
  }
})

test.run()
