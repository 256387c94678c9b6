// rebuilder.ts — the one place that decides whether a target is up to date, can be
// restored, or must run, and says why. `build`, `build -n`, `explain` and watch mode all
// call decide(); the reasons are made from the same parts as the key (key.ts), so what
// `explain` says is what `build` does.
//
//   decide(n):
//     parts = keyParts(n)                         one walk over everything the result depends on
//     no record              → Run('never built')
//     parts ≠ record's parts → Run(every difference: input, code, param old → new, env var
//                               added/removed/changed, tool, recipe, output list)
//     a discovered input (depfile) changed, an output is missing or modified → Run(that)
//     else                   → UpToDate            (the key is not even hashed: equal parts)
//     Run, and the local cache holds the key with matching discovered inputs → Restore
// The remote cache is asked later, by the engine, only for targets that would run.

import { join } from 'node:path'
import type { Node } from './graph.js'
import type { State, TargetRecord } from './state.js'
import type { ActionRecord, LocalCache } from './cache.js'
import { diffParts, fullKeyOf, keyOf, keyParts, sameParts, type KeyWorld, type Parts } from './key.js'

export type Decision =
  | { kind: 'up-to-date' }
  | { kind: 'restore'; reasons: string[]; parts: Parts; key: string; action: ActionRecord }
  | { kind: 'run'; reasons: string[]; parts: Parts; key: string }
  /** Dry runs and explain: an upstream target would run first, so the inputs are not known yet. */
  | { kind: 'after-upstream'; reasons: string[] }

export interface RebuildContext {
  world: KeyWorld
  /** Only its records are read. */
  state: Pick<State, 'records'>
  cache?: Pick<LocalCache, 'getAction'>
}

/** `pendingUpstream`: dependencies that would run first (dry runs, explain); empty in a real build. */
export function decide(n: Node, c: RebuildContext, pendingUpstream: string[] = []): Decision {
  if (!n.decl.recipe) return { kind: 'up-to-date' } // an aggregate does nothing itself
  if (pendingUpstream.length) {
    return {
      kind: 'after-upstream',
      reasons: pendingUpstream.map((d) => `upstream target '${d}' would run (this one reruns unless its outputs come out the same)`),
    }
  }
  const parts = keyParts(n, c.world) // throws InputMissing
  const rec = c.state.records.get(n.name)
  const reasons = staleness(parts, rec, c)
  if (reasons.length === 0) return { kind: 'up-to-date' }
  const key = keyOf(parts, c.world.envValue)
  const action = c.cache && localAction(n.name, key, c)
  if (action) return { kind: 'restore', reasons, parts, key, action }
  return { kind: 'run', reasons, parts, key }
}

function staleness(parts: Parts, rec: TargetRecord | undefined, c: RebuildContext): string[] {
  if (!rec) return ['it has never been built (or its last run failed or was interrupted)']
  if (!rec.parts) return ['it was recorded by an older auton']
  const why = sameParts(parts, rec.parts) ? [] : diffParts(parts, rec.parts)
  if (why.length) return why
  for (const [p, h] of Object.entries(rec.discovered)) {
    if (hashOf(p, c) !== h) why.push(`discovered input '${p}' changed`)
  }
  for (const [o, h] of Object.entries(rec.outputs)) {
    const now = hashOf(o, c)
    if (now === undefined) why.push(`output '${o}' is missing`)
    else if (now !== h) why.push(`output '${o}' was modified outside the build`)
  }
  return why
}

/** The cached action for `key` whose discovered inputs match the files now, if any. */
function localAction(name: string, key: string, c: RebuildContext): ActionRecord | undefined {
  let action = c.cache!.getAction(key, name)
  if (action && !discoveredMatch(action, c)) {
    // the latest variant was built against other headers: look for the one matching ours
    const now: Record<string, string> = {}
    for (const p of Object.keys(action.discovered)) now[p] = hashOf(p, c) ?? '(missing)'
    action = c.cache!.getAction(fullKeyOf(key, now), name)
    if (action && !discoveredMatch(action, c)) action = undefined
  }
  return action
}

export function discoveredMatch(a: ActionRecord, c: RebuildContext): boolean {
  return Object.entries(a.discovered).every(([p, h]) => hashOf(p, c) === h)
}

/** Every file the rebuilder looks at goes through the world (the build's stat cache; a map in tests). */
function hashOf(p: string, c: RebuildContext): string | undefined {
  return c.world.hash(p.startsWith('/') ? p : join(c.world.root, p))
}
