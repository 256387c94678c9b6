// rebuilder.test.ts — decide() without a disk or a child process: the world is a map.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { decide, type RebuildContext } from '../../lib/rebuilder.js'
import { keyOf, keyParts, ToolIds, type KeyWorld } from '../../lib/key.js'
import { CodeGraph } from '../../lib/code-deps.js'
import { shellCommand } from '../../lib/runners/command.js'
import type { Node } from '../../lib/graph.js'
import type { TargetDecl } from '../../lib/dsl.js'
import type { TargetRecord } from '../../lib/state.js'
import type { ActionRecord } from '../../lib/cache.js'

const test = suite('rebuilder')

function node(over: Partial<TargetDecl> = {}, sources = ['src/a.txt']): Node {
  const decl = {
    name: 't', inputs: sources, outputs: ['out/t.txt'], recipe: shellCommand('cat src/a.txt > out/t.txt'), pool: undefined,
    env: [], passEnv: [], secrets: [], executor: 'local', resources: {}, retries: 0, params: {}, tools: [], depfile: undefined,
    isDefault: false, description: undefined, site: 'test', ...over,
  } as TargetDecl
  return { decl, name: decl.name, deps: [], sources, upstreamFiles: [] }
}

class FakeTools extends ToolIds {
  constructor(private readonly ids: Map<string, string>) {
    super('/')
  }
  override get(cmd: string): string {
    const id = this.ids.get(cmd)
    if (id === undefined) throw new Error(`tool '${cmd}' failed`)
    return id
  }
}

function world(files: Record<string, string>, env: Record<string, string> = {}, tools = new Map<string, string>()): KeyWorld {
  const hash = (p: string) => files[p]
  return {
    root: '/p', hash, envValue: (n) => env[n], salt: 's'.repeat(64),
    code: new CodeGraph('/p', hash, () => []), tools: new FakeTools(tools),
  }
}

/** A context whose record is what a build in `w` would have written. */
function built(n: Node, w: KeyWorld, outputs: Record<string, string>): RebuildContext {
  const parts = keyParts(n, w)
  const rec: TargetRecord = { name: n.name, key: keyOf(parts, w.envValue), fullKey: '', parts, outputs, discovered: {}, ms: 1, via: 'ran', at: 0 }
  rec.fullKey = rec.key
  return { world: w, state: { records: new Map([[n.name, rec]]) } }
}

test('never built, then up to date without hashing the key', () => {
  const n = node()
  const w = world({ '/p/src/a.txt': 'h1', '/p/out/t.txt': 'o1' })
  const d = decide(n, { world: w, state: { records: new Map() } })
  assert.is(d.kind, 'run')
  assert.match((d as { reasons: string[] }).reasons[0], 'never been built')
  assert.is(decide(n, built(n, w, { 'out/t.txt': 'o1' })).kind, 'up-to-date')
})

test('each kind of change gives its own exact reason', () => {
  const n = node({ params: { seed: 1 }, env: ['FOO', 'BAR'], tools: ['cc --version'] })
  const tools = new Map([['cc --version', 'v1']])
  const w = world({ '/p/src/a.txt': 'h1', '/p/out/t.txt': 'o1' }, { FOO: 'x', BAR: 'y' }, tools)
  const c = built(n, w, { 'out/t.txt': 'o1' })
  const reasons = (m: Node, ww: KeyWorld) => {
    const d = decide(m, { ...c, world: ww })
    return d.kind === 'up-to-date' ? [] : (d as { reasons: string[] }).reasons
  }
  assert.equal(reasons(n, w), [])
  assert.equal(reasons(n, world({ '/p/src/a.txt': 'h2', '/p/out/t.txt': 'o1' }, { FOO: 'x', BAR: 'y' }, tools)), ["input 'src/a.txt' changed"])
  assert.equal(reasons(node({ ...n.decl, params: { seed: 2 } }), w), ['param seed changed: 1 → 2'])
  assert.equal(reasons(node({ ...n.decl, params: {} }), w), ['param seed was removed (was 1)'])
  assert.equal(reasons(n, world({ '/p/src/a.txt': 'h1', '/p/out/t.txt': 'o1' }, { FOO: 'z', BAR: 'y' }, tools)), ['env var FOO changed'])
  assert.equal(reasons(n, world({ '/p/src/a.txt': 'h1', '/p/out/t.txt': 'o1' }, { BAR: 'y' }, tools)), ['env var FOO changed (now unset)'])
  assert.equal(reasons(node({ ...n.decl, env: ['BAR'] }), w), ['env var FOO was removed'])
  assert.equal(reasons(node({ ...n.decl, env: ['FOO', 'BAR', 'BAZ'] }), w), ['env var BAZ was added'])
  assert.equal(reasons(n, world({ '/p/src/a.txt': 'h1', '/p/out/t.txt': 'o1' }, { FOO: 'x', BAR: 'y' }, new Map([['cc --version', 'v2']]))), ["tool 'cc --version' changed"])
  assert.equal(reasons(node({ ...n.decl, tools: [] }), w), ["tool 'cc --version' was removed"])
  assert.equal(reasons(node({ ...n.decl, outputs: ['out/t.txt', 'out/u.txt'] }), w), ["output 'out/u.txt' was added to its outputs"])
  assert.equal(reasons(node({ ...n.decl, recipe: shellCommand('cp src/a.txt out/t.txt') }), w), ['the recipe (sh) changed'])
  assert.equal(reasons(n, world({ '/p/src/a.txt': 'h1' }, { FOO: 'x', BAR: 'y' }, tools)), ["output 'out/t.txt' is missing"])
  assert.equal(reasons(n, world({ '/p/src/a.txt': 'h1', '/p/out/t.txt': 'o2' }, { FOO: 'x', BAR: 'y' }, tools)), ["output 'out/t.txt' was modified outside the build"])
})

test('a changed key always has a reason, and the same parts always give the same key', () => {
  const n = node({ params: { a: [1, { b: 2 }] }, env: ['FOO'] })
  const w = world({ '/p/src/a.txt': 'h1' }, { FOO: 'x' })
  const k1 = keyOf(keyParts(n, w), w.envValue)
  // the key does not depend on the per-checkout salt (a shared cache needs the same key everywhere)
  const other = { ...w, salt: 't'.repeat(64) }
  assert.is(keyOf(keyParts(n, other), other.envValue), k1)
  // ... but the recorded env part does (the journal does not reveal the value to a guess)
  assert.is.not(keyParts(n, other)['env:FOO'], keyParts(n, w)['env:FOO'])
  assert.is.not(keyParts(n, w)['env:FOO'], 'x')
})

test('restore when the local cache holds the key, with the reasons it would otherwise run', () => {
  const n = node()
  const w = world({ '/p/src/a.txt': 'h1' })
  const key = keyOf(keyParts(n, w), w.envValue)
  const action: ActionRecord = { key, outputs: [], discovered: {}, ms: 5 }
  const d = decide(n, { world: w, state: { records: new Map() }, cache: { getAction: (k: string) => (k === key ? action : undefined) } })
  assert.is(d.kind, 'restore')
})

test('a missing input is an error naming it; pending upstream needs no key', () => {
  const n = node()
  assert.throws(() => decide(n, { world: world({}), state: { records: new Map() } }), /input 'src\/a.txt' of target 't' is missing/)
  const d = decide(n, { world: world({}), state: { records: new Map() } }, ['up'])
  assert.is(d.kind, 'after-upstream')
})

test.run()
