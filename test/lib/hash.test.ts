// hash.test.ts — content hashes, directory hashes, and the stat cache with its racy rule.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StatCache, hashFile, listTree, sha256 } from '../../lib/hash.js'

const tmp = mkdtempSync(join(tmpdir(), 'auton-hash-'))
const f = (rel: string, text: string) => {
  const p = join(tmp, rel)
  mkdirSync(join(p, '..'), { recursive: true })
  writeFileSync(p, text)
  return p
}
const shaOf = (text: string) => createHash('sha256').update(text).digest('hex')
/** Written a while ago: not racy. */
const old = (p: string) => {
  const t = new Date(Date.now() - 10_000)
  utimesSync(p, t, t)
  return p
}

/** A memo entry exactly as StatCache would record it for `path` — but with the hash we choose. */
function memoFor(path: string, hash: string) {
  const st = statSync(path)
  return { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, hash }
}

test('a file hashes to the sha256 of its bytes; big files are streamed to the same hash', () => {
  assert.is(hashFile(f('a.txt', 'hello\n')), shaOf('hello\n'))
  const big = 'x'.repeat(3 * (1 << 20) + 17)
  assert.is(hashFile(f('big.bin', big)), shaOf(big))
  assert.is(sha256('hello\n'), shaOf('hello\n'))
})

test('a missing path has no hash', () => {
  assert.is(new StatCache().hash(join(tmp, 'nope')), undefined)
})

test('a directory hash covers names, contents and the exec bit, in a fixed order', () => {
  f('d/b.txt', 'b')
  f('d/sub/a.txt', 'a')
  assert.equal(listTree(join(tmp, 'd')), ['b.txt', 'sub/a.txt'])
  const h0 = new StatCache().hash(join(tmp, 'd'))!
  assert.is(new StatCache().hash(join(tmp, 'd')), h0, 'stable')
  f('d/sub/a.txt', 'A')
  const h1 = new StatCache().hash(join(tmp, 'd'))!
  assert.is.not(h1, h0, 'content')
  chmodSync(join(tmp, 'd/b.txt'), 0o755)
  const h2 = new StatCache().hash(join(tmp, 'd'))!
  assert.is.not(h2, h1, 'exec bit')
  f('d/c.txt', '')
  assert.is.not(new StatCache().hash(join(tmp, 'd')), h2, 'a new file')
})

test('stat cache: a memo whose stat matches is used without reading the file', () => {
  const p = f('memo.txt', 'real content')
  const c = new StatCache()
  const longAfter = Date.now() + 60_000
  c.load({ [p]: memoFor(p, 'from-the-memo') }, longAfter)
  assert.is(c.hash(p), 'from-the-memo')
})

test('stat cache: a changed size, mtime or inode is rehashed', () => {
  const p = old(f('changed.txt', 'one'))
  const memo = memoFor(p, 'stale')
  const later = Date.now() + 60_000
  for (const change of [{ size: memo.size + 1 }, { mtimeMs: memo.mtimeMs + 0.001 }, { ino: memo.ino + 1 }, { ctimeMs: 1 }]) {
    const c = new StatCache()
    c.load({ [p]: { ...memo, ...change } }, later)
    assert.is(c.hash(p), shaOf('one'), JSON.stringify(change))
    assert.ok(c.changed)
    assert.is((c.toJSON() as Record<string, { hash: string }>)[p].hash, shaOf('one'))
  }
})

test('racy rule: a memo saved within the clock tick of the file\'s mtime is not trusted', () => {
  const p = f('racy.txt', 'same size A')
  const memo = memoFor(p, 'written-in-the-same-tick')
  const c = new StatCache()
  // the memo file was saved 1 ms after the file's mtime: the file could still have changed
  c.load({ [p]: memo }, memo.mtimeMs + 1)
  assert.is(c.hash(p), shaOf('same size A'))
})

test('racy rule: a file hashed within a clock tick of its mtime is not memoised for the next build', () => {
  const fresh = f('just-written.txt', 'new')
  const settled = old(f('settled.txt', 'old'))
  const c = new StatCache()
  assert.is(c.hash(fresh), shaOf('new'))
  assert.is(c.hash(settled), shaOf('old'))
  const memo = c.toJSON() as Record<string, unknown>
  assert.not.ok(fresh in memo, 'racy: could change again with the same size and mtime')
  assert.ok(settled in memo)
})

test('invalidating a directory output sees new content in the files inside it', () => {
  // regression: the per-process map kept the inner files' old hashes, so a rewritten
  // (or restored) directory output hashed as before
  f('outdir/w.bin', 'v1')
  const c = new StatCache()
  const before = c.hash(join(tmp, 'outdir'))
  f('outdir/w.bin', 'v2')
  c.invalidate(join(tmp, 'outdir'))
  assert.is.not(c.hash(join(tmp, 'outdir')), before)
  assert.is(c.hash(join(tmp, 'outdir')), new StatCache().hash(join(tmp, 'outdir')))
})

test('invalidate() forgets a hash this process already knows', () => {
  const p = f('inv.txt', 'before')
  const c = new StatCache()
  assert.is(c.hash(p), shaOf('before'))
  writeFileSync(p, 'after!')
  assert.is(c.hash(p), shaOf('before'), 'hashes are trusted for the life of the process')
  c.invalidate(p)
  assert.is(c.hash(p), shaOf('after!'))
})

test.after(() => rmSync(tmp, { recursive: true, force: true }))

test.run()
