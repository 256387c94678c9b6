// graph.test.ts — building and validating the graph from declarations (in process).

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { target, sh, registry, resetRegistry } from '../../lib/dsl.js'
import { buildGraph, closure, GraphError, type Graph } from '../../lib/graph.js'

const root = mkdtempSync(join(tmpdir(), 'auton-graph-'))
for (const f of ['src/a.c', 'src/b.c', 'src/x.txt', 'gen/stale.c']) {
  mkdirSync(join(root, f, '..'), { recursive: true })
  writeFileSync(join(root, f), '')
}
test.after(() => rmSync(root, { recursive: true, force: true }))

/** Declare targets with `declare`, then build the graph. */
function graphOf(declare: () => void): Graph {
  resetRegistry()
  declare()
  return buildGraph(registry().targets, root)
}

function error(f: () => unknown): string {
  try {
    f()
  } catch (e) {
    assert.instance(e, GraphError)
    return (e as Error).message
  }
  throw new Error('expected a GraphError')
}

test('closure: dependencies before dependents, only what is needed, each once', () => {
  const g = graphOf(() => {
    const a = target('a', { outputs: ['out/a'], run: sh`touch out/a` })
    const b = target('b', { inputs: [a], outputs: ['out/b'], run: sh`touch out/b` })
    const c = target('c', { inputs: [a], outputs: ['out/c'], run: sh`touch out/c` })
    target('d', { inputs: [b, c], outputs: ['out/d'], run: sh`touch out/d` })
    target('unrelated', { outputs: ['out/u'], run: sh`touch out/u` })
  })
  const order = closure(g, ['d'])
  assert.equal([...order].sort(), ['a', 'b', 'c', 'd'])
  for (const n of order) for (const dep of g.nodes.get(n)!.deps) assert.ok(order.indexOf(dep) < order.indexOf(n), `${dep} before ${n}`)
  assert.equal(closure(g, ['b', 'd', 'b']).filter((n) => n === 'a').length, 1)
})

test('a glob matching other targets\' outputs depends on them; files it matches that a target makes are not sources', () => {
  const g = graphOf(() => {
    target('gen', { outputs: ['gen/stale.c', 'gen/new.c'], run: sh`touch gen/stale.c gen/new.c` })
    target('lib', { inputs: ['src/*.c', 'gen/*.c'], outputs: ['lib.a'], run: sh`ar rcs lib.a` })
  })
  const lib = g.nodes.get('lib')!
  assert.equal(lib.deps, ['gen'])
  assert.equal(lib.sources, ['src/a.c', 'src/b.c'])
  assert.equal(lib.upstreamFiles.sort(), ['gen/new.c', 'gen/stale.c'])
})

test('a plain path another target outputs is an edge (as in make), also inside a directory output', () => {
  const g = graphOf(() => {
    target('words', { outputs: ['out/words.txt'], run: sh`touch out/words.txt` })
    target('model', { outputs: ['models/m'], run: sh`mkdir -p models/m` })
    target('use', { inputs: ['./out/words.txt', 'models/m/weights.bin', 'src/x.txt'], outputs: ['u'], run: sh`touch u` })
  })
  const use = g.nodes.get('use')!
  assert.equal(use.deps, ['words', 'model'])
  assert.equal(use.sources, ['src/x.txt'])
})

test('targets declared in a loop; a handle of an aggregate target is a dependency', () => {
  const g = graphOf(() => {
    const kernels = ['x86_64', 'aarch64'].map((arch) =>
      target(`kernel-${arch}.elf`, { outputs: [`out/${arch}.elf`], run: sh`touch out/${arch}.elf` }),
    )
    const all = target('kernels', { inputs: kernels })
    target('release', { inputs: [all], outputs: ['r'], run: sh`touch r`, default: true })
  })
  assert.equal(g.nodes.get('kernels')!.deps, ['kernel-x86_64.elf', 'kernel-aarch64.elf'])
  assert.equal(g.nodes.get('release')!.deps, ['kernels'])
  assert.equal(g.defaults, ['release'])
})

test('a cycle names its path and where each target is declared', () => {
  const g = graphOf(() => {
    target('a', { inputs: ['out/b'], outputs: ['out/a'], run: sh`x` })
    target('b', { inputs: ['out/a'], outputs: ['out/b'], run: sh`x` })
  })
  const msg = error(() => closure(g, ['a']))
  assert.match(msg, 'dependency cycle: a -> b -> a')
  assert.match(msg, /graph\.test\.ts:\d+/)
})

test('two targets declaring one output: both named, with their sites', () => {
  const msg = error(() =>
    graphOf(() => {
      target('one', { outputs: ['out/x'], run: sh`x` })
      target('two', { outputs: ['./out/x'], run: sh`x` })
    }),
  )
  assert.match(msg, /output 'out\/x' is declared by two targets: 'one' \(.*graph\.test\.ts:\d+\) and 'two' \(.*graph\.test\.ts:\d+\)/)
})

test('a missing source input, a target listing its own output, a name declared twice', () => {
  assert.match(
    error(() => graphOf(() => void target('t', { inputs: ['src/missing.txt'], outputs: ['o'], run: sh`x` }))),
    /graph\.test\.ts:\d+: input 'src\/missing.txt' of target 't' does not exist and no target produces it/,
  )
  assert.match(
    error(() => graphOf(() => void target('t', { inputs: ['o'], outputs: ['o'], run: sh`x` }))),
    "target 't' lists its own output 'o' as an input",
  )
  assert.match(
    error(() => graphOf(() => (target('t', { run: sh`x` }), target('t', { run: sh`y` })))),
    /target 't' is declared twice/,
  )
})

test('an unknown target suggests the closest names (or the target that makes it)', () => {
  const g = graphOf(() => {
    target('tokenizer', { outputs: ['out/tok.json'], run: sh`x` })
    target('kernel-x86_64.elf', { outputs: ['out/k.elf'], run: sh`x` })
  })
  assert.match(error(() => closure(g, ['tokeniser'])), "unknown target 'tokeniser' — did you mean 'tokenizer'")
  assert.match(error(() => closure(g, ['out/tok.json'])), "it is an output of target 'tokenizer'")
})

test('sh quotes interpolated values and expands handles and arrays', () => {
  resetRegistry()
  const h = target('h', { outputs: ['a b.txt', 'c.txt'], run: sh`x` })
  assert.is(sh`cat ${h} ${['x', "it's"]} ${3}`.describe(), `cat 'a b.txt' c.txt x 'it'\\''s' 3`)
})

test.run()
