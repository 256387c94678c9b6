// provenance.ts — where an output came from, from the build journal alone.
//
// The journal (.auton/targets.jsonl, state.ts) holds, per target, the digests of its
// outputs and of everything its key covered: declared inputs (sources and upstream
// outputs), discovered inputs (headers from depfiles), the modules a function recipe
// imports, params, tool identities and the recipe's hash. Lineage is the walk from an
// output to its producer's record, from each of that record's inputs to the record that
// produced those bytes, and so on down to files no target produced: the sources.
//
// Two renderings of one walk (n2's one-manifest, two-sinks idea): statement() is an
// in-toto Statement v1 with a SLSA provenance v1 predicate, tree() the same lineage for
// a person (`auton why`).
//
// Invariants:
//   - an input is linked to a producer only when the producer's record has the same path
//     with the same digest; a producer that has since rebuilt those bytes differently
//     makes the lineage stale, and statement() refuses it instead of inventing a history;
//   - the statement is deterministic: no timestamps, no how (ran or restored), no cache
//     keys, env var names but never their (salted) hashes. The same lineage gives the same
//     bytes on every machine, so its digest (statementDigest) can be embedded in an
//     artifact and checked later (the GGUF's auton.provenance.sha256, specs/export.md).

import { sha256 } from './hash.js'
import { canonicalJSON } from './key.js'

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1'
export const SLSA_PROVENANCE = 'https://slsa.dev/provenance/v1'
/** What auton's buildDefinition means (README "Provenance"): one target's outputs from its recorded lineage. */
export const BUILD_TYPE = 'urn:auton:build-type:target:v1'
export const BUILDER_ID = 'urn:auton:builder:local'

/** A journal record, in either shape state.ts has written (`parts`, or the older separate fields). */
export interface JournalRecord {
  name: string
  outputs: Record<string, string>
  discovered?: Record<string, string>
  /** key.ts parts: `recipe:<kind>`, `input:<path>`, `code:<module>`, `param:<name>`, `env:<name>`, `tool:<cmd>`. */
  parts?: Record<string, string>
  inputs?: Record<string, string>
  code?: Record<string, string>
  recipe?: string
  params?: string
  env?: Record<string, string>
  tools?: Record<string, string>
  at?: number
}

/** One target's record, reduced to what provenance says. */
export interface Step {
  target: string
  recipe: { kind?: string; sha256: string }
  params: Record<string, unknown>
  tools: Record<string, string>
  env: string[]
  inputs: Record<string, string>
  discovered: Record<string, string>
  code: Record<string, string>
  outputs: Record<string, string>
}

export function toStep(r: JournalRecord): Step {
  const s: Step = {
    target: r.name, recipe: { sha256: '' }, params: {}, tools: {}, env: [], inputs: {}, discovered: { ...(r.discovered ?? {}) },
    code: {}, outputs: { ...r.outputs },
  }
  if (r.parts) {
    for (const [k, v] of Object.entries(r.parts)) {
      const i = k.indexOf(':')
      const kind = k.slice(0, i)
      const name = k.slice(i + 1)
      if (kind === 'recipe') s.recipe = { kind: name, sha256: v }
      else if (kind === 'input') s.inputs[name] = v
      else if (kind === 'code') s.code[name] = v
      else if (kind === 'param') s.params[name] = parseJson(v)
      else if (kind === 'env') s.env.push(name)
      else if (kind === 'tool') s.tools[name] = v
    }
  } else {
    s.recipe = { sha256: r.recipe ?? '' }
    s.inputs = { ...(r.inputs ?? {}) }
    s.code = { ...(r.code ?? {}) }
    const p = r.params ? parseJson(r.params) : {}
    s.params = p && typeof p === 'object' && !Array.isArray(p) ? (p as Record<string, unknown>) : { value: p }
    s.tools = { ...(r.tools ?? {}) }
    s.env = Object.keys(r.env ?? {})
  }
  return s
}

function parseJson(v: string): unknown {
  try {
    return JSON.parse(v)
  } catch {
    return v
  }
}

export class ProvenanceError extends Error {}

export type NodeKind = 'output' | 'source' | 'discovered' | 'code' | 'package'

export interface LineageNode {
  path: string
  /** sha256 of the file (or hash.ts's tree hash of a directory); '' for a package. */
  digest: string
  kind: NodeKind
  /** The step that produced these bytes (kind 'output'). */
  step?: Step
  /** What the step read (empty for sources). */
  children: LineageNode[]
  /** Why the producer's record no longer describes these bytes. */
  stale?: string
}

/** Index of the journal: output path → records that claim it. */
export class Journal {
  private readonly byOutput = new Map<string, Step[]>()

  constructor(records: Iterable<JournalRecord>) {
    for (const r of records) {
      const step = toStep(r)
      for (const o of Object.keys(step.outputs)) {
        const list = this.byOutput.get(o) ?? []
        list.push(step)
        this.byOutput.set(o, list)
      }
    }
  }

  /** Steps that recorded `path` as an output. */
  producers(path: string): Step[] {
    return this.byOutput.get(normal(path)) ?? []
  }

  /**
   * The lineage of an output whose bytes now hash to `now` (undefined: the file is missing).
   * Throws ProvenanceError when the file has no record or differs from it.
   */
  lineage(path: string, now: string | undefined): LineageNode {
    const p = normal(path)
    const steps = this.producers(p)
    if (steps.length === 0) {
      throw new ProvenanceError(`'${p}' has no build record: no target built in this checkout produced it (build it first; 'auton list' shows each target's outputs)`)
    }
    if (now === undefined) throw new ProvenanceError(`'${p}' does not exist (it was built by '${steps[0].target}'; rebuild it with 'auton build ${steps[0].target}')`)
    const step = steps.find((s) => s.outputs[p] === now)
    if (!step) {
      const s = steps[0]
      throw new ProvenanceError(
        `'${p}' is not what '${s.target}' built: it hashes to sha256 ${now.slice(0, 16)}…, the record says ${s.outputs[p].slice(0, 16)}… ` +
          `(modified outside the build, or left stale); rebuild it with 'auton build ${s.target}'`,
      )
    }
    const memo = new Map<Step, LineageNode[]>()
    return { path: p, digest: now, kind: 'output', step, children: this.expand(step, memo, new Set()) }
  }

  private expand(step: Step, memo: Map<Step, LineageNode[]>, onPath: Set<Step>): LineageNode[] {
    const known = memo.get(step)
    if (known) return known
    if (onPath.has(step)) return [] // a journal with a cycle (hand-edited): stop rather than loop
    onPath.add(step)
    const out: LineageNode[] = []
    const add = (path: string, digest: string, kind: 'source' | 'discovered') => {
      const makers = this.producers(path)
      const maker = makers.find((s) => s.outputs[path] === digest)
      if (maker) out.push({ path, digest, kind: 'output', step: maker, children: this.expand(maker, memo, onPath) })
      else if (makers.length) {
        out.push({
          path, digest, kind: 'output', children: [],
          stale: `'${step.target}' read sha256 ${digest.slice(0, 16)}…, but '${makers[0].target}' has since recorded ${makers[0].outputs[path].slice(0, 16)}… for it`,
        })
      } else out.push({ path, digest, kind, children: [] })
    }
    for (const [p, h] of Object.entries(step.inputs)) add(p, h, 'source')
    for (const [p, h] of Object.entries(step.discovered)) add(p, h, 'discovered')
    for (const [m, h] of Object.entries(step.code)) {
      if (m.startsWith('pkg:') || h === '') out.push({ path: m, digest: '', kind: 'package', children: [] })
      else out.push({ path: m, digest: h, kind: 'code', children: [] })
    }
    onPath.delete(step)
    memo.set(step, out)
    return out
  }
}

function normal(p: string): string {
  return p.replace(/^\.\//, '')
}

/** Every node below the root, each (path, digest) once, in depth-first order. */
export function dependencies(root: LineageNode): LineageNode[] {
  const seen = new Set<string>()
  const out: LineageNode[] = []
  const visit = (n: LineageNode) => {
    for (const c of n.children) {
      const id = `${c.path}\0${c.digest}`
      if (seen.has(id)) continue
      seen.add(id)
      out.push(c)
      visit(c)
    }
  }
  visit(root)
  return out
}

/** Every step in the lineage, the subject's first, each once. */
export function steps(root: LineageNode): Step[] {
  const out: Step[] = []
  const visit = (n: LineageNode) => {
    if (n.step && !out.includes(n.step)) out.push(n.step)
    for (const c of n.children) visit(c)
  }
  visit(root)
  return out
}

export interface StatementOptions {
  /** Paths (as recorded) that are directories: their digest is hash.ts's tree hash, not a file sha256. */
  isDir?: (path: string) => boolean
}

/**
 * The in-toto Statement v1 for the lineage's root, with a SLSA provenance v1 predicate:
 * resolvedDependencies = every input that reached it, down to the sources, each with its
 * digest; externalParameters = the target and its params; internalParameters = each step's
 * recipe hash, params, tool identities, env var names and the digests it read and wrote.
 */
export function statement(root: LineageNode, opts: StatementOptions = {}): Record<string, unknown> {
  const deps = dependencies(root)
  const stale = deps.filter((d) => d.stale)
  if (stale.length) {
    throw new ProvenanceError(
      `the journal no longer says how '${root.path}' was made: ${stale.map((s) => `'${s.path}': ${s.stale}`).join('; ')}. ` +
        `Rebuild '${root.step!.target}' and ask again`,
    )
  }
  const isDir = opts.isDir ?? (() => false)
  const digestOf = (path: string, h: string) => (isDir(path) ? { 'auton-tree-sha256': h } : { sha256: h })
  const top = root.step!
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: root.path, digest: digestOf(root.path, root.digest) }],
    predicateType: SLSA_PROVENANCE,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: { target: top.target, params: top.params },
        internalParameters: {
          steps: steps(root).map((s) => ({
            target: s.target,
            recipe: s.recipe,
            params: s.params,
            tools: s.tools,
            env: s.env,
            inputs: { ...s.inputs, ...s.discovered },
            code: s.code,
            outputs: s.outputs,
          })),
        },
        resolvedDependencies: deps.map((d) => {
          if (d.kind === 'package') return { uri: purl(d.path), name: d.path, annotations: { kind: 'package' } }
          const annotations: Record<string, string> = { kind: d.kind === 'output' ? 'intermediate' : d.kind }
          if (d.step) annotations.producedBy = d.step.target
          return {
            name: d.path,
            ...(d.path.startsWith('/') ? { uri: `file://${d.path}` } : {}),
            digest: digestOf(d.path, d.digest),
            annotations,
          }
        }),
      },
      runDetails: { builder: { id: BUILDER_ID } },
    },
  }
}

/** `pkg:<name>@<version>` (key.ts code parts) → a package URL, `pkg:npm/<name>@<version>`. */
function purl(m: string): string {
  const spec = m.replace(/^pkg:/, '')
  return spec.startsWith('npm/') ? `pkg:${spec}` : `pkg:npm/${spec}`
}

/** The digest a statement is known by: sha256 of its canonical JSON (sorted keys, no spaces). */
export function statementDigest(st: Record<string, unknown>): string {
  return sha256(canonicalJSON(st))
}

/** The lineage as an indented tree (`auton why`); a subtree already shown is not repeated. */
export function tree(root: LineageNode): string {
  const lines: string[] = []
  const shown = new Set<Step>()
  const label = (n: LineageNode): string => {
    const d = n.digest ? `  sha256:${n.digest.slice(0, 12)}` : ''
    if (n.stale) return `${n.path}${d}  STALE: ${n.stale}`
    if (n.kind === 'package') return `${n.path}  (package)`
    if (!n.step) return `${n.path}${d}  (${n.kind === 'source' ? 'source' : n.kind === 'code' ? 'recipe code' : 'discovered input'})`
    const s = n.step
    const bits = [`recipe ${s.recipe.kind ? `${s.recipe.kind} ` : ''}${s.recipe.sha256.slice(0, 8)}`]
    if (Object.keys(s.params).length) bits.push(`params ${canonicalJSON(s.params)}`)
    for (const [t, id] of Object.entries(s.tools)) bits.push(`tool '${t}' ${id.slice(0, 8)}`)
    if (s.env.length) bits.push(`env ${s.env.join(', ')}`)
    return `${n.path}${d}  ← '${s.target}' (${bits.join('; ')})`
  }
  const walk = (n: LineageNode, prefix: string, last: boolean, isRoot: boolean) => {
    const again = n.step && shown.has(n.step) && n.children.length > 0
    lines.push(isRoot ? label(n) : `${prefix}${last ? '└─ ' : '├─ '}${label(n)}${again ? '  (its inputs are shown above)' : ''}`)
    if (again) return
    if (n.step) shown.add(n.step)
    const next = isRoot ? '' : prefix + (last ? '   ' : '│  ')
    n.children.forEach((c, i) => walk(c, next, i === n.children.length - 1, false))
  }
  walk(root, '', true, true)
  return lines.join('\n')
}
