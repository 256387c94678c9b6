// changes.ts — the server's side of the watcher thread (watch-thread.ts): start it, ask it
// what changed up to now.

import { Worker } from 'node:worker_threads'
import type { SyncReply, WatchInit } from './watch-thread.js'

export class Changes {
  private seq = 0
  private pending = new Map<number, (r: SyncReply) => void>()
  /** Why the watcher cannot be relied on any more (the thread died, a sync went unanswered). */
  broken: string | undefined

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: SyncReply | { ready: true }) => {
      if ('ready' in m) return
      this.pending.get(m.id)?.(m)
      this.pending.delete(m.id)
    })
    worker.on('error', (e) => this.fail(`the watcher thread failed: ${e.message}`))
    worker.on('exit', () => this.fail('the watcher thread exited'))
    worker.unref()
  }

  static start(init: WatchInit): Promise<Changes> {
    const worker = new Worker(new URL('./watch-thread.js', import.meta.url), { workerData: init })
    return new Promise((resolve, reject) => {
      worker.once('message', () => resolve(new Changes(worker)))
      worker.once('error', reject)
    })
  }

  /** Every change made before this call (see watch-thread.ts); `doubt` when some may be missing. */
  sync(timeoutMs = 5000): Promise<SyncReply> {
    const id = ++this.seq
    if (this.broken) return Promise.resolve(inDoubt(id, this.broken))
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.fail(`the watcher did not answer within ${timeoutMs} ms`), timeoutMs)
      this.pending.set(id, (r) => {
        clearTimeout(timer)
        resolve(r)
      })
      this.worker.postMessage({ sync: id })
    })
  }

  private fail(why: string): void {
    this.broken ??= why
    for (const [id, done] of this.pending) done(inDoubt(id, why))
    this.pending.clear()
  }
}

const inDoubt = (id: number, why: string): SyncReply => ({ id, changed: [], untrusted: [], dirsGone: [], doubt: why })
