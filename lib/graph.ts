// graph.ts — the validated build graph: targets, their inputs and the edges between them.
//
// Edges come from data flow: a handle in `inputs`, or a path (or glob) that another
// target declares as an output, makes that target a dependency. Everything else in
// `inputs` is a source file that must exist. Invariants after buildGraph():
//   - every output path has exactly one producer;
//   - every dependency names a declared target;
//   - the graph restricted to any requested closure is acyclic (checked in closure()).

import { existsSync } from 'node:fs'
import { globSync } from 'tinyglobby'
import picomatch from 'picomatch'
import { closest, distance } from 'fastest-levenshtein'
import { isHandleLike, type TargetDecl } from './dsl.js'

export interface Node {
  decl: TargetDecl
  name: string
  /** Names of targets this one depends on, in input order, unique. */
  deps: string[]
  /** Source files (not produced by any target), sorted. */
  sources: string[]
  /** Upstream outputs this target reads (files or directories), in input order. */
  upstreamFiles: string[]
}

export interface Graph {
  nodes: Map<string, Node>
  /** Output path → producing target. */
  producers: Map<string, string>
  defaults: string[]
}

export class GraphError extends Error {}

const GLOB = /[*?[\]{}]/

export function buildGraph(decls: TargetDecl[], root: string): Graph {
  const nodes = new Map<string, Node>()
  const producers = new Map<string, string>()
  for (const d of decls) {
    const prev = nodes.get(d.name)
    if (prev) throw new GraphError(`target '${d.name}' is declared twice: ${prev.decl.site} and ${d.site}`)
    nodes.set(d.name, { decl: d, name: d.name, deps: [], sources: [], upstreamFiles: [] })
    for (const o of d.outputs) {
      const other = producers.get(o)
      if (other !== undefined) {
        const od = nodes.get(other)!.decl
        throw new GraphError(
          `output '${o}' is declared by two targets: '${other}' (${od.site}) and '${d.name}' (${d.site})`,
        )
      }
      producers.set(o, d.name)
    }
  }
  const outputPaths = [...producers.keys()]
  for (const n of nodes.values()) resolveInputs(n, nodes, producers, outputPaths, root)
  const defaults = decls.filter((d) => d.isDefault).map((d) => d.name)
  return { nodes, producers, defaults }
}

/** Which target produces `path` — itself or a directory that contains it. */
function producerOf(path: string, producers: Map<string, string>): string | undefined {
  for (let p = path; ; ) {
    const t = producers.get(p)
    if (t !== undefined) return t
    const i = p.lastIndexOf('/')
    if (i < 0) return undefined
    p = p.slice(0, i)
  }
}

function resolveInputs(
  n: Node,
  nodes: Map<string, Node>,
  producers: Map<string, string>,
  outputPaths: string[],
  root: string,
): void {
  const deps = new Set<string>()
  const sources = new Set<string>()
  const upstream = new Set<string>()
  const addDep = (name: string, file: string) => {
    if (name === n.name) throw new GraphError(`${n.decl.site}: target '${n.name}' lists its own output '${file}' as an input`)
    deps.add(name)
    upstream.add(file)
  }
  for (const input of n.decl.inputs) {
    if (isHandleLike(input)) {
      const dep = nodes.get(input.name)
      if (!dep) throw new GraphError(`${n.decl.site}: target '${n.name}' depends on unknown target '${input.name}'`)
      if (dep.decl.outputs.length === 0) deps.add(dep.name)
      for (const o of dep.decl.outputs) addDep(dep.name, o)
      continue
    }
    const path = input.replace(/^\.\//, '')
    if (GLOB.test(path)) {
      const isMatch = picomatch(path, { dot: true })
      for (const o of outputPaths) if (isMatch(o)) addDep(producers.get(o)!, o)
      const files = globSync(path, { cwd: root, dot: true, onlyFiles: true, ignore: ['node_modules/**', '.auton/**', '.git/**'] })
      for (const f of files) {
        const t = producerOf(f, producers)
        if (t === undefined) sources.add(f)
      }
      continue
    }
    const t = producerOf(path, producers)
    if (t !== undefined) addDep(t, path)
    else if (existsSync(path.startsWith('/') ? path : `${root}/${path}`)) sources.add(path)
    else {
      throw new GraphError(
        `${n.decl.site}: input '${path}' of target '${n.name}' does not exist and no target produces it`,
      )
    }
  }
  n.deps = [...deps]
  n.sources = [...sources].sort()
  n.upstreamFiles = [...upstream]
}

const closures = new WeakMap<Graph, Map<string, string[]>>()

/**
 * Targets needed to build `wanted`, in dependency order; throws on unknown names or cycles.
 * Memoised per graph (a graph never changes once built; the build server asks many times):
 * callers must not modify the array.
 */
export function closure(g: Graph, wanted: string[]): string[] {
  const key = wanted.join('\0')
  let memo = closures.get(g)
  const known = memo?.get(key)
  if (known) return known
  const order = computeClosure(g, wanted)
  if (!memo) closures.set(g, (memo = new Map()))
  memo.set(key, order)
  return order
}

function computeClosure(g: Graph, wanted: string[]): string[] {
  for (const w of wanted) {
    if (!g.nodes.has(w)) throw new GraphError(unknownTarget(g, w))
  }
  const order: string[] = []
  const state = new Map<string, 1 | 2>() // 1 = on the stack, 2 = done
  const stack: string[] = []
  const visit = (name: string) => {
    const s = state.get(name)
    if (s === 2) return
    if (s === 1) {
      const cycle = [...stack.slice(stack.indexOf(name)), name]
      const sites = cycle.slice(0, -1).map((c) => `  ${c}  (${g.nodes.get(c)!.decl.site})`).join('\n')
      throw new GraphError(`dependency cycle: ${cycle.join(' -> ')}\n${sites}`)
    }
    state.set(name, 1)
    stack.push(name)
    for (const d of g.nodes.get(name)!.deps) visit(d)
    stack.pop()
    state.set(name, 2)
    order.push(name)
  }
  for (const w of wanted) visit(w)
  return order
}

export function unknownTarget(g: Graph, name: string): string {
  const names = [...g.nodes.keys()]
  if (names.length === 0) return `unknown target '${name}': the autonfile declares no targets`
  const byOutput = g.producers.get(name.replace(/^\.\//, ''))
  if (byOutput) return `unknown target '${name}' — it is an output of target '${byOutput}'`
  const near = names
    .map((n) => ({ n, d: distance(name, n) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .filter((x) => x.d <= Math.max(3, name.length / 2))
    .map((x) => x.n)
  const hint = near.length ? ` — did you mean ${near.map((n) => `'${n}'`).join(', ')}?` : ` (try 'auton list'; closest: '${closest(name, names)}')`
  return `unknown target '${name}'${hint}`
}
