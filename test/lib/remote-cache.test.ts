// remote-cache.test.ts — the Bazel HTTP cache protocol against a real nginx (WebDAV PUT)
// on 127.0.0.1: push from one checkout, restore in another, and the ways a server fails.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import { createServer, type Socket } from 'node:net'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Project, show, type RunResult } from '../helpers/project.js'
import { Nginx } from '../helpers/nginx.js'
import { authHeader, parseAction } from '../../lib/remote-cache.js'

// A → D (a directory output) → top, and A → top
const AUTONFILE = (extraA = '') => `import { target, sh } from 'auton'
const A = target('A', { inputs: ['src/a.txt'], outputs: ['out/A.txt'], run: sh\`cat src/a.txt > out/A.txt; echo A >> runs.log${extraA}\` })
const D = target('D', { inputs: [A], outputs: ['out/dir'], run: sh\`mkdir -p out/dir/sub && cp \${A} out/dir/sub/x.txt && echo hi > out/dir/y.txt && echo D >> runs.log\` })
target('top', { inputs: [A, D], outputs: ['out/top.txt'], default: true, run: sh\`cat \${A} out/dir/y.txt > out/top.txt && echo top >> runs.log\` })
`
const SRC = 'alpha beta\n'

const project = (extra: Record<string, string> = {}) => new Project({ 'autonfile.ts': AUTONFILE(), 'src/a.txt': SRC, ...extra })
const warnings = (r: RunResult) => r.events.filter((e) => e.type === 'warning').map((e) => String(e.message))
const sha = (s: string) => createHash('sha256').update(s).digest('hex')

const t = suite('remote cache (nginx WebDAV)')

t('push from one checkout, restore every target in a clean second checkout, zero steps run', async () => {
  const server = await Nginx.start()
  const one = project()
  const two = project()
  try {
    const first = await one.build('--remote-cache', server.url)
    assert.is(first.code, 0, show(first))
    assert.equal(first.with('ran'), ['A', 'D', 'top'])
    assert.equal(warnings(first), [])
    // the upload finished before the build exited: three AC entries, each our own JSON
    const ac = readdirSync(join(server.data, 'ac'))
    assert.is(ac.length, 3)
    for (const key of ac) {
      const rec = parseAction(readFileSync(join(server.data, 'ac', key), 'utf8'), key)
      assert.type(rec, 'object', `AC entry ${key}: ${rec}`)
    }
    assert.ok(existsSync(join(server.data, 'cas', sha(SRC))), 'the blob of out/A.txt is on the server')

    const second = await two.build('--remote-cache', server.url)
    assert.is(second.code, 0, show(second))
    assert.is(second.summary?.ran, 0, show(second))
    assert.is(second.summary?.restored, 3)
    for (const e of second.events.filter((e) => e.type === 'target')) assert.is(e.source, 'remote', `${e.name}`)
    assert.is(two.read('out/top.txt'), SRC + 'hi\n')
    assert.is(two.read('out/dir/sub/x.txt'), SRC)
    assert.not.ok(two.exists('runs.log'), 'no recipe ran in the second checkout')
    const third = await two.build('--remote-cache', server.url)
    assert.equal(third.with('up-to-date'), ['A', 'D', 'top'])
  } finally {
    one.remove()
    two.remove()
    await server.remove()
  }
})

t('targets restored from the local cache are uploaded to a remote that lacks them', async () => {
  const server = await Nginx.start()
  const one = project()
  const two = project()
  const three = project()
  const shared = `[cache]\ndir = "${join(one.dir, 'cache')}"\n`
  try {
    const first = await one.build()   // no remote: the local cache only
    assert.equal(first.with('ran'), ['A', 'D', 'top'], show(first))
    two.write('auton.toml', shared)
    const second = await two.build('--remote-cache', server.url)
    assert.is(second.code, 0, show(second))
    for (const e of second.events.filter((e) => e.type === 'target')) assert.is(e.source, 'local', `${e.name}`)
    assert.is(readdirSync(join(server.data, 'ac')).length, 3, 'three action records uploaded')
    const third = await three.build('--remote-cache', server.url)
    assert.is(third.summary?.restored, 3, show(third))
    for (const e of third.events.filter((e) => e.type === 'target')) assert.is(e.source, 'remote', `${e.name}`)
    assert.is(three.read('out/top.txt'), SRC + 'hi\n')
    // restoring locally again asks (HEAD) and uploads nothing: the server has every record
    const puts = server.requests().filter((l) => l.startsWith('PUT ')).length
    two.remove()
    const again = project({ 'auton.toml': shared })
    try {
      const r = await again.build('--remote-cache', server.url)
      assert.is(r.summary?.restored, 3, show(r))
      assert.is(server.requests().filter((l) => l.startsWith('PUT ')).length, puts, 'no second upload')
    } finally {
      again.remove()
    }
  } finally {
    one.remove()
    two.remove()
    three.remove()
    await server.remove()
  }
})

t('read-only mode restores but never uploads', async () => {
  const server = await Nginx.start()
  const one = project({ 'auton.toml': `[cache]\nremote = "${server.url}"\nremote_read_only = true\n` })
  try {
    const r = await one.build()
    assert.is(r.code, 0, show(r))
    assert.equal(r.with('ran'), ['A', 'D', 'top'])
    assert.ok(server.requests().some((l) => l.startsWith('GET /cache/ac/')), 'it looked the targets up')
    assert.equal(server.requests().filter((l) => !l.startsWith('GET ')), [], 'no PUT or HEAD')
  } finally {
    one.remove()
    await server.remove()
  }
})

t('a server stopped mid-build: the build succeeds with exactly one warning', async () => {
  const server = await Nginx.start()
  // A's recipe stops the server and waits until it is gone
  const stop = `; kill ${server.pid}; for i in $(seq 100); do kill -0 ${server.pid} 2>/dev/null || break; sleep 0.05; done`
  const one = new Project({
    'autonfile.ts': AUTONFILE(stop),
    'src/a.txt': SRC,
    'auton.toml': `[cache]\nremote = "${server.url}"\n`,
  })
  try {
    const t0 = Date.now()
    const r = await one.build()
    assert.is(r.code, 0, show(r))
    assert.equal(r.with('ran'), ['A', 'D', 'top'])
    const w = warnings(r)
    assert.is(w.length, 1, show(r))
    assert.match(w[0], /remote cache unavailable, continuing with the local cache only/)
    assert.ok(Date.now() - t0 < 10_000, 'bounded: no long waits on a dead server')
    assert.is(one.read('out/top.txt'), SRC + 'hi\n')
  } finally {
    one.remove()
    await server.remove()
  }
})

t('a server that accepts but never answers costs one request timeout and one warning', async () => {
  const sockets: Socket[] = []
  const silent = createServer((s) => sockets.push(s))
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()))
  const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}/cache`
  const one = project()
  try {
    const t0 = Date.now()
    const r = await one.build('--remote-cache', url)
    const ms = Date.now() - t0
    assert.is(r.code, 0, show(r))
    assert.equal(r.with('ran'), ['A', 'D', 'top'])
    assert.is(warnings(r).length, 1, show(r))
    assert.match(warnings(r)[0], /no response within 5 s/)
    assert.ok(ms < 12_000, `took ${ms} ms`)
  } finally {
    one.remove()
    for (const s of sockets) s.destroy()
    silent.close()
  }
})

t('a corrupted blob on the server is refused, its target rebuilt, and the good bytes re-uploaded', async () => {
  const server = await Nginx.start()
  const one = project()
  const two = project()
  try {
    assert.is((await one.build('--remote-cache', server.url)).code, 0)
    const blob = join(server.data, 'cas', sha(SRC))
    writeFileSync(blob, 'poisoned bytes\n')
    const r = await two.build('--remote-cache', server.url)
    assert.is(r.code, 0, show(r))
    assert.equal(r.with('ran'), ['A'], show(r))
    assert.equal(r.with('restored'), ['D', 'top'])
    const w = warnings(r)
    assert.is(w.length, 1, show(r))
    assert.match(w[0], new RegExp(`refused blob ${sha(SRC).slice(0, 12)}.*out/A.txt.*rebuilt`))
    assert.is(two.read('out/A.txt'), SRC, 'the poisoned bytes never reached the work tree')
    assert.is(two.read('out/dir/sub/x.txt'), SRC)
    assert.is(readFileSync(blob, 'utf8'), SRC, 'the rebuilt blob replaced the poisoned one')
  } finally {
    one.remove()
    two.remove()
    await server.remove()
  }
})

t('an action record that would write outside the project is ignored', async () => {
  const server = await Nginx.start()
  const one = project()
  const two = project()
  try {
    assert.is((await one.build('--remote-cache', server.url, 'A')).code, 0)
    const [key] = readdirSync(join(server.data, 'ac'))
    const rec = JSON.parse(readFileSync(join(server.data, 'ac', key), 'utf8'))
    rec.outputs[0].path = '../escaped.txt'
    writeFileSync(join(server.data, 'ac', key), JSON.stringify(rec))
    const r = await two.build('--remote-cache', server.url, 'A')
    assert.is(r.code, 0, show(r))
    assert.equal(r.with('ran'), ['A'])
    assert.match(warnings(r).join('\n'), /ignoring the action record .*escapes the project/)
    assert.not.ok(existsSync(join(two.dir, '..', 'escaped.txt')))
  } finally {
    one.remove()
    two.remove()
    await server.remove()
  }
})

t('bearer credentials come from the variable named by remote_auth_env', async () => {
  const server = await Nginx.start({ token: 's3cret' })
  const toml = `[cache]\nremote = "${server.url}"\nremote_auth_env = "AUTON_TEST_CACHE_TOKEN"\n`
  const one = project({ 'auton.toml': toml })
  const two = project({ 'auton.toml': toml })
  try {
    const ok = await one.run(['build', '--json'], { env: { AUTON_TEST_CACHE_TOKEN: 's3cret' } })
    assert.is(ok.code, 0, show(ok))
    assert.equal(warnings(ok), [])
    assert.ok(server.requests().some((l) => /^PUT \/cache\/ac\/\w+ 201$/.test(l)), server.requests().join('\n'))
    // without the token the server answers 401: one warning, a local build
    const denied = await two.run(['build', '--json'], { env: { AUTON_TEST_CACHE_TOKEN: 'wrong' } })
    assert.is(denied.code, 0, show(denied))
    assert.equal(denied.with('ran'), ['A', 'D', 'top'])
    assert.is(warnings(denied).length, 1)
    assert.match(warnings(denied)[0], /HTTP 401/)
  } finally {
    one.remove()
    two.remove()
    await server.remove()
  }
})

// Two targets whose outputs differ; the forgery re-addresses xx's record to yy's blob.
const TWO = `import { target, sh } from 'auton'
target('xx', { inputs: ['src/x.txt'], outputs: ['out/xx.txt'], default: true, run: sh\`cp src/x.txt out/xx.txt; echo xx >> runs.log\` })
target('yy', { inputs: ['src/y.txt'], outputs: ['out/yy.txt'], default: true, run: sh\`cp src/y.txt out/yy.txt; echo yy >> runs.log\` })
`
const SIGNED = (url: string) => `[cache]\nremote = "${url}"\nsign_key_env = "AUTON_TEST_SIGN_KEY"\n`
const TEAM_KEY = 'ci-team-key-7f3a9c0e5b1d24680aceb13579bdf02468ace'

/** Rewrite xx's action record on the server: same key, xx's output path, yy's blob (which the CAS holds). */
function forgeXx(data: string): string {
  for (const key of readdirSync(join(data, 'ac'))) {
    const rec = JSON.parse(readFileSync(join(data, 'ac', key), 'utf8'))
    if (rec.outputs[0].path !== 'out/xx.txt') continue
    rec.outputs[0].hash = sha('yyyy\n')
    rec.outputs[0].files[0].sha256 = sha('yyyy\n')
    writeFileSync(join(data, 'ac', key), JSON.stringify(rec))
    return key
  }
  throw new Error('no action record for out/xx.txt on the server')
}

t('a forged record (another blob under a target\'s key) is refused with a signing key, and the right bytes rebuilt', async () => {
  const server = await Nginx.start()
  const files = { 'autonfile.ts': TWO, 'src/x.txt': 'xxxx\n', 'src/y.txt': 'yyyy\n', 'auton.toml': SIGNED(server.url) }
  const one = new Project(files)
  const two = new Project(files)
  const env = { env: { AUTON_TEST_SIGN_KEY: TEAM_KEY } }
  try {
    const first = await one.run(['build', '--json'], env)
    assert.is(first.code, 0, show(first))
    assert.ok(existsSync(join(server.data, 'cas', sha('yyyy\n'))), "yy's blob is in the CAS")
    for (const key of readdirSync(join(server.data, 'ac'))) {
      const text = readFileSync(join(server.data, 'ac', key), 'utf8')
      assert.match(JSON.parse(text).sig, /^hmac-sha256:[0-9a-f]{64}$/, 'uploaded records are signed')
      assert.not.ok(text.includes(TEAM_KEY), 'the key is not in the record')
    }
    const key = forgeXx(server.data)

    const r = await two.run(['build', '--json'], env)
    assert.is(r.code, 0, show(r))
    assert.equal(r.with('ran'), ['xx'], show(r))
    assert.equal(r.with('restored'), ['yy'])
    assert.is(two.read('out/xx.txt'), 'xxxx\n', 'the forged bytes never reached the work tree')
    const w = warnings(r)
    assert.is(w.length, 1, show(r))
    assert.match(w[0], /refused the action record of 'xx' on http:\/\/127\.0\.0\.1:\d+\/cache: its signature does not verify.*rebuilding/)
    assert.not.ok(r.stdout.includes(TEAM_KEY) || r.stderr.includes(TEAM_KEY), 'the key is in no output')
    for (const f of readdirSync(two.path('.auton'), { recursive: true, withFileTypes: true })) {
      if (f.isFile()) assert.not.ok(readFileSync(join(f.parentPath ?? (f as unknown as { path: string }).path, f.name), 'utf8').includes(TEAM_KEY), `key in .auton/${f.name}`)
    }
    // the rebuild's signed record replaced the forged one
    const now = JSON.parse(readFileSync(join(server.data, 'ac', key), 'utf8'))
    assert.is(now.outputs[0].files[0].sha256, sha('xxxx\n'))
  } finally {
    one.remove()
    two.remove()
    await server.remove()
  }
})

t('the summary counts refused records (plain and --json)', async () => {
  const server = await Nginx.start()
  const files = { 'autonfile.ts': TWO, 'src/x.txt': 'xxxx\n', 'src/y.txt': 'yyyy\n', 'auton.toml': SIGNED(server.url) }
  const one = new Project(files)
  const two = new Project(files)
  const three = new Project(files)
  const env = { env: { AUTON_TEST_SIGN_KEY: TEAM_KEY } }
  try {
    assert.is((await one.run(['build', '--json'], env)).code, 0)
    forgeXx(server.data)
    const r = await two.run(['build', '--json', '--remote-cache-read-only'], env)
    assert.is(r.summary?.refused, 1, show(r))
    const plain = await three.run(['build', '--remote-cache-read-only'], env)
    assert.match(plain.stderr, /build ok: 1 ran, 1 restored, 0 up to date, 1 cache record refused/, show(plain))
  } finally {
    one.remove()
    two.remove()
    three.remove()
    await server.remove()
  }
})

t('without a signing key a forged record is trusted (as documented in docs/ci.md)', async () => {
  const server = await Nginx.start()
  const files = { 'autonfile.ts': TWO, 'src/x.txt': 'xxxx\n', 'src/y.txt': 'yyyy\n' }
  const one = new Project(files)
  const two = new Project(files)
  try {
    assert.is((await one.build('--remote-cache', server.url)).code, 0)
    forgeXx(server.data)
    const r = await two.build('--remote-cache', server.url)
    assert.is(r.code, 0, show(r))
    assert.equal(r.with('restored'), ['xx', 'yy'])
    assert.is(two.read('out/xx.txt'), 'yyyy\n', 'no key, nothing to check the record with: the wrong bytes are restored')
    assert.equal(warnings(r), [])
  } finally {
    one.remove()
    two.remove()
    await server.remove()
  }
})

t('sign_key_env configured but unset (a PR build): reads unverified, uploads nothing, one warning', async () => {
  const server = await Nginx.start()
  const one = new Project({ 'autonfile.ts': TWO, 'src/x.txt': 'xxxx\n', 'src/y.txt': 'yyyy\n', 'auton.toml': SIGNED(server.url) })
  try {
    const r = await one.run(['build', '--json'], { env: { AUTON_TEST_SIGN_KEY: undefined } })
    assert.is(r.code, 0, show(r))
    assert.equal(r.with('ran'), ['xx', 'yy'])
    assert.equal(server.requests().filter((l) => !l.startsWith('GET ')), [], 'no PUT or HEAD')
    const w = warnings(r)
    assert.is(w.length, 1, show(r))
    assert.match(w[0], /\$AUTON_TEST_SIGN_KEY, which is not set.*uploads nothing/)
  } finally {
    one.remove()
    await server.remove()
  }
})

t('authHeader: user:password is basic, a bare token is bearer', () => {
  assert.is(authHeader('ci:pw'), `Basic ${Buffer.from('ci:pw').toString('base64')}`)
  assert.is(authHeader('abc123'), 'Bearer abc123')
  assert.is(authHeader('Bearer xyz'), 'Bearer xyz')
})

t.run()
