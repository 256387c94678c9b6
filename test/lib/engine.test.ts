// engine.test.ts — incremental builds end to end: what runs, what stays, what is trusted.
// Real temp projects, real `node bin/auton.cjs` processes (see test/helpers/project.ts).

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync } from 'node:fs'
import { Project, show } from '../helpers/project.js'

// ── the minimal autonfile from the issue, verbatim ───────────────────────────────────
const MINIMAL = `import { target, sh } from 'auton'

const words = target('words.txt', {
  inputs: ['src/a.txt', 'src/b.txt'],
  outputs: ['out/words.txt'],
  run: sh\`cat src/a.txt src/b.txt > out/words.txt\`,
})

target('count', {
  inputs: [words],                      // a target handle: this is the dependency edge
  outputs: ['out/count.txt'],
  run: sh\`wc -w < \${words} > out/count.txt\`,   // a handle interpolates to its output path(s)
})
`

const minimal = suite('minimal autonfile')

minimal('builds words and count, then a second build runs nothing', async () => {
  const p = new Project({ 'autonfile.ts': MINIMAL, 'src/a.txt': 'one two\n', 'src/b.txt': 'three four five\n' })
  try {
    const r = await p.build('count')
    assert.is(r.code, 0, show(r))
    assert.equal(r.with('ran'), ['count', 'words.txt'])
    assert.is(p.read('out/words.txt'), 'one two\nthree four five\n')
    assert.is(p.read('out/count.txt').trim(), '5')
    const again = await p.build('count')
    assert.is(again.code, 0, show(again))
    assert.equal(again.with('up-to-date'), ['count', 'words.txt'])
    assert.equal(again.with('ran'), [])
  } finally {
    p.remove()
  }
})

minimal.run()

// ── a diamond: A ─┐          ┌─ top
//                AB ─────────┤
//              B ─┘    C ────┘
const DIAMOND = `import { target, sh } from 'auton'
const A = target('A', { inputs: ['src/a.txt'], outputs: ['out/A.txt'], run: sh\`cat src/a.txt > out/A.txt\` })
const B = target('B', { inputs: ['src/b.txt'], outputs: ['out/B.txt'], run: sh\`cat src/b.txt > out/B.txt\` })
const AB = target('AB', { inputs: [A, B], outputs: ['out/AB.txt'], run: sh\`cat \${A} \${B} > out/AB.txt\` })
const C = target('C', { inputs: ['src/c.txt'], outputs: ['out/C.txt'], run: sh\`cat src/c.txt > out/C.txt\` })
// U counts lines: a same-line-count edit of u.txt leaves its output unchanged (early cutoff)
const U = target('U', { inputs: ['src/u.txt'], outputs: ['out/U.txt'], run: sh\`wc -l < src/u.txt > out/U.txt\` })
const D = target('D', { inputs: [U], outputs: ['out/D.txt'], run: sh\`cat \${U} > out/D.txt; echo ran >> runs-D.log\` })
target('top', { inputs: [AB, C, D], outputs: ['out/top.txt'], run: sh\`cat \${AB} \${C} \${D} > out/top.txt\`, default: true })
`

const diamond = suite('incremental (diamond graph)')
let d: Project

diamond.before(() => {
  d = new Project({
    'autonfile.ts': DIAMOND, 'src/a.txt': 'a\n', 'src/b.txt': 'b\n', 'src/c.txt': 'c\n', 'src/u.txt': 'x\ny\n',
  })
})
diamond.after(() => d.remove())

diamond('with no target named, build builds the default (and everything it needs)', async () => {
  const r = await d.build()
  assert.is(r.code, 0, show(r))
  assert.equal(r.with('ran'), ['A', 'AB', 'B', 'C', 'D', 'U', 'top'])
  assert.is(d.read('out/top.txt'), 'a\nb\nc\n2\n')
})

diamond('a no-op build runs nothing', async () => {
  const r = await d.build()
  assert.equal(r.with('ran'), [], show(r))
  assert.is(r.summary?.upToDate, 7)
})

diamond('editing one input rebuilds exactly its dependents', async () => {
  d.write('src/b.txt', 'B!\n')
  const r = await d.build()
  assert.is(r.code, 0, show(r))
  assert.equal(r.with('ran'), ['AB', 'B', 'top'])
  assert.equal(r.with('up-to-date'), ['A', 'C', 'D', 'U'])
  assert.is(d.read('out/top.txt'), 'a\nB!\nc\n2\n')
})

diamond('touching a file without changing its content rebuilds nothing', async () => {
  d.touch('src/a.txt')
  d.touch('src/c.txt')
  d.touch('out/AB.txt') // an upstream output, too
  const r = await d.build()
  assert.equal(r.with('ran'), [], show(r))
})

diamond('early cutoff: an upstream whose output stays the same leaves its dependents up to date', async () => {
  d.write('src/u.txt', 'p\nq\n') // same line count
  const r = await d.build()
  assert.is(r.code, 0, show(r))
  assert.equal(r.with('ran'), ['U'])
  assert.equal(r.with('up-to-date'), ['A', 'AB', 'B', 'C', 'D', 'top'])
  assert.is(d.read('runs-D.log'), 'ran\n')
})

diamond('an output edited by hand is put back (restored from the cache)', async () => {
  d.write('out/C.txt', 'tampered\n')
  const r = await d.build()
  assert.is(r.status.get('C'), 'restored', show(r))
  assert.is(d.read('out/C.txt'), 'c\n')
  // C's output came back identical, so top (which read it) is cut off
  assert.is(r.status.get('top'), 'up-to-date')
})

diamond('changing only a downstream recipe reruns only it (its inputs are all up to date)', async () => {
  // regression: a dependent of up-to-date targets was queued twice and crashed the scheduler
  d.write('autonfile.ts', DIAMOND.replace('> out/top.txt`', '> out/top.txt; echo >> out/top.txt`'))
  const r = await d.build()
  assert.is(r.code, 0, show(r))
  assert.equal(r.with('ran'), ['top'])
  assert.is(d.read('out/top.txt'), 'a\nB!\nc\n2\n\n')
})

diamond('building one target builds only its closure', async () => {
  d.write('src/a.txt', 'a2\n')
  d.write('src/c.txt', 'c2\n')
  const r = await d.build('A')
  assert.equal([...r.status.keys()], ['A'], show(r))
  assert.is(r.status.get('A'), 'ran')
})

diamond.run()

// ── what else enters the key ─────────────────────────────────────────────────────────
const keys = suite('the key: params, env, function source')

const PARAMS = (n: number, extra = '') => `import { target } from 'auton'
import { writeFileSync } from 'node:fs'
${extra}
target('p', {
  outputs: ['out/p.json'],
  params: { n: ${n}, name: 'x' },
  run: async (ctx) => { writeFileSync('out/p.json', JSON.stringify(ctx.params)) },
})
`

keys('a param change rebuilds; an edit of the module that defines a function recipe reruns it', async () => {
  const p = new Project({ 'autonfile.ts': PARAMS(1) })
  try {
    assert.is((await p.build('p')).status.get('p'), 'ran')
    assert.equal(JSON.parse(p.read('out/p.json')), { n: 1, name: 'x' })
    assert.is((await p.build('p')).status.get('p'), 'up-to-date')
    // the function may call anything in its module: its key covers the module's content
    p.write('autonfile.ts', PARAMS(1, '// a comment and an unrelated target\ntarget("other", { run: async () => {} })'))
    const edited = await p.build('p')
    assert.is(edited.status.get('p'), 'ran', show(edited))
    assert.match(edited.reason.get('p') ?? '', "code 'autonfile.ts' changed")
    p.write('autonfile.ts', PARAMS(2))
    const r = await p.build('p')
    assert.is(r.status.get('p'), 'ran', show(r))
    assert.equal(JSON.parse(p.read('out/p.json')), { n: 2, name: 'x' })
  } finally {
    p.remove()
  }
})

keys('a declared env var change rebuilds; an undeclared one does not', async () => {
  const p = new Project({
    'autonfile.ts': `import { target, sh } from 'auton'
target('g', { env: ['GREETING'], outputs: ['out/g.txt'], run: sh\`echo "$GREETING" > out/g.txt\` })
`,
  })
  try {
    const env = { GREETING: 'hello', UNRELATED: '1' }
    assert.is((await p.run(['build', '--json', 'g'], { env })).status.get('g'), 'ran')
    assert.is(p.read('out/g.txt'), 'hello\n')
    const same = await p.run(['build', '--json', 'g'], { env: { ...env, UNRELATED: '2' } })
    assert.is(same.status.get('g'), 'up-to-date', show(same))
    const r = await p.run(['build', '--json', 'g'], { env: { ...env, GREETING: 'bye' } })
    assert.is(r.status.get('g'), 'ran', show(r))
    assert.is(p.read('out/g.txt'), 'bye\n')
    // the value is a secret: neither the state nor the cache holds it
    for (const f of ['.auton/targets.jsonl', '.auton/last-build.json']) assert.not.match(p.read(f), 'bye', f)
  } finally {
    p.remove()
  }
})

keys('a function recipe whose source changes rebuilds', async () => {
  const fnFile = (word: string) => `import { target } from 'auton'
import { writeFileSync } from 'node:fs'
target('f', { outputs: ['out/f.txt'], run: async () => { writeFileSync('out/f.txt', '${word}') } })
`
  const p = new Project({ 'autonfile.ts': fnFile('first') })
  try {
    assert.is((await p.build('f')).status.get('f'), 'ran')
    assert.is((await p.build('f')).status.get('f'), 'up-to-date')
    p.write('autonfile.ts', fnFile('second'))
    const r = await p.build('f')
    assert.is(r.status.get('f'), 'ran', show(r))
    assert.is(p.read('out/f.txt'), 'second')
  } finally {
    p.remove()
  }
})

keys.run()

// ── failures ─────────────────────────────────────────────────────────────────────────
const failures = suite('failures')

failures('a recipe that exits 0 without its output fails and leaves no record', async () => {
  const p = new Project({
    'autonfile.ts': `import { target, sh } from 'auton'
target('m', { outputs: ['out/m.txt', 'out/n.txt'], run: sh\`echo run >> runs.log; echo x > out/n.txt\` })
`,
  })
  try {
    const r = await p.build('m')
    assert.is(r.code, 1, show(r))
    assert.is(r.status.get('m'), 'failed')
    const ev = r.events.find((e) => e.type === 'target' && e.name === 'm')!
    assert.match(String(ev.error), "did not produce 'out/m.txt'")
    assert.not.ok(p.exists('out/n.txt'), 'the output it did make is removed')
    assert.not.ok(existsSync(p.path('cache/ac.log')), 'nothing in the cache')
    const again = await p.build('m')
    assert.is(again.status.get('m'), 'failed')
    assert.is(p.read('runs.log'), 'run\nrun\n', 'the second build ran it again')
  } finally {
    p.remove()
  }
})

const FAILING = `import { target, sh } from 'auton'
const bad = target('bad', { inputs: ['src/x.txt'], outputs: ['out/bad.txt'], run: sh\`echo boom-on-stderr >&2; exit 3\` })
target('after', { inputs: [bad], outputs: ['out/after.txt'], run: sh\`cp \${bad} out/after.txt\` })
target('ok', { outputs: ['out/ok.txt'], run: sh\`echo ok > out/ok.txt\` })
`

failures('a failing recipe: non-zero exit, its dependents skipped, the log tail shown', async () => {
  const p = new Project({ 'autonfile.ts': FAILING, 'src/x.txt': 'x' })
  try {
    // -j1: 'bad' has the longer path so it runs first; without -k nothing else starts
    const r = await p.run(['build', '-j1', 'after', 'ok'])
    assert.is(r.code, 1, show(r))
    assert.match(r.stderr, /\[FAILED\] bad .*exited with code 3/)
    assert.match(r.stderr, 'boom-on-stderr')
    assert.match(r.stderr, '.auton/logs/bad.log')
    assert.match(r.stderr, /\[skip\] after/)
    assert.not.ok(p.exists('out/after.txt'))
    assert.not.ok(p.exists('out/ok.txt'), 'without -k the independent branch does not start')
    const j = await p.build('-j1', 'after', 'ok')
    assert.is(j.status.get('bad'), 'failed')
    assert.is(j.status.get('after'), 'skipped')
    assert.is(j.summary?.failed, 1)
    assert.is(j.summary?.ok, false)
  } finally {
    p.remove()
  }
})

failures('-k keeps building independent branches', async () => {
  const p = new Project({ 'autonfile.ts': FAILING, 'src/x.txt': 'x' })
  try {
    const r = await p.build('-j1', '-k', 'after', 'ok')
    assert.is(r.code, 1, show(r))
    assert.is(r.status.get('bad'), 'failed')
    assert.is(r.status.get('after'), 'skipped')
    assert.is(r.status.get('ok'), 'ran')
    assert.is(p.read('out/ok.txt'), 'ok\n')
  } finally {
    p.remove()
  }
})

failures.run()

// ── the cache ────────────────────────────────────────────────────────────────────────
const cache = suite('cache: restore and corruption')

cache('after auton clean, outputs are restored from the cache, not rebuilt', async () => {
  const p = new Project({ 'autonfile.ts': MINIMAL, 'src/a.txt': 'one two\n', 'src/b.txt': 'three\n' })
  try {
    assert.is((await p.build('count')).code, 0)
    const words = p.read('out/words.txt')
    const clean = await p.run(['clean'])
    assert.is(clean.code, 0, show(clean))
    assert.not.ok(p.exists('out/words.txt'))
    assert.not.ok(p.exists('out/count.txt'))
    const r = await p.build('count')
    assert.is(r.code, 0, show(r))
    assert.equal(r.with('restored'), ['count', 'words.txt'])
    assert.is(r.summary?.restored, 2)
    assert.is(p.read('out/words.txt'), words)
    assert.is(p.read('out/count.txt').trim(), '3')
    assert.equal((await p.build('count')).with('up-to-date'), ['count', 'words.txt'])
  } finally {
    p.remove()
  }
})

cache('a corrupt cache blob is detected: restore refused, target rebuilt correctly', async () => {
  // 'big' is over INLINE_MAX, so its bytes are a blob file in cache/cas/
  const big = 'alpha\n'.repeat(20_000)
  const p = new Project({ 'autonfile.ts': MINIMAL, 'src/a.txt': big, 'src/b.txt': 'beta\n' })
  try {
    assert.is((await p.build('count')).code, 0)
    const { createHash } = await import('node:crypto')
    const sha = createHash('sha256').update(p.read('out/words.txt')).digest('hex')
    const blob = `cache/cas/${sha.slice(0, 2)}/${sha}`
    assert.ok(p.exists(blob), 'the output is stored by its content hash')
    const { chmodSync } = await import('node:fs')
    chmodSync(p.path(blob), 0o644)
    p.write(blob, big.replace('alpha', 'ALPHA') + 'beta\n') // same size, wrong content
    assert.is((await p.run(['clean'])).code, 0)
    const r = await p.build('count')
    assert.is(r.code, 0, show(r))
    assert.is(r.status.get('words.txt'), 'ran', show(r))
    assert.is(r.status.get('count'), 'restored', 'its small output comes from the action log')
    assert.is(p.read('out/words.txt'), big + 'beta\n')
    const warn = r.events.find((e) => e.type === 'warning')
    assert.ok(warn, 'the corruption is reported')
    assert.match(String(warn!.message), 'corrupt')
    // the rebuild stored a good blob again
    assert.is(createHash('sha256').update(p.read(blob)).digest('hex'), sha)
  } finally {
    p.remove()
  }
})

cache('a damaged action log: the damaged record is a miss, every other record still restores', async () => {
  const p = new Project({ 'autonfile.ts': MINIMAL, 'src/a.txt': 'alpha\n', 'src/b.txt': 'beta\n' })
  try {
    assert.is((await p.build('count')).code, 0)
    const log = p.read('cache/ac.log')
    const inline = Buffer.from('alpha\nbeta\n').toString('base64')
    assert.ok(log.includes(inline), "words.txt's bytes are inline in its record")
    // flip the small output's bytes inside its line: the line's check no longer holds
    p.write('cache/ac.log', log.replace(inline, Buffer.from('alpha\nBETA\n').toString('base64')))
    assert.is((await p.run(['clean'])).code, 0)
    const r = await p.build('count')
    assert.is(r.code, 0, show(r))
    assert.is(r.status.get('words.txt'), 'ran', show(r))
    assert.is(r.status.get('count'), 'restored', show(r))
    assert.is(p.read('out/words.txt'), 'alpha\nbeta\n')
  } finally {
    p.remove()
  }
})

cache('directory outputs: restored with their tree and exec bits; a hand edit inside is put back', async () => {
  const p = new Project({
    'autonfile.ts': `import { target, sh } from 'auton'
const model = target('model', {
  inputs: ['src/w.txt'],
  outputs: ['out/model'],
  run: sh\`mkdir -p out/model/sub && cp src/w.txt out/model/weights && printf '#!/bin/sh\\necho hi\\n' > out/model/sub/run.sh && chmod +x out/model/sub/run.sh\`,
})
target('use', { inputs: ['out/model/sub/run.sh', model], outputs: ['out/use.txt'], run: sh\`out/model/sub/run.sh > out/use.txt; cat out/model/weights >> out/use.txt\` })
`,
    'src/w.txt': 'w1\n',
  })
  try {
    const first = await p.build('use')
    assert.is(first.code, 0, show(first))
    assert.is(p.read('out/use.txt'), 'hi\nw1\n')
    await p.run(['clean'])
    const r = await p.build('use')
    assert.equal(r.with('restored'), ['model', 'use'], show(r))
    const { statSync } = await import('node:fs')
    assert.ok((statSync(p.path('out/model/sub/run.sh')).mode & 0o111) !== 0, 'exec bit restored')
    assert.is(p.read('out/model/weights'), 'w1\n')
    p.write('out/model/weights', 'hand edit\n')
    const again = await p.build('use')
    assert.is(again.status.get('model'), 'restored', show(again))
    assert.is(again.status.get('use'), 'up-to-date')
    assert.is(p.read('out/model/weights'), 'w1\n')
  } finally {
    p.remove()
  }
})

cache('going back to earlier inputs (a branch switch) restores instead of running', async () => {
  const p = new Project({ 'autonfile.ts': MINIMAL, 'src/a.txt': 'one\n', 'src/b.txt': 'two\n' })
  try {
    assert.equal((await p.build('count')).with('ran'), ['count', 'words.txt'])
    p.write('src/a.txt', 'one one\n')
    assert.equal((await p.build('count')).with('ran'), ['count', 'words.txt'])
    p.write('src/a.txt', 'one\n')
    const r = await p.build('count')
    assert.equal(r.with('restored'), ['count', 'words.txt'], show(r))
    assert.is(p.read('out/count.txt').trim(), '2')
  } finally {
    p.remove()
  }
})

cache('--no-cache neither stores nor restores', async () => {
  const p = new Project({ 'autonfile.ts': MINIMAL, 'src/a.txt': 'a\n', 'src/b.txt': 'b\n' })
  try {
    assert.is((await p.build('--no-cache', 'count')).code, 0)
    assert.not.ok(p.exists('cache/ac.log'))
  } finally {
    p.remove()
  }
})

cache.run()
