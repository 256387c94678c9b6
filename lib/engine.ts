// engine.ts — one build: wire the scheduler (when), the rebuilder (whether), restore and
// execution (how, on which executor) together, and report through events.
//
// Per target, in scheduler.ts's `check` hook:
//   decide() → up to date: done
//            → restore from the local cache: done (or run if the restore is refused)
//            → run: remote cache first (when configured), else wait for a slot
// and in its `run` hook: runTarget() on the target's executor, then store in the cache (after
// the targets it let start have started; before build() returns).
// The states, the key and the invariants are drawn in docs/design.md.

import { setMaxListeners } from 'node:events'
import { availableParallelism } from 'node:os'
import { closure, type Graph, type Node } from './graph.js'
import { Scheduler, type Task } from './scheduler.js'
import { State } from './state.js'
import { type ActionRecord, type LocalCache, type RemoteCache } from './cache.js'
import { ToolIds, type KeyWorld, type Parts } from './key.js'
import { CodeGraph } from './code-deps.js'
import { decide, type Decision, type RebuildContext } from './rebuilder.js'
import { restoreAction, restoreRemote, type RestoreRequest } from './restore.js'
import { addUsage, logTail, lookUpOutputs, OutputMissing, runTarget } from './execute.js'
import { localExecutor, type Executor } from './executor.js'
import { recipeEnv, recipeEnvs } from './env.js'
import { createBudget } from './budget.js'
import type { AutonConfig } from './config.js'
import type { Emit, TargetStatus } from './events.js'
import type { Usage } from './recipe.js'

export type { RemoteCache } from './cache.js'

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
  /** Executors by name; 'local' is always there. */
  executors?: Map<string, Executor>
  /** The journal and stat cache to use (the build server keeps one across builds); default: read .auton/. */
  state?: State
  /**
   * Targets known to be up to date without looking (the server's watcher saw nothing they read
   * change; server/session.ts): counted and reported as up to date, never checked. Every
   * dependency of such a target must be in the set too.
   */
  assumed?: Set<string>
}

export interface BuildResult {
  ok: boolean
  /** Every target the build checked (not the `assumed` ones: those are up to date). */
  statuses: Map<string, TargetStatus>
  usage: Usage
}

/** The world one build's keys are computed in: file hashes, env, tools, code, all per build. */
export function keyWorld(g: Graph, root: string, state: State, cfg: AutonConfig, env: NodeJS.ProcessEnv = process.env): KeyWorld {
  const bodies = recipeBodies(g)
  const hash = (p: string) => state.stat.hash(p)
  return {
    root,
    hash,
    envValue: (name) => env[name],
    get salt() {
      return state.salt()
    },
    code: new CodeGraph(root, hash, (m) => bodies.get(m) ?? []),
    // tool identity commands see what recipes see, minus any target's own variables
    tools: new ToolIds(root, recipeEnv({ env: [], secrets: [], passEnv: [] }, cfg.build.pass_env, env, signKeyVar(cfg))),
  }
}

const bodiesMemo = new WeakMap<Graph, Map<string, string[]>>()

/** Module → the function recipes' bodies declared in it (code-deps.ts reads their dynamic imports). */
function recipeBodies(g: Graph): Map<string, string[]> {
  let bodies = bodiesMemo.get(g)
  if (bodies) return bodies
  bodies = new Map()
  for (const n of g.nodes.values()) {
    const c = n.decl.recipe?.code
    if (!c) continue
    const list = bodies.get(c.module)
    if (list) list.push(c.body)
    else bodies.set(c.module, [c.body])
  }
  bodiesMemo.set(g, bodies)
  return bodies
}

const signKeyVar = (cfg: AutonConfig) => (cfg.cache.sign_key_env ? [cfg.cache.sign_key_env] : [])

export async function build(g: Graph, opts: BuildOptions): Promise<BuildResult> {
  const t0 = Date.now()
  const { root, emit } = opts
  const assumed = opts.assumed ?? new Set<string>()
  const all = closure(g, opts.targets)
  const order = assumed.size ? all.filter((n) => !assumed.has(n)) : all
  const state = opts.state ?? new State(root).load()
  const jobs = opts.jobs ?? opts.config.build.jobs ?? availableParallelism()
  const budget = createBudget(opts.config.agents.budget_usd)
  const usage: Usage = { inputTokens: 0, outputTokens: 0, costUsd: 0, calls: 0 }
  const abort = new AbortController()
  setMaxListeners(0, abort.signal) // every running recipe listens to it
  const onOuterAbort = () => abort.abort()
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true })
  const world = keyWorld(g, root, state, opts.config)
  const rc: RebuildContext = { world, state, cache: opts.cache }
  const executors = opts.executors ?? new Map([['local', localExecutor]])
  const envOf = recipeEnvs(opts.config.build.pass_env, process.env, signKeyVar(opts.config))
  let mutatedCount = 0

  // Critical path: priority = own estimated time + the longest chain of dependents.
  const inClosure = new Set(order)
  const dependents = new Map<string, string[]>(order.map((n) => [n, []]))
  for (const n of order) for (const d of g.nodes.get(n)!.deps) if (inClosure.has(d)) dependents.get(d)!.push(n)
  const prio = new Map<string, number>()
  for (const n of [...order].reverse()) {
    const own = state.records.get(n)?.ms ?? 1
    prio.set(n, own + Math.max(0, ...dependents.get(n)!.map((d) => prio.get(d)!)))
  }
  emit({ type: 'plan', targets: all, jobs, at: Date.now() })
  if (assumed.size) emit({ type: 'up-to-date', names: [...assumed], at: Date.now() })

  const pending = new Map<string, { parts: Parts; key: string; reasons: string[] }>()
  const wouldRun = new Set<string>()
  const done = (name: string, status: TargetStatus, extra: { ms?: number; reason?: string; source?: 'local' | 'remote' } = {}) => {
    emit({ type: 'target', name, status, ms: extra.ms ?? 0, at: Date.now(), ...(extra.reason ? { reason: extra.reason } : {}), ...(extra.source ? { source: extra.source } : {}) })
    return status
  }
  const fail = (name: string, error: string, ms: number, extra: { log?: string; tail?: string } = {}): TargetStatus => {
    emit({ type: 'target', name, status: 'failed', ms, at: Date.now(), error, ...extra })
    return 'failed'
  }
  const restoreReq = (key: string, parts: Parts): RestoreRequest => ({ root, key, parts, state, cache: opts.cache!, emit })

  const check = async (name: string): Promise<TargetStatus | 'run'> => {
    const n = g.nodes.get(name)!
    const began = Date.now()
    let d: Decision
    try {
      const upstream = opts.dryRun ? n.deps.filter((x) => wouldRun.has(x)) : []
      d = decide(n, rc, upstream)
    } catch (e) {
      return fail(name, (e as Error).message, 0) // a missing input, a tool that does not run
    }
    if (d.kind === 'up-to-date') return done(name, 'up-to-date')
    if (opts.dryRun) {
      wouldRun.add(name)
      const reason = d.kind === 'restore' ? `would restore from the local cache (${d.reasons[0]})` : d.reasons[0]
      return done(name, 'would-run', { reason })
    }
    if (d.kind === 'after-upstream') throw new Error('internal: upstream pending in a real build')
    if (d.kind === 'restore' && restoreAction(n, d.action, restoreReq(d.key, d.parts))) {
      // a shared cache learns what this one holds (CI's local cache restored it, say)
      opts.remote?.upload(d.action, opts.cache!, { ifAbsent: true })
      return done(name, 'restored', { ms: Date.now() - began, source: 'local', reason: d.reasons[0] })
    }
    if (opts.remote && opts.cache) {
      try {
        if (await restoreRemote(n, opts.remote, rc, restoreReq(d.key, d.parts))) {
          return done(name, 'restored', { ms: Date.now() - began, source: 'remote', reason: d.reasons[0] })
        }
      } catch (e) {
        emit({ type: 'warning', message: `restoring '${name}' from the remote cache failed: ${(e as Error).message}`, at: Date.now() })
      }
    }
    pending.set(name, { parts: d.parts, key: d.key, reasons: d.reasons })
    return 'run'
  }

  const run = async (name: string, release: () => void): Promise<TargetStatus> => {
    const n = g.nodes.get(name)!
    const { parts, key, reasons } = pending.get(name)!
    pending.delete(name)
    const began = Date.now()
    const logFile = state.logPath(name)
    const executor = executors.get(n.decl.executor)
    if (!executor) return fail(name, `unknown executor '${n.decl.executor}' (define [executors.${n.decl.executor}] in auton.toml)`, 0)
    const env = envOf(n.decl)
    try {
      const r = await runTarget(n, { root, key, parts, reasons, state, executor, env, config: opts.config, budget, signal: abort.signal, emit, release })
      if (r.usage) addUsage(usage, r.usage)
      if (r.mutated.length) {
        mutatedCount++
        emit({
          type: 'warning',
          message: `'${name}': ${r.mutated.map((m) => `'${m}'`).join(', ')} changed while its recipe ran; the result is not recorded or cached (the next build reruns it)`,
          at: Date.now(),
        })
      } else if (opts.cache && r.rec) {
        const rec = r.rec
        later(() => store(n, key, rec))
      }
      emit({ type: 'target', name, status: 'ran', ms: Date.now() - began, at: Date.now(), reason: reasons[0], ...(r.logged ? { log: logFile } : {}), usage: r.usage })
      return 'ran'
    } catch (e) {
      const spent = (e as { usage?: Usage }).usage
      if (spent) addUsage(usage, spent)
      // execute.ts masked the message and everything the log holds
      const msg = abort.signal.aborted && !(e instanceof OutputMissing) ? 'cancelled' : (e as Error).message
      return fail(name, msg, Date.now() - began, { log: logFile, tail: logTail(logFile) })
    }
  }

  // Cache writes wait until the targets this one let start have started: they read and hash
  // the outputs again, and a dependent's check does not need them (its recipe needs the
  // journal record, which is made before). All are done before build() returns.
  const stores: (() => void)[] = []
  let storing: NodeJS.Immediate | undefined
  const drainStores = () => {
    storing = undefined
    for (const f of stores.splice(0)) f()
  }
  const later = (f: () => void) => {
    stores.push(f)
    storing ??= setImmediate(drainStores)
  }

  const store = (n: Node, key: string, rec: { outputs: Record<string, string>; discovered: Record<string, string>; ms: number; fullKey: string }) => {
    try {
      const outputs = opts.cache!.storeOutputs(root, n.decl.outputs, rec.outputs)
      const action: ActionRecord = { key, outputs, discovered: rec.discovered, ms: rec.ms }
      opts.cache!.putAction(action)
      // also under the full key: a later build with the same headers finds this variant
      // even after another variant replaced the entry under the declared key
      if (rec.fullKey !== key) opts.cache!.putAction({ ...action, key: rec.fullKey })
      opts.remote?.upload(action, opts.cache!)
    } catch (e) {
      emit({ type: 'warning', message: `could not store '${n.name}' in the cache: ${(e as Error).message}`, at: Date.now() })
    }
  }

  const tasks: Task[] = order.map((name) => {
    const n = g.nodes.get(name)!
    const remote = (executors.get(n.decl.executor) ?? localExecutor) !== localExecutor // a cluster job
    return { name, deps: n.deps.filter((d) => inClosure.has(d)), pool: n.decl.pool, prio: prio.get(name)!, remote }
  })
  const scheduler = new Scheduler(tasks, {
    check,
    run,
    skipped: (name, because) => {
      const why = because
        ? `'${because}' ${scheduler.status.get(because) === 'failed' ? 'failed' : 'was skipped'}`
        : opts.signal?.aborted ? 'the build was interrupted' : 'the build stopped after a failure (-k builds what does not depend on it)'
      emit({ type: 'target', name, status: 'skipped', ms: 0, at: Date.now(), reason: why })
    },
  }, { jobs, pools: opts.config.pools, keepGoing: opts.keepGoing, abort })
  if (!opts.dryRun) lookUpOutputs(order.map((name) => g.nodes.get(name)!).filter((n) => n.decl.recipe && !state.records.has(n.name)), root)
  let statuses: Map<string, TargetStatus>
  try {
    statuses = await scheduler.run()
  } finally {
    if (storing) clearImmediate(storing)
    drainStores()
    opts.signal?.removeEventListener('abort', onOuterAbort)
    await Promise.all([...executors.values()].map((e) => e.close?.()))
    state.save()
    await opts.remote?.flush()
  }
  const counts = new Map<TargetStatus, number>()
  for (const s of statuses.values()) counts.set(s, (counts.get(s) ?? 0) + 1)
  const count = (s: TargetStatus) => (counts.get(s) ?? 0) + (s === 'up-to-date' ? assumed.size : 0)
  const ok = count('failed') === 0 && !opts.signal?.aborted && count('skipped') === 0
  const refused = (opts.cache?.refused ?? 0) + (opts.remote?.refused ?? 0)
  emit({
    type: 'summary',
    ok,
    ran: count('ran'),
    restored: count('restored'),
    upToDate: count('up-to-date'),
    failed: count('failed'),
    skipped: count('skipped'),
    wouldRun: count('would-run'),
    ...(refused ? { refused } : {}),
    ...(mutatedCount ? { unrecorded: mutatedCount } : {}),
    ms: Date.now() - t0,
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    costUsd: usage.costUsd,
    at: Date.now(),
  })
  return { ok, statuses, usage }
}
