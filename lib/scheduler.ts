// scheduler.ts — when each target of a build is looked at and run. No disk, no processes:
// what a target does is the hooks' business (engine.ts), so this file is tested alone.
//
// Each task moves through these states (docs/design.md draws the same machine):
//
//   waiting ──deps settled──▶ checking ──hooks.check() settles it──────────────▶ done
//                                │ (up to date, restored, would run, failed)
//                                └──'run'──▶ ready ──-j slot and pool slot──▶ running ──▶ done
//   A task whose dependency failed or was skipped is skipped (done, without a check).
//   Without keepGoing, the first failure aborts: nothing more starts, ready tasks are
//   skipped, running ones see the abort signal. Ready tasks start in order of priority
//   (the engine gives the longest remaining path, critical path first).
// Invariants: a task is checked at most once and only after every dependency is done and
// none failed; running local tasks ≤ jobs (a remote task, e.g. a cluster job, takes no -j
// slot); per pool, running ≤ its limit.
// A running task may give its slots back before it is done (`release`, below): its recipe has
// finished and what is left is bookkeeping in this process (hash the outputs, the journal,
// the cache). The next ready task starts at once, synchronously, so a -j slot never waits for
// that bookkeeping; the task stays 'running' until its hook resolves, and its dependents wait
// for that.

import { ReadyQueue } from './ready-queue.js'
import type { TargetStatus } from './events.js'

export type TaskState = 'waiting' | 'checking' | 'ready' | 'running' | 'done'

export interface Task {
  name: string
  deps: string[]
  pool?: string
  prio: number
  /** Runs elsewhere (a cluster job): takes no -j slot, only its pool's. */
  remote?: boolean
}

export interface Hooks {
  /** Decide without a slot: a final status, or 'run' to wait for a slot. May restore (async). */
  check(name: string): Promise<TargetStatus | 'run'> | TargetStatus | 'run'
  /**
   * Holds a -j slot and a pool slot while it runs, or until it calls `release` (idempotent):
   * its recipe is done and only bookkeeping is left.
   */
  run(name: string, release: () => void): Promise<TargetStatus>
  /** A task skipped because `because` failed or was skipped, or because the build stopped. */
  skipped(name: string, because: string | undefined): void
}

export interface ScheduleOptions {
  jobs: number
  pools: Record<string, number>
  keepGoing?: boolean
  /** Aborted by the scheduler on the first failure without keepGoing, or from outside. */
  abort: AbortController
}

export class Scheduler {
  readonly state = new Map<string, TaskState>()
  readonly status = new Map<string, TargetStatus>()
  private readonly tasks = new Map<string, Task>()
  private readonly dependents = new Map<string, string[]>()
  private readonly waitingOn = new Map<string, number>()
  private readonly ready: ReadyQueue
  private readonly readyRemote: ReadyQueue
  private readonly poolBusy = new Map<string, number>()
  private running = 0
  private inflight = 0
  private failed = false
  private pumping = false
  private wake: () => void = () => {}

  constructor(tasks: Task[], private readonly hooks: Hooks, private readonly opts: ScheduleOptions) {
    for (const t of tasks) {
      this.tasks.set(t.name, t)
      this.dependents.set(t.name, [])
      this.state.set(t.name, 'waiting')
    }
    for (const t of tasks) {
      const inside = t.deps.filter((d) => this.tasks.has(d))
      this.waitingOn.set(t.name, inside.length)
      for (const d of inside) this.dependents.get(d)!.push(t.name)
    }
    this.ready = new ReadyQueue((name) => this.tasks.get(name)!.prio)
    this.readyRemote = new ReadyQueue((name) => this.tasks.get(name)!.prio)
  }

  private get stopped(): boolean {
    return this.opts.abort.signal.aborted || (this.failed && !this.opts.keepGoing)
  }

  /** Run everything; resolves when every task is done (statuses in `status`). */
  async run(): Promise<Map<string, TargetStatus>> {
    for (const t of this.tasks.values()) if (this.waitingOn.get(t.name) === 0 && this.state.get(t.name) === 'waiting') this.check(t.name)
    for (;;) {
      if (this.stopped) {
        for (const name of [...this.ready.drain(), ...this.readyRemote.drain()]) this.settle(name, 'skipped', undefined)
      } else this.pump()
      if (this.inflight === 0) break
      await new Promise<void>((resolve) => {
        this.wake = resolve
      })
    }
    for (const name of this.tasks.keys()) if (!this.status.has(name)) this.settle(name, 'skipped', undefined)
    return this.status
  }

  /** Start ready tasks while slots allow: local ones while a -j slot is free, remote ones (cluster jobs) whenever their pool allows. */
  private pump(): void {
    if (this.pumping || this.stopped) return // a start inside a start: the outer loop takes it
    this.pumping = true
    try {
      const tryStart = (name: string) => {
        const t = this.tasks.get(name)!
        if (t.pool && (this.poolBusy.get(t.pool) ?? 0) >= (this.opts.pools[t.pool] ?? Infinity)) return false
        this.start(name, t.pool, !t.remote)
        return true
      }
      this.readyRemote.take(() => true, tryStart)
      this.ready.take(() => this.running < this.opts.jobs, tryStart)
    } finally {
      this.pumping = false
    }
  }

  private check(name: string): void {
    this.state.set(name, 'checking')
    if (this.stopped) {
      this.settle(name, 'skipped', undefined)
      return
    }
    let r: ReturnType<Hooks['check']>
    try {
      r = this.hooks.check(name)
    } catch {
      r = 'failed'
    }
    if (typeof r === 'string') this.after(name, r)
    else this.track(r.then((s) => this.after(name, s), () => this.after(name, 'failed')))
  }

  private after(name: string, r: TargetStatus | 'run'): void {
    if (r !== 'run') this.settle(name, r, undefined)
    else if (this.stopped) this.settle(name, 'skipped', undefined)
    else {
      this.state.set(name, 'ready')
      if (this.tasks.get(name)!.remote) this.readyRemote.push(name)
      else this.ready.push(name)
    }
  }

  /** Takes the -j and pool slots synchronously, before the hook's first await. */
  private start(name: string, pool: string | undefined, slot: boolean): void {
    this.state.set(name, 'running')
    if (slot) this.running++
    if (pool) this.poolBusy.set(pool, (this.poolBusy.get(pool) ?? 0) + 1)
    let held = true
    const free = () => {
      if (!held) return false
      held = false
      if (slot) this.running--
      if (pool) this.poolBusy.set(pool, this.poolBusy.get(pool)! - 1)
      return true
    }
    // early: start the next ready task now, unless a dependent of this one is to go first
    const release = () => {
      if (held && this.state.get(name) === 'running' && !this.outranked(name) && free()) this.pump()
    }
    let p: Promise<TargetStatus>
    try {
      p = this.hooks.run(name, release)
    } catch {
      p = Promise.resolve('failed')
    }
    // settled first, then the loop starts what is ready (a failure stops it first; a
    // dependent whose check settles at once competes for the slot by its priority)
    this.track(p.then(
      (s) => { free(); this.settle(name, s, undefined) },
      () => { free(); this.settle(name, 'failed', undefined) },
    ))
  }

  /**
   * Whether a dependent that `name` alone holds back has a higher priority than every ready
   * task: then `name`'s slot waits for it (the critical path goes first), not for the queue.
   */
  private outranked(name: string): boolean {
    const top = this.ready.topPriority()
    if (top === undefined) return true // nothing to start now anyway
    for (const d of this.dependents.get(name)!) {
      if (this.waitingOn.get(d) === 1 && this.state.get(d) === 'waiting' && this.tasks.get(d)!.prio > top) return true
    }
    return false
  }

  private track(p: Promise<void>): void {
    this.inflight++
    void p.finally(() => {
      this.inflight--
      this.wake()
    })
  }

  private settle(name: string, status: TargetStatus, because: string | undefined): void {
    if (this.status.has(name)) return
    this.status.set(name, status)
    this.state.set(name, 'done')
    if (status === 'skipped') this.hooks.skipped(name, because)
    if (status === 'failed') {
      this.failed = true
      if (!this.opts.keepGoing) this.opts.abort.abort()
    }
    for (const d of this.dependents.get(name)!) {
      if (this.status.has(d)) continue
      if (status === 'failed' || status === 'skipped') {
        this.settle(d, 'skipped', name)
        continue
      }
      const left = this.waitingOn.get(d)! - 1
      this.waitingOn.set(d, left)
      if (left === 0) this.check(d)
    }
    this.wake()
  }
}
