// engine.ts — build the requested targets: decide, restore or run, record.
//
// Each target moves through these states (see also the scheduler below):
//
//   waiting ──deps done──▶ checking ──key & outputs match record──▶ up-to-date
//                             │ ──action in cache, blobs verify──▶ restored
//                             ▼
//                           ready ──slot in -j and its pool──▶ running ──▶ ran | failed
//   A target whose dependency failed is skipped. With --keep-going, independent
//   branches go on after a failure; without it, running recipes are cancelled.
//
// Invariants:
//   - before a recipe runs its record is dropped (State.forget) and its declared outputs
//     are deleted, so an interrupted or failed run leaves nothing a later build trusts;
//   - a record and a cache entry are written only after every declared output exists
//     and has been hashed;
//   - ready targets run in order of longest remaining path (critical path first).

import { mkdirSync, rmSync, appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { availableParallelism } from 'node:os'
import { closure, type Graph, type Node } from './graph.js'
import { ReadyQueue } from './ready-queue.js'
import { State, type TargetRecord } from './state.js'
import { LocalCache, type ActionRecord } from './cache.js'
import { keyParts, keyOf, fullKeyOf, diffParts, type KeyParts } from './key.js'
import { readDepfile } from './depfile.js'
import { createBudget } from './budget.js'
import type { AutonConfig } from './config.js'
import type { Emit, TargetStatus } from './events.js'
import type { Budget, RecipeContext, Usage } from './recipe.js'

/** A shared cache beyond the local one (remote-cache.ts speaks the Bazel HTTP protocol). */
export interface RemoteCache {
  /** Fetch an action record and all its blobs into `local`; false on a miss or a refused blob. */
  fetch(key: string, local: LocalCache): Promise<ActionRecord | undefined>
  /** Upload in the background; failures only warn. */
  upload(rec: ActionRecord, local: LocalCache, opts?: { ifAbsent?: boolean }): void
  /** Wait for background uploads (bounded). */
  flush(): Promise<void>
}

export interface BuildOptions {
  root: string
  targets: string[]
  config: AutonConfig
  emit: Emit
  jobs?: number
  keepGoing?: boolean
  dryRun?: boolean
  /** Cancels the build: running recipes are killed, nothing more starts. */
  signal?: AbortSignal
  /** Local cache; undefined disables caching. */
  cache?: LocalCache
  remote?: RemoteCache
}

export interface BuildResult {
  ok: boolean
  statuses: Map<string, TargetStatus>
  usage: Usage
}

export async function build(g: Graph, opts: BuildOptions): Promise<BuildResult> {
  const t0 = Date.now()
  const { root, emit } = opts
  const order = closure(g, opts.targets)
  const state = new State(root).load()
  const jobs = opts.jobs ?? opts.config.build.jobs ?? availableParallelism()
  const pools = opts.config.pools
  const budget = createBudget(opts.config.agents.budget_usd)
  const usage: Usage = { inputTokens: 0, outputTokens: 0, costUsd: 0, calls: 0 }
  const statuses = new Map<string, TargetStatus>()
  const cancel = new AbortController()
  const onOuterAbort = () => cancel.abort()
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true })

  // Critical path: priority = own estimated time + the longest chain of dependents.
  const inClosure = new Set(order)
  const dependents = new Map<string, string[]>(order.map((n) => [n, []]))
  for (const n of order) for (const d of g.nodes.get(n)!.deps) dependents.get(d)!.push(n)
  const prio = new Map<string, number>()
  for (const n of [...order].reverse()) {
    const own = state.records.get(n)?.ms ?? 1
    prio.set(n, own + Math.max(0, ...dependents.get(n)!.map((d) => prio.get(d)!)))
  }

  emit({ type: 'plan', targets: order, jobs, at: Date.now() })

  const waiting = new Map<string, number>(order.map((n) => [n, g.nodes.get(n)!.deps.length]))
  const ready = new ReadyQueue((name) => prio.get(name)!)
  const poolBusy = new Map<string, number>()
  let running = 0
  let failed = false
  const wouldRun = new Set<string>()

  let wake: () => void = () => {}
  const settle = (name: string, status: TargetStatus) => {
    statuses.set(name, status)
    if (status === 'failed') failed = true
    for (const d of dependents.get(name) ?? []) {
      if (!inClosure.has(d)) continue
      if (status === 'failed' || status === 'skipped') {
        if (!statuses.has(d)) {
          settle(d, 'skipped')
          emit({ type: 'target', name: d, status: 'skipped', ms: 0, at: Date.now(), reason: `'${name}' ${status === 'failed' ? 'failed' : 'was skipped'}` })
        }
        continue
      }
      const left = waiting.get(d)! - 1
      waiting.set(d, left)
      if (left === 0) check(d)
    }
    wake()
  }

  const check = (name: string) => {
    if (statuses.has(name)) return
    if (cancel.signal.aborted || (failed && !opts.keepGoing)) {
      settle(name, 'skipped')
      return
    }
    const n = g.nodes.get(name)!
    if (!n.decl.recipe) {
      // aggregate: nothing to do beyond its dependencies
      emit({ type: 'target', name, status: 'up-to-date', ms: 0, at: Date.now() })
      settle(name, 'up-to-date')
      return
    }
    if (opts.dryRun && n.deps.some((d) => wouldRun.has(d))) {
      wouldRun.add(name)
      emit({ type: 'target', name, status: 'would-run', ms: 0, at: Date.now(), reason: 'an upstream target would run' })
      settle(name, 'would-run')
      return
    }
    let parts: KeyParts
    try {
      parts = keyParts(n, state.stat, root)
    } catch (e) {
      fail(name, (e as Error).message, 0)
      return
    }
    const key = keyOf(parts)
    const rec = state.records.get(name)
    if (rec && rec.key === key && upToDate(rec, state, root)) {
      emit({ type: 'target', name, status: 'up-to-date', ms: 0, at: Date.now() })
      settle(name, 'up-to-date')
      return
    }
    const reason = rec ? (diffParts(parts, rec)[0] ?? whyStale(rec, state, root)) : 'never built'
    if (opts.dryRun) {
      wouldRun.add(name)
      emit({ type: 'target', name, status: 'would-run', ms: 0, at: Date.now(), reason })
      settle(name, 'would-run')
      return
    }
    pending.set(name, { parts, key, reason })
    if (!opts.cache) {
      ready.push(name)
      return
    }
    const began = Date.now()
    track(
      tryRestore(n, key, opts.cache, opts.remote, state, root, parts, emit).then(
        (source) => {
          if (source) {
            pending.delete(name)
            emit({ type: 'target', name, status: 'restored', ms: Date.now() - began, at: Date.now(), source })
            settle(name, 'restored')
          } else ready.push(name)
        },
        (e) => fail(name, `restoring from the cache failed: ${(e as Error).message}`, Date.now() - began),
      ),
    )
  }

  const pending = new Map<string, { parts: KeyParts; key: string; reason: string }>()
  const inflight = new Set<Promise<void>>()
  const track = (p: Promise<void>) => {
    const q: Promise<void> = p.finally(() => {
      inflight.delete(q)
      wake()
    })
    inflight.add(q)
  }

  const fail = (name: string, error: string, ms: number, extra: { log?: string; tail?: string } = {}) => {
    emit({ type: 'target', name, status: 'failed', ms, at: Date.now(), error, ...extra })
    settle(name, 'failed')
    if (!opts.keepGoing) cancel.abort()
  }

  /** Run a ready target's recipe; the -j and pool slots are taken before the first await. */
  const start = async (name: string) => {
    const n = g.nodes.get(name)!
    const { parts, key, reason } = pending.get(name)!
    pending.delete(name)
    const began = Date.now()
    const pool = n.decl.pool
    running++
    if (pool) poolBusy.set(pool, (poolBusy.get(pool) ?? 0) + 1)
    const logFile = state.logPath(name)
    try {
      const result = await runRecipe(n, { key, parts, reason, logFile, state, budget, cancel: cancel.signal, opts, usage })
      if (opts.cache && result.rec) {
        try {
          const outputs = opts.cache.storeOutputs(root, n.decl.outputs, result.rec.outputs)
          const action: ActionRecord = { key, outputs, discovered: result.rec.discovered, ms: result.rec.ms }
          opts.cache.putAction(action)
          // also under the full key: a later build with the same headers finds this variant
          // even after another variant replaced the entry under the declared key
          if (result.rec.fullKey !== key) opts.cache.putAction({ ...action, key: result.rec.fullKey })
          opts.remote?.upload(action, opts.cache)
        } catch (e) {
          emit({ type: 'warning', message: `could not store '${name}' in the cache: ${(e as Error).message}`, at: Date.now() })
        }
      }
      emit({ type: 'target', name, status: 'ran', ms: Date.now() - began, at: Date.now(), reason, log: logFile, usage: result.usage })
      settle(name, 'ran')
    } catch (e) {
      const msg = cancel.signal.aborted && !(e instanceof OutputMissing) ? 'cancelled' : (e as Error).message
      fail(name, msg, Date.now() - began, { log: logFile, tail: tail(logFile) })
    } finally {
      running--
      if (pool) poolBusy.set(pool, poolBusy.get(pool)! - 1)
      wake()
    }
  }

  const canStart = (name: string) => {
    const pool = g.nodes.get(name)!.decl.pool
    if (!pool) return true
    const limit = pools[pool] ?? Infinity
    return (poolBusy.get(pool) ?? 0) < limit
  }

  // Seed with the targets that have no dependencies. (Not `waiting === 0`: a dependency that
  // settles synchronously here, e.g. up to date, already checked its dependent via settle(),
  // and checking it twice would queue it twice.)
  for (const n of order) if (g.nodes.get(n)!.deps.length === 0) check(n)

  for (;;) {
    if (cancel.signal.aborted || (failed && !opts.keepGoing)) {
      for (const r of ready.drain()) settle(r, 'skipped')
    } else {
      ready.take(
        () => running < jobs,
        (name) => {
          if (!canStart(name)) return false
          track(start(name)) // takes its -j and pool slots synchronously
          return true
        },
      )
    }
    if (inflight.size === 0) break
    await new Promise<void>((resolve) => {
      wake = resolve
    })
  }

  for (const n of order) if (!statuses.has(n)) statuses.set(n, 'skipped')
  opts.signal?.removeEventListener('abort', onOuterAbort)
  state.save()
  await opts.remote?.flush()
  const count = (s: TargetStatus) => [...statuses.values()].filter((x) => x === s).length
  const ok = count('failed') === 0 && !opts.signal?.aborted && count('skipped') === 0
  emit({
    type: 'summary',
    ok,
    ran: count('ran'),
    restored: count('restored'),
    upToDate: count('up-to-date'),
    failed: count('failed'),
    skipped: count('skipped'),
    wouldRun: count('would-run'),
    ms: Date.now() - t0,
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    costUsd: usage.costUsd,
    at: Date.now(),
  })
  return { ok, statuses, usage }
}

/** Why upToDate() said no when the key matched: for the log, `-n` and `--json` reasons. */
function whyStale(rec: TargetRecord, state: State, root: string): string {
  for (const [p, h] of Object.entries(rec.discovered)) {
    if (state.stat.hash(join(root, p)) !== h) return `discovered input '${p}' changed`
  }
  for (const [o, h] of Object.entries(rec.outputs)) {
    const now = state.stat.hash(join(root, o))
    if (now === undefined) return `output '${o}' is missing`
    if (now !== h) return `output '${o}' was modified outside the build`
  }
  return 'its outputs changed or are missing'
}

function upToDate(rec: TargetRecord, state: State, root: string): boolean {
  for (const [o, h] of Object.entries(rec.outputs)) if (state.stat.hash(join(root, o)) !== h) return false
  for (const [p, h] of Object.entries(rec.discovered)) if (state.stat.hash(join(root, p)) !== h) return false
  return rec.fullKey === fullKeyOf(rec.key, rec.discovered)
}

async function tryRestore(
  n: Node, key: string, cache: LocalCache, remote: RemoteCache | undefined, state: State, root: string, parts: KeyParts,
  emit: Emit,
): Promise<'local' | 'remote' | undefined> {
  let source: 'local' | 'remote' = 'local'
  let action = cache.getAction(key)
  if (action && !discoveredMatch(action, state, root)) {
    // the latest variant was built against other headers: look for the one matching ours
    const now: Record<string, string> = {}
    for (const p of Object.keys(action.discovered)) now[p] = state.stat.hash(join(root, p)) ?? '(missing)'
    action = cache.getAction(fullKeyOf(key, now))
    if (action && !discoveredMatch(action, state, root)) action = undefined
  }
  if (!action && remote) {
    action = await remote.fetch(key, cache)
    source = 'remote'
    if (action && !discoveredMatch(action, state, root)) action = undefined
  }
  if (!action) return undefined
  state.forget(n.name)
  for (const o of n.decl.outputs) state.stat.invalidate(join(root, o))
  const corruptBefore = cache.corrupt
  if (!cache.restore(root, action)) {
    // restore() is synchronous, so the counter moved because of this target's blobs
    if (cache.corrupt > corruptBefore) {
      emit({ type: 'warning', message: `cache entry of '${n.name}' had a corrupt blob (deleted it); running the recipe instead`, at: Date.now() })
    }
    return undefined
  }
  const outputs: Record<string, string> = {}
  for (const o of action.outputs) {
    const h = state.stat.hash(join(root, o.path))
    if (h !== o.hash) return undefined // restored bytes verified per blob; this guards the tree shape
    outputs[o.path] = h
  }
  state.record({
    name: n.name, key, fullKey: fullKeyOf(key, action.discovered), outputs, discovered: action.discovered,
    inputs: parts.inputs, recipe: parts.recipe, params: parts.params, env: parts.env, tools: parts.tools,
    ms: action.ms, via: 'restored', at: Date.now(),
  })
  // a shared cache learns what this one holds (CI's local cache restored it, say)
  if (source === 'local') remote?.upload(action, cache, { ifAbsent: true })
  return source
}

function discoveredMatch(a: ActionRecord, state: State, root: string): boolean {
  return Object.entries(a.discovered).every(([p, h]) => state.stat.hash(join(root, p)) === h)
}

class OutputMissing extends Error {}

async function runRecipe(
  n: Node,
  r: {
    key: string; parts: KeyParts; reason: string; logFile: string; state: State; budget: Budget
    cancel: AbortSignal; opts: BuildOptions; usage: Usage
  },
): Promise<{ rec?: TargetRecord; usage?: Usage }> {
  const { root, emit } = r.opts
  const d = n.decl
  const recipe = d.recipe!
  r.state.forget(n.name)
  for (const o of d.outputs) {
    rmSync(join(root, o), { recursive: true, force: true })
    r.state.stat.invalidate(join(root, o))
    mkdirSync(dirname(join(root, o)), { recursive: true })
  }
  mkdirSync(dirname(r.logFile), { recursive: true })
  writeFileSync(r.logFile, `# ${n.name}: ${recipe.describe()}\n# why: ${r.reason}\n`) // replaces the last log
  emit({ type: 'start', name: n.name, kind: recipe.kind, describe: recipe.describe(), pool: d.pool, at: Date.now() })
  const began = Date.now()
  const env: Record<string, string | undefined> = {}
  for (const v of d.env) env[v] = process.env[v]
  const ctx: RecipeContext = {
    name: n.name,
    cwd: root,
    inputs: [...n.sources, ...n.upstreamFiles],
    outputs: [...d.outputs],
    params: d.params,
    env,
    config: r.opts.config,
    signal: r.cancel,
    log: (text) => appendFileSync(r.logFile, text),
    progress: (message) => emit({ type: 'progress', name: n.name, message, at: Date.now() }),
    budget: r.budget,
  }
  try {
    const result = (await recipe.run(ctx)) ?? {}
    if (r.cancel.aborted) throw new Error('cancelled')
    if (result.usage) {
      r.usage.inputTokens += result.usage.inputTokens
      r.usage.outputTokens += result.usage.outputTokens
      r.usage.costUsd += result.usage.costUsd
      r.usage.calls += result.usage.calls
    }
    const missing = d.outputs.filter((o) => !existsSync(join(root, o)))
    if (missing.length) {
      throw new OutputMissing(`the recipe succeeded but did not produce ${missing.map((m) => `'${m}'`).join(', ')}`)
    }
    const outputs: Record<string, string> = {}
    for (const o of d.outputs) {
      r.state.stat.invalidate(join(root, o))
      outputs[o] = r.state.stat.hash(join(root, o))!
    }
    const found = new Set<string>(result.discoveredInputs ?? [])
    if (d.depfile && existsSync(join(root, d.depfile))) for (const p of readDepfile(join(root, d.depfile), root)) found.add(p)
    const declared = new Set(ctx.inputs)
    const discovered: Record<string, string> = {}
    for (const p of [...found].sort()) {
      if (declared.has(p)) continue
      const h = r.state.stat.hash(join(root, p))
      if (h !== undefined) discovered[p] = h
    }
    const ms = Date.now() - began
    const rec: TargetRecord = {
      name: n.name, key: r.key, fullKey: fullKeyOf(r.key, discovered), outputs, discovered,
      inputs: r.parts.inputs, recipe: r.parts.recipe, params: r.parts.params, env: r.parts.env, tools: r.parts.tools,
      ms, via: 'ran', at: Date.now(),
    }
    r.state.record(rec)
    return { rec, usage: result.usage }
  } catch (e) {
    // a paid step that failed still spent money: count it in the summary
    const spent = (e as { usage?: Usage }).usage
    if (spent) {
      r.usage.inputTokens += spent.inputTokens
      r.usage.outputTokens += spent.outputTokens
      r.usage.costUsd += spent.costUsd
      r.usage.calls += spent.calls
    }
    // leave nothing half-made behind
    for (const o of d.outputs) {
      rmSync(join(root, o), { recursive: true, force: true })
      r.state.stat.invalidate(join(root, o))
    }
    appendFileSync(r.logFile, `\n# failed: ${(e as Error).message}\n`)
    throw e
  }
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return ''
  }
}

export { diffParts }
