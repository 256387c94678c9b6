// provenance.test.ts — lineage from journal records (pure), and `auton provenance` / `auton why`
// on a real multi-stage project.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { Journal, ProvenanceError, statement, statementDigest, tree, toStep, type JournalRecord } from '../../lib/provenance.js'
import { canonicalJSON } from '../../lib/key.js'
import { Project, show } from '../helpers/project.js'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')
const H = (c: string) => c.repeat(64)

// src/a.txt → A → out/a.txt ┐
//                 src/b.txt ├→ B (tool, param, env) → out/b.txt
const recA: JournalRecord = {
  name: 'A', outputs: { 'out/a.txt': H('a') }, discovered: {},
  parts: { 'recipe:sh': H('1'), 'input:src/a.txt': H('5'), 'output:out/a.txt': '' }, at: 1,
}
const recB: JournalRecord = {
  name: 'B', outputs: { 'out/b.txt': H('b') }, discovered: { 'inc/h.h': H('6') },
  parts: {
    'recipe:function': H('2'), 'input:out/a.txt': H('a'), 'input:/usr/share/misc/pci.ids': H('7'), 'code:rules/b.ts': H('8'),
    'code:pkg:jiti@2.7.0': '', 'output:out/b.txt': '', 'param:n': '2', 'env:SEED': 'salted-hash', 'tool:gcc --version': H('9'),
  },
  at: 2,
}

const t = suite('provenance (records)')

t('the lineage reaches every source by digest, through the producer of each upstream output', () => {
  const root = new Journal([recA, recB]).lineage('out/b.txt', H('b'))
  const st = statement(root) as any
  assert.is(st._type, 'https://in-toto.io/Statement/v1')
  assert.is(st.predicateType, 'https://slsa.dev/provenance/v1')
  assert.equal(st.subject, [{ name: 'out/b.txt', digest: { sha256: H('b') } }])
  const deps = st.predicate.buildDefinition.resolvedDependencies
  const by = new Map(deps.map((d: any) => [d.name, d]))
  assert.equal((by.get('out/a.txt') as any).digest, { sha256: H('a') })
  assert.equal((by.get('out/a.txt') as any).annotations, { kind: 'intermediate', producedBy: 'A' })
  assert.equal((by.get('src/a.txt') as any).digest, { sha256: H('5') }, 'transitively down to A\'s source')
  assert.equal((by.get('/usr/share/misc/pci.ids') as any).uri, 'file:///usr/share/misc/pci.ids')
  assert.equal((by.get('inc/h.h') as any).annotations, { kind: 'discovered' })
  assert.equal((by.get('rules/b.ts') as any).annotations, { kind: 'code' })
  assert.equal((by.get('pkg:jiti@2.7.0') as any).uri, 'pkg:npm/jiti@2.7.0')
  assert.is(deps.length, 6)
  assert.equal(st.predicate.buildDefinition.externalParameters, { target: 'B', params: { n: 2 } })
  const [b, a] = st.predicate.buildDefinition.internalParameters.steps
  assert.equal(b.tools, { 'gcc --version': H('9') })
  assert.equal(b.env, ['SEED'], 'env var names, never their hashes')
  assert.equal(b.recipe, { kind: 'function', sha256: H('2') })
  assert.is(a.target, 'A')
  assert.not.ok(JSON.stringify(st).includes('salted-hash'))
})

t('the statement is deterministic: record order, timestamps and how a record was made do not change it', () => {
  const one = statement(new Journal([recA, recB]).lineage('out/b.txt', H('b')))
  const two = statement(new Journal([{ ...recB, at: 99, via: 'restored' } as JournalRecord, { ...recA, at: 98 }]).lineage('out/b.txt', H('b')))
  assert.is(statementDigest(one), statementDigest(two))
  assert.is(statementDigest(one), sha(canonicalJSON(one)))
  const other = statement(new Journal([{ ...recA, parts: { ...recA.parts, 'input:src/a.txt': H('0') } }, recB]).lineage('out/b.txt', H('b')))
  assert.is.not(statementDigest(one), statementDigest(other), 'a source digest changes it')
})

t('the older record shape (separate inputs, params, tools, recipe) gives the same statement', () => {
  const legacy: JournalRecord = {
    name: 'A', outputs: { 'out/a.txt': H('a') }, discovered: {}, inputs: { 'src/a.txt': H('5') }, recipe: H('1'), params: '{}', env: {}, tools: {},
  }
  const s = toStep(legacy)
  assert.equal(s.inputs, { 'src/a.txt': H('5') })
  const deps = (statement(new Journal([legacy, recB]).lineage('out/b.txt', H('b'))) as any).predicate.buildDefinition.resolvedDependencies
  assert.ok(deps.some((d: any) => d.name === 'src/a.txt' && d.digest.sha256 === H('5')))
})

t('refused: a file with no record, a missing file, a file changed since its record', () => {
  const j = new Journal([recA, recB])
  assert.throws(() => j.lineage('out/none.txt', H('c')), (e: Error) => e instanceof ProvenanceError && /no build record/.test(e.message))
  assert.throws(() => j.lineage('out/b.txt', undefined), /does not exist/)
  assert.throws(() => j.lineage('out/b.txt', H('c')), /not what 'B' built: it hashes to sha256 cccc.*modified outside the build.*auton build B/)
})

t('refused: a lineage whose upstream has since rebuilt the bytes it read (stale); why marks it', () => {
  const j = new Journal([{ ...recA, outputs: { 'out/a.txt': H('d') } }, recB])
  const root = j.lineage('out/b.txt', H('b'))
  assert.throws(() => statement(root), /no longer says how 'out\/b.txt' was made: 'out\/a.txt': 'B' read sha256 aaaa.*'A' has since recorded dddd/)
  assert.match(tree(root), /out\/a.txt  sha256:aaaaaaaaaaaa  STALE/)
})

t('why: one line per file, producers with recipe, params and tools, sources marked', () => {
  const text = tree(new Journal([recA, recB]).lineage('out/b.txt', H('b')))
  const lines = text.split('\n')
  assert.match(lines[0], /^out\/b.txt  sha256:bbbbbbbbbbbb  ← 'B' \(recipe function 22222222; params \{"n":2\}; tool 'gcc --version' 99999999; env SEED\)$/)
  assert.match(text, /├─ out\/a.txt  sha256:aaaaaaaaaaaa  ← 'A'/)
  assert.match(text, /│  └─ src\/a.txt  sha256:555555555555  \(source\)/)
  assert.match(text, /\/usr\/share\/misc\/pci.ids  sha256:777777777777  \(source\)/)
  assert.match(text, /rules\/b.ts  sha256:888888888888  \(recipe code\)/)
})

const e2e = suite('auton provenance / why (a real project)')

// A → B → C, with a second source entering at B
const AUTONFILE = `import { target, sh } from 'auton'
const A = target('A', { inputs: ['src/a.txt'], outputs: ['out/a.txt'], run: sh\`tr a-z A-Z < src/a.txt > out/a.txt\` })
const B = target('B', { inputs: [A, 'src/b.txt'], outputs: ['out/b.txt'], params: { n: 2 }, run: sh\`cat \${A} src/b.txt > out/b.txt\` })
target('C', { inputs: [B], outputs: ['out/c.txt'], default: true, run: sh\`cat \${B} \${B} > out/c.txt\` })
`
const FILES = { 'autonfile.ts': AUTONFILE, 'src/a.txt': 'alpha\n', 'src/b.txt': 'beta\n' }

e2e('a recipe sees the records of what ran before it in the same build (a command and a function reading provenance)', async () => {
  const p = new Project({
    ...FILES,
    'autonfile.ts': (AUTONFILE + `import { provenanceOf } from 'auton'
target('cmd-reads', { inputs: [B], outputs: ['out/cmd.json'], run: sh\`node \${process.argv[1]} provenance --digest out/b.txt > out/cmd.json\` })
target('fn-reads', { inputs: [B], outputs: ['out/fn.txt'], run: fn(async () => { (await import('node:fs')).writeFileSync('out/fn.txt', provenanceOf(process.cwd(), 'out/b.txt').digest) }) })
`).replace("import { target, sh } from 'auton'", "import { target, sh, fn } from 'auton'"),
  })
  try {
    const r = await p.build('cmd-reads', 'fn-reads')
    assert.is(r.code, 0, show(r))
    const d = await p.run(['provenance', '--digest', 'out/b.txt'])
    assert.is(p.read('out/cmd.json').trim(), d.stdout.trim())
    assert.is(p.read('out/fn.txt'), d.stdout.trim())
  } finally {
    p.remove()
  }
})

e2e('the statement of a three-stage output reaches both sources by digest; its subject is the file', async () => {
  const p = new Project(FILES)
  try {
    assert.is((await p.build()).code, 0)
    const r = await p.run(['provenance', 'out/c.txt'])
    assert.is(r.code, 0, show(r))
    const st = JSON.parse(r.stdout)
    assert.equal(st.subject, [{ name: 'out/c.txt', digest: { sha256: sha(p.read('out/c.txt')) } }])
    const deps = new Map(st.predicate.buildDefinition.resolvedDependencies.map((d: any) => [d.name, d]))
    assert.equal((deps.get('src/a.txt') as any).digest.sha256, sha('alpha\n'))
    assert.equal((deps.get('src/b.txt') as any).digest.sha256, sha('beta\n'))
    assert.equal((deps.get('out/a.txt') as any).digest.sha256, sha('ALPHA\n'))
    assert.equal((deps.get('out/b.txt') as any).annotations.producedBy, 'B')
    assert.equal(st.predicate.buildDefinition.internalParameters.steps.map((s: any) => s.target), ['C', 'B', 'A'])
    assert.equal(st.predicate.buildDefinition.internalParameters.steps[1].params, { n: 2 })
    const d = await p.run(['provenance', '--digest', join(p.dir, 'out/c.txt')])
    assert.is(d.stdout.trim(), sha(canonicalJSON(st)))

    const why = await p.run(['why', 'out/c.txt'])
    assert.is(why.code, 0, show(why))
    assert.match(why.stdout, /^out\/c.txt  sha256:\w{12}  ← 'C'/)
    assert.match(why.stdout, /src\/a.txt  sha256:\w{12}  \(source\)/)

    p.write('out/c.txt', 'edited by hand\n')
    const bad = await p.run(['provenance', 'out/c.txt'])
    assert.is(bad.code, 1)
    assert.match(bad.stderr, /'out\/c.txt' is not what 'C' built.*modified outside the build/)
    const none = await p.run(['provenance', 'src/a.txt'])
    assert.is(none.code, 1)
    assert.match(none.stderr, /'src\/a.txt' has no build record/)
  } finally {
    p.remove()
  }
})

e2e('a checkout that restored everything from the cache gives the same statement digest', async () => {
  const one = new Project(FILES)
  const two = new Project({ ...FILES, 'auton.toml': `[cache]\ndir = "${join(one.dir, 'cache')}"\n` })
  try {
    assert.is((await one.build()).code, 0)
    const r = await two.build()
    assert.is(r.summary?.restored, 3, show(r))
    const a = await one.run(['provenance', '--digest', 'out/c.txt'])
    const b = await two.run(['provenance', '--digest', 'out/c.txt'])
    assert.match(a.stdout, /^[0-9a-f]{64}\n$/)
    assert.is(b.stdout, a.stdout)
  } finally {
    one.remove()
    two.remove()
  }
})

t.run()
e2e.run()
