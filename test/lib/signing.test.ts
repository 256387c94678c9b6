// signing.test.ts — HMAC-signed action records: what a signature covers, and how the local
// cache refuses what it does not verify (the remote's refusal is in remote-cache.test.ts).

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { signRecord, verifyRecord, signingBytes, signingKey } from '../../lib/signing.js'
import { LocalCache, type ActionRecord } from '../../lib/cache.js'
import { ActionLog } from '../../lib/action-log.js'
import type { BuildEvent } from '../../lib/events.js'
import type { AutonConfig } from '../../lib/config.js'

const KEY = Buffer.from('team-key-0123456789abcdef0123456789')
const OTHER = Buffer.from('another-key-0123456789abcdef012345')
const A = 'a'.repeat(64)
const B = 'b'.repeat(64)

const record = (): ActionRecord => ({
  key: 'k'.repeat(64),
  outputs: [
    { path: 'out/xx.txt', kind: 'file', hash: A, files: [{ rel: '', sha256: A, exec: false }] },
    { path: 'out/dir', kind: 'dir', hash: 'd'.repeat(64), files: [{ rel: 'sub/y', sha256: B, exec: true }] },
  ],
  discovered: { 'include/h.h': 'c'.repeat(64) },
  ms: 1234,
})
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v))

const t = suite('signing')

t('a signed record verifies, also after a JSON round trip with its fields in another order', () => {
  const s = signRecord(record(), KEY)
  assert.match(s.sig, /^hmac-sha256:[0-9a-f]{64}$/)
  assert.is(verifyRecord(s, KEY), 'ok')
  const reordered = { sig: s.sig, ms: s.ms, discovered: s.discovered, outputs: s.outputs, key: s.key }
  assert.is(verifyRecord(clone(reordered), KEY), 'ok')
})

t('the signature covers each output digest', () => {
  const s = clone(signRecord(record(), KEY))
  s.outputs[0].files[0].sha256 = B
  assert.match(verifyRecord(s, KEY), /does not verify/)
  const h = clone(signRecord(record(), KEY))
  h.outputs[0].hash = B
  assert.match(verifyRecord(h, KEY), /does not verify/)
})

t('the signature covers each output path, the key, discovered inputs, the exec bit and the time', () => {
  const tamper: ((r: ActionRecord) => void)[] = [
    (r) => (r.outputs[0].path = 'out/yy.txt'),
    (r) => (r.outputs[1].files[0].rel = 'sub/z'),
    (r) => (r.key = 'e'.repeat(64)),
    (r) => (r.discovered['include/h.h'] = A),
    (r) => (r.discovered['extra.h'] = A),
    (r) => (r.outputs[1].files[0].exec = false),
    (r) => (r.ms = 1),
    (r) => r.outputs.reverse(),
    (r) => ((r as unknown as { extra: string }).extra = 'added field'),
  ]
  for (const [i, f] of tamper.entries()) {
    const s = clone(signRecord(record(), KEY))
    f(s)
    assert.match(verifyRecord(s, KEY), /does not verify/, `tampering #${i} was not caught`)
  }
})

t('a wrong key, a missing or malformed signature are refused', () => {
  const s = signRecord(record(), KEY)
  assert.match(verifyRecord(s, OTHER), /does not verify/)
  assert.is(verifyRecord(record(), KEY), 'it is not signed')
  assert.is(verifyRecord({ ...record(), sig: 'hmac-sha256:zz' }, KEY), 'its signature is malformed')
  assert.is(verifyRecord({ ...record(), sig: s.sig.replace('hmac-sha256', 'sha256') }, KEY), 'its signature is malformed')
})

t('the signed bytes never contain the key, and re-signing replaces the old signature', () => {
  const s = signRecord(record(), KEY)
  assert.not.ok(signingBytes(s).includes(KEY))
  assert.not.ok(JSON.stringify(s).includes(KEY.toString()))
  const again = signRecord(s, OTHER)
  assert.is(verifyRecord(again, OTHER), 'ok')
  assert.equal(signingBytes(again), signingBytes(record()))
})

t('signingKey reads the variable sign_key_env names; unset means no key', () => {
  const cfg = (name?: string) => ({ cache: { sign_key_env: name } }) as unknown as AutonConfig
  assert.equal(signingKey(cfg(undefined), { K: 'x' }), {})
  assert.equal(signingKey(cfg('K'), {}), { env: 'K', key: undefined })
  assert.equal(signingKey(cfg('K'), { K: 'secret' }).key, Buffer.from('secret'))
})

const lc = suite('LocalCache with a signing key')

/** The record stored under key in the cache at dir, as on disk. */
const onDiskAt = (dir: string, key: string) => JSON.parse(new ActionLog(join(dir, 'ac.log')).get(key)!).rec
/** What someone with write access to the cache can do: append a well-formed line of their own. */
const forge = (dir: string, key: string, rec: unknown) => new ActionLog(join(dir, 'ac.log')).put(key, JSON.stringify({ rec }))

const withCache = (fn: (dir: string, warnings: string[], mk: (key?: Buffer) => LocalCache) => void) => () => {
  const dir = mkdtempSync(join(tmpdir(), 'auton-sign-'))
  const warnings: string[] = []
  const emit = (e: BuildEvent) => e.type === 'warning' && warnings.push(e.message)
  try {
    fn(dir, warnings, (key) => new LocalCache(dir, { signKey: key, signKeyEnv: 'AUTON_SIGN', emit }))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

lc('records are written signed and read back verified', withCache((dir, warnings, mk) => {
  const c = mk(KEY)
  c.putAction(record())
  const onDisk = onDiskAt(dir, 'k'.repeat(64))
  assert.is(verifyRecord(onDisk, KEY), 'ok')
  assert.not.ok(readFileSync(join(dir, 'ac.log'), 'utf8').includes(KEY.toString()))
  assert.equal(c.getAction('k'.repeat(64), 'xx')?.outputs, record().outputs)
  assert.is(c.refused, 0)
  assert.equal(warnings, [])
}))

lc('a forged record is refused once, counted, and named by its target', withCache((dir, warnings, mk) => {
  const c = mk(KEY)
  c.putAction(record())
  const forged = onDiskAt(dir, 'k'.repeat(64))
  forged.outputs[0].files[0].sha256 = B
  forged.outputs[0].hash = B
  forge(dir, 'k'.repeat(64), forged)
  assert.is(c.getAction('k'.repeat(64), 'out/xx.txt'), undefined)
  assert.is(c.refused, 1)
  assert.is(warnings.length, 1)
  assert.match(warnings[0], /refused the action record of 'out\/xx.txt'.*does not verify.*\$AUTON_SIGN.*rebuilding/)
  assert.not.ok(warnings[0].includes(KEY.toString()), 'the key is never in a message')
  // an unsigned record (written without a key) is refused by a build with one
  mk(undefined).putAction(record())
  assert.is(c.getAction('k'.repeat(64), 'xx'), undefined)
  assert.match(warnings[1], /is not signed/)
  assert.is(c.refused, 2)
}))

lc('a validly signed record copied under another key is refused', withCache((dir, warnings, mk) => {
  const c = mk(KEY)
  c.putAction(record())
  const other = 'f'.repeat(64)
  forge(dir, other, onDiskAt(dir, 'k'.repeat(64)))
  assert.is(c.getAction(other, 'victim'), undefined)
  assert.match(warnings[0], /'victim'.*its key does not match/)
}))

lc('without a key: written unsigned, and every record trusted as before', withCache((dir, warnings, mk) => {
  const plain = mk(undefined)
  plain.putAction(signRecord(record(), KEY)) // a signature it cannot check is not kept
  assert.is(onDiskAt(dir, 'k'.repeat(64)).sig, undefined)
  const forged = { ...record(), outputs: [{ ...record().outputs[0], path: 'out/other.txt' }] }
  forge(dir, 'k'.repeat(64), forged)
  assert.is(plain.getAction('k'.repeat(64))?.outputs[0].path, 'out/other.txt', 'trusted: nothing to check it with')
  assert.is(plain.refused, 0)
  assert.equal(warnings, [])
}))

lc('prune keeps records it cannot verify (they may be another team key\'s)', withCache((dir, _w, mk) => {
  mk(undefined).putAction({ ...record(), outputs: [] })
  const r = mk(KEY).prune(1 << 30)
  assert.is(r.removedActions, 0)
}))

t.run()
lc.run()
