// key.ts — what makes a target dirty, in one place.
//
// key(target) = sha256 of
//   - the recipe's key material (command text after interpolation, function source,
//     agent provider/model/prompts/schema),
//   - every declared input's path and content hash (sources and upstream outputs),
//   - the declared outputs' paths,
//   - params as canonical JSON,
//   - each declared env var's value (hashed: values may be secrets),
//   - each declared tool's identity (hash of `<tool command>` output, once per build).
// fullKey additionally covers the inputs discovered by the last run (gcc depfiles).
// Timestamps never enter a key: a touched file with the same content changes nothing,
// and a rebuilt upstream whose outputs hash the same leaves its dependents clean
// (early cutoff) — both fall out of hashing content.

import { execSync } from 'node:child_process'
import type { Node } from './graph.js'
import { sha256, type StatCache } from './hash.js'

export interface KeyParts {
  recipe: string
  inputs: Record<string, string>
  outputs: string[]
  params: string
  env: Record<string, string>
  tools: Record<string, string>
}

const toolIds = new Map<string, string>()

/** Identity of a tool: the hash of what its identifying command prints (e.g. `gcc --version`). */
export function toolIdentity(cmd: string, cwd: string): string {
  let id = toolIds.get(cmd)
  if (id === undefined) {
    try {
      id = sha256(execSync(cmd, { cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 }))
    } catch (e) {
      throw new Error(`tool '${cmd}' failed: ${(e as Error).message.split('\n')[0]} — is it installed?`)
    }
    toolIds.set(cmd, id)
  }
  return id
}

export function keyParts(n: Node, stat: StatCache, root: string): KeyParts {
  const d = n.decl
  const inputs: Record<string, string> = {}
  for (const f of [...n.sources, ...n.upstreamFiles]) {
    const h = stat.hash(f.startsWith('/') ? f : `${root}/${f}`) // absolute: a system file such as pci.ids
    if (h === undefined) throw new Error(`input '${f}' of target '${n.name}' is missing`)
    inputs[f] = h
  }
  const env: Record<string, string> = {}
  for (const v of d.env) env[v] = process.env[v] === undefined ? '(unset)' : sha256(process.env[v]!).slice(0, 16)
  const tools: Record<string, string> = {}
  for (const t of d.tools) tools[t] = toolIdentity(t, root)
  return {
    recipe: sha256(d.recipe ? d.recipe.keyMaterial() : '(aggregate)'),
    inputs,
    outputs: d.outputs,
    params: canonicalJSON(d.params),
    env,
    tools,
  }
}

export function keyOf(p: KeyParts): string {
  return sha256(JSON.stringify([p.recipe, p.inputs, p.outputs, p.params, p.env, p.tools]))
}

export function fullKeyOf(key: string, discovered: Record<string, string>): string {
  const names = Object.keys(discovered)
  if (names.length === 0) return key
  return sha256(key + JSON.stringify(names.sort().map((k) => [k, discovered[k]])))
}

/** JSON with sorted object keys, so `{a,b}` and `{b,a}` hash the same. */
export function canonicalJSON(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) => {
    if (val && typeof val === 'object' && !Array.isArray(val)) {
      return Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
    }
    return val
  })
}

/** Explain how `now` differs from the parts recorded by the last build. */
export function diffParts(
  now: KeyParts,
  was: { recipe: string; params: string; env: Record<string, string>; tools: Record<string, string>; inputs: Record<string, string> },
): string[] {
  const why: string[] = []
  if (now.recipe !== was.recipe) why.push('the recipe changed')
  for (const [f, h] of Object.entries(now.inputs)) {
    if (!(f in was.inputs)) why.push(`input '${f}' is new`)
    else if (was.inputs[f] !== h) why.push(`input '${f}' changed`)
  }
  for (const f of Object.keys(was.inputs)) if (!(f in now.inputs)) why.push(`input '${f}' was removed`)
  if (now.params !== was.params) why.push(`params changed: ${was.params} → ${now.params}`)
  for (const [v, h] of Object.entries(now.env)) if (was.env[v] !== h) why.push(`env ${v} changed`)
  for (const [t, h] of Object.entries(now.tools)) if (was.tools[t] !== h) why.push(`tool '${t}' changed`)
  return why
}
