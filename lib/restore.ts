// restore.ts — put a target's outputs back from a cache instead of running its recipe.
//
// Every blob is verified against its hash as it is read (cache.ts); after the restore each
// declared output is hashed again and must equal what the action record says, so a record
// that lies about a directory's shape is refused too. Only then is the target recorded.
// A restore that fails leaves no output and no record: the recipe runs instead.

import { join } from 'node:path'
import type { Node } from './graph.js'
import type { State } from './state.js'
import type { ActionRecord, LocalCache, RemoteCache } from './cache.js'
import type { Emit } from './events.js'
import { fullKeyOf, type Parts } from './key.js'
import { discoveredMatch, type RebuildContext } from './rebuilder.js'

export interface RestoreRequest {
  root: string
  key: string
  parts: Parts
  state: State
  cache: LocalCache
  emit: Emit
}

/**
 * Ask the remote cache for the key (it fetches the record's blobs into the local cache); once
 * restored, the record is stored locally too, so the next restore needs no network.
 */
export async function restoreRemote(n: Node, remote: RemoteCache, c: RebuildContext, r: RestoreRequest): Promise<boolean> {
  const action = await remote.fetch(r.key, r.cache, n.name)
  if (!action || !discoveredMatch(action, c) || !restoreAction(n, action, r)) return false
  r.cache.putAction(action)
  return true
}

/** Write `action`'s outputs from the local cache (the rebuilder found it there, or the remote fetched it). */
export function restoreAction(n: Node, action: ActionRecord, r: RestoreRequest): boolean {
  const { root, state, cache } = r
  // a record may only write this target's declared outputs, all of them
  const paths = action.outputs.map((o) => o.path).sort()
  if (JSON.stringify(paths) !== JSON.stringify([...n.decl.outputs].sort())) {
    r.emit({ type: 'warning', message: `cache entry of '${n.name}' names other outputs (${paths.join(', ')}) than it declares; ignored`, at: Date.now() })
    return false
  }
  state.forget(n.name)
  for (const o of n.decl.outputs) state.stat.invalidate(join(root, o))
  const corruptBefore = cache.corrupt
  if (!cache.restore(root, action)) {
    // restore() is synchronous, so the counter moved because of this target's blobs
    if (cache.corrupt > corruptBefore) {
      r.emit({ type: 'warning', message: `cache entry of '${n.name}' had a corrupt blob (deleted it); running the recipe instead`, at: Date.now() })
    }
    return false
  }
  const outputs: Record<string, string> = {}
  for (const o of action.outputs) {
    const h = state.stat.hash(join(root, o.path))
    if (h !== o.hash) return false
    outputs[o.path] = h
  }
  state.record({
    name: n.name, key: r.key, fullKey: fullKeyOf(r.key, action.discovered), parts: r.parts, outputs,
    discovered: action.discovered, ms: action.ms, via: 'restored', at: Date.now(),
  })
  return true
}
