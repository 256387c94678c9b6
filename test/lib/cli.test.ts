// cli.test.ts — the commands and what they print: list, graph, explain, cache, dry-run,
// --json lines, the Chrome trace, --help, and every load/graph error with its text.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Project, show } from '../helpers/project.js'

const AUTONFILE = `import { target, sh } from 'auton'

const words = target('words.txt', {
  inputs: ['src/a.txt', 'src/b.txt'],
  outputs: ['out/words.txt'],
  description: 'all the words',
  run: sh\`echo words >> runs.log; cat src/a.txt src/b.txt > out/words.txt\`,
})
const count = target('count', {
  inputs: [words],
  outputs: ['out/count.txt'],
  params: { flags: '-w' },
  run: sh\`echo count >> runs.log; wc -w < \${words} > out/count.txt\`,
})
target('all', { inputs: [count], default: true })
`

const cmds = suite('commands')
let p: Project

cmds.before(() => {
  p = new Project({ 'autonfile.ts': AUTONFILE, 'src/a.txt': 'one two\n', 'src/b.txt': 'three\n' })
})
cmds.after(() => p.remove())

cmds('build --json: one JSON object per line, target events and a final summary', async () => {
  const r = await p.build()
  assert.is(r.code, 0, show(r))
  const lines = r.stdout.trim().split('\n')
  assert.ok(lines.every((l) => { JSON.parse(l); return true }), 'every stdout line is JSON')
  const targets = r.events.filter((e) => e.type === 'target')
  assert.equal(targets.map((e) => e.name).sort(), ['all', 'count', 'words.txt'])
  for (const e of targets) {
    assert.type(e.name, 'string')
    assert.ok(['ran', 'restored', 'up-to-date', 'failed'].includes(e.status!), e.status)
    assert.type(e.ms, 'number')
  }
  const last = r.events[r.events.length - 1]
  assert.is(last.type, 'summary')
  for (const k of ['ran', 'restored', 'upToDate', 'failed', 'ms']) assert.type(last[k], 'number', k)
  assert.equal([last.ran, last.restored, last.upToDate, last.failed], [2, 0, 1, 0])
})

cmds('.auton/trace.json is a Chrome trace of the build', async () => {
  const trace = JSON.parse(p.read('.auton/trace.json'))
  assert.ok(Array.isArray(trace.traceEvents))
  const spans = trace.traceEvents.filter((e: { ph: string }) => e.ph === 'X')
  assert.equal(spans.map((e: { name: string }) => e.name).sort(), ['count', 'words.txt'])
  for (const e of spans) {
    for (const k of ['ts', 'dur', 'pid', 'tid']) assert.type(e[k], 'number', k)
    assert.ok(e.dur >= 0 && e.ts >= 0)
  }
  const [w, c] = ['words.txt', 'count'].map((n) => spans.find((e: { name: string }) => e.name === n))
  assert.ok(w.ts + w.dur <= c.ts + 1000, 'count starts after words.txt ends (µs, 1 ms slack)')
})

cmds('list: names, outputs, the default mark and descriptions', async () => {
  const r = await p.run(['list'])
  assert.is(r.code, 0, show(r))
  assert.match(r.stdout, /^ +words\.txt +out\/words\.txt +all the words$/m)
  assert.match(r.stdout, /^ +count +out\/count\.txt$/m)
  assert.match(r.stdout, /^\* all +\(aggregate\)$/m)
})

cmds('graph --format dot | mermaid | json', async () => {
  const dot = await p.run(['graph', '--format', 'dot'])
  assert.is(dot.code, 0, show(dot))
  assert.match(dot.stdout, /^digraph auton \{/)
  assert.match(dot.stdout, '"words.txt" -> "count";')
  assert.match(dot.stdout, '"count" -> "all";')
  const mermaid = await p.run(['graph', '--format', 'mermaid', 'count'])
  assert.match(mermaid.stdout, /^graph LR/)
  const id = (n: string) => new RegExp(`(t\\d+)\\["${n.replace('.', '\\.')}"\\]`).exec(mermaid.stdout)![1]
  assert.match(mermaid.stdout, `${id('words.txt')} --> ${id('count')}`)
  assert.not.match(mermaid.stdout, '"all"', 'only the closure of count')
  const json = JSON.parse((await p.run(['graph', '--format', 'json'])).stdout)
  const count = json.find((n: { name: string }) => n.name === 'count')
  assert.equal(count.deps, ['words.txt'])
  assert.equal(count.outputs, ['out/count.txt'])
  assert.equal(json.find((n: { name: string }) => n.name === 'words.txt').sources, ['src/a.txt', 'src/b.txt'])
  const bad = await p.run(['graph', '--format', 'svg'])
  assert.is(bad.code, 1)
  assert.match(bad.stderr, "unknown graph format 'svg' (use dot, mermaid or json)")
})

cmds('explain: up to date, then which input changed, and that the upstream will rebuild', async () => {
  const ok = await p.run(['explain', 'count'])
  assert.is(ok.stdout.trim(), 'count: up to date', show(ok))
  p.write('src/b.txt', 'three four\n')
  const r = await p.run(['explain', 'count'])
  assert.match(r.stdout, "words.txt: would rebuild because\n  - input 'src/b.txt' changed", show(r))
  assert.match(r.stdout, "count: would rebuild because\n  - upstream target 'words.txt' would run")
  assert.not.match(r.stdout, 'count: up to date')
})

cmds('build -n: says what would run and why, runs nothing', async () => {
  const before = p.read('runs.log')
  const r = await p.run(['build', '-n'])
  assert.is(r.code, 0, show(r))
  assert.match(r.stderr, "[would run] words.txt: input 'src/b.txt' changed")
  assert.match(r.stderr, "[would run] count: upstream target 'words.txt' would run")
  assert.is(p.read('runs.log'), before)
  assert.is(p.read('out/words.txt'), 'one two\nthree\n')
  const j = await p.build('-n')
  assert.equal(j.with('would-run'), ['count', 'words.txt'])
  assert.is(j.summary?.ran, 0)
})

cmds('explain: a param change', async () => {
  await p.build()
  p.write('autonfile.ts', AUTONFILE.replace("flags: '-w'", "flags: '-l'"))
  const r = await p.run(['explain', 'count'])
  assert.match(r.stdout, `count: would rebuild because\n  - param flags changed: "-w" → "-l"`, show(r))
  p.write('autonfile.ts', AUTONFILE)
})

cmds('cache stats, then prune --max-size: a pruned cache no longer restores', async () => {
  const stats = await p.run(['cache', 'stats'])
  assert.is(stats.code, 0, show(stats))
  const m = /(\d+) actions, (\d+) blobs, ([\d.]+) (B|KiB)/.exec(stats.stdout)
  assert.ok(m, stats.stdout)
  assert.ok(Number(m![1]) >= 2 && Number(m![2]) >= 2 && Number(m![3]) > 0, stats.stdout)
  const keep = await p.run(['cache', 'prune', '--max-size', '1G'])
  assert.match(keep.stdout, /removed 0 blobs and 0 actions/, show(keep))
  const prune = await p.run(['cache', 'prune', '--max-size', '0'])
  assert.match(prune.stdout, new RegExp(`removed ${m![2]} blobs and ${m![1]} actions; cache is now 0 B`), show(prune))
  const missing = await p.run(['cache', 'prune'])
  assert.is(missing.code, 2)
  assert.match(missing.stderr, '--max-size SIZE is required')
  await p.run(['clean'])
  const r = await p.build()
  assert.equal(r.with('ran'), ['count', 'words.txt'], show(r))
})

cmds('--help on every command; unknown commands and bad -j are usage errors', async () => {
  const main = await p.run(['--help'])
  assert.is(main.code, 0)
  for (const c of ['build', 'list', 'graph', 'explain', 'clean', 'cache']) assert.match(main.stdout, new RegExp(`^  ${c}`, 'm'))
  for (const c of ['build', 'explain', 'cache']) {
    const h = await p.run([c, '--help'])
    assert.is(h.code, 0, show(h))
    assert.match(h.stdout, `usage: auton ${c}`)
  }
  const unknown = await p.run(['biuld'])
  assert.is(unknown.code, 2)
  assert.match(unknown.stderr, "unknown command 'biuld'")
  const j = await p.run(['build', '-j', 'zero'])
  assert.is(j.code, 2)
  assert.match(j.stderr, "-j wants a positive integer, got 'zero'")
})

cmds.run()

// ── errors: each says what, where, and what to do ────────────────────────────────────
const errors = suite('errors')
let e: Project

errors.before(() => {
  e = new Project({
    'src/ok.txt': 'ok',
    'cycle.ts': `import { target, sh } from 'auton'
target('a', { inputs: ['out/b'], outputs: ['out/a'], run: sh\`cp out/b out/a\` })
target('b', { inputs: ['out/a'], outputs: ['out/b'], run: sh\`cp out/a out/b\` })
`,
    'dup.ts': `import { target, sh } from 'auton'
target('first', { outputs: ['out/x'], run: sh\`touch out/x\` })
target('second', { outputs: ['out/x'], run: sh\`touch out/x\` })
`,
    'syntax.ts': `import { target, sh } from 'auton'
target('a', { outputs: ['out/a'], run: sh\`touch out/a\` })
const = broken
`,
    'throws.ts': `import { target, sh } from 'auton'
target('a', { outputs: ['out/a'], run: sh\`touch out/a\` })

throw new Error('no GPU found')
`,
    'missing.ts': `import { target, sh } from 'auton'
target('needs', { inputs: ['src/ok.txt', 'src/gone.txt'], outputs: ['out/n'], run: sh\`touch out/n\` })
`,
    'autonfile.ts': `import { target, sh } from 'auton'
target('tokenizer', { inputs: ['src/ok.txt'], outputs: ['out/tok'], run: sh\`cp src/ok.txt out/tok\` })
target('kernel', { outputs: ['out/k'], run: sh\`touch out/k\` })
`,
  })
})
errors.after(() => e.remove())

async function fails(args: string[]): Promise<string> {
  const r = await e.run(args)
  assert.is(r.code, 1, show(r))
  assert.ok(r.stderr.startsWith('auton: '), show(r))
  assert.not.match(r.stderr, 'internal error', show(r))
  return r.stderr
}

errors('a cycle prints the cycle and where its targets are', async () => {
  const msg = await fails(['build', '-f', 'cycle.ts', 'a'])
  assert.match(msg, 'dependency cycle: a -> b -> a')
  assert.match(msg, /cycle\.ts:2\)/)
  assert.match(msg, /cycle\.ts:3\)/)
})

errors('two targets declaring one output name both', async () => {
  const msg = await fails(['build', '-f', 'dup.ts', 'first'])
  assert.match(msg, /output 'out\/x' is declared by two targets: 'first' \(.*dup\.ts:2\) and 'second' \(.*dup\.ts:3\)/)
})

errors('an unknown target suggests the closest name', async () => {
  const msg = await fails(['build', 'tokeniser'])
  assert.match(msg, "unknown target 'tokeniser' — did you mean 'tokenizer'")
})

errors('an autonfile with a syntax error names the file and line', async () => {
  const msg = await fails(['build', '-f', 'syntax.ts', 'a'])
  assert.match(msg, /syntax\.ts:3\b/)
  assert.match(msg, 'failed to load')
})

errors('an autonfile that throws names the file and line, and the error', async () => {
  const msg = await fails(['list', '-f', 'throws.ts'])
  assert.match(msg, /throws\.ts:4: the autonfile failed to load: no GPU found/)
})

errors('a missing source input names the input, the target and its line', async () => {
  const msg = await fails(['build', '-f', 'missing.ts', 'needs'])
  assert.match(msg, /missing\.ts:2: input 'src\/gone\.txt' of target 'needs' does not exist and no target produces it/)
})

errors('no autonfile', async () => {
  const msg = await fails(['build', '-f', 'nope.ts'])
  assert.match(msg, /no autonfile at .*nope\.ts \(create autonfile\.ts, or pass --file PATH\)/)
})

errors.run()
