// ready-queue.ts — the targets ready to run, highest priority first.
//
// A binary heap: the scheduler takes from it after every finished target, and at 10,000
// targets re-sorting the whole ready list each time cost seconds. Equal priorities come
// out in the order they went in (as a stable sort would give them).

interface Entry {
  name: string
  prio: number
  seq: number
}

export class ReadyQueue {
  private heap: Entry[] = []
  private seq = 0

  constructor(private readonly prioOf: (name: string) => number) {}

  get size(): number {
    return this.heap.length
  }

  /** The priority of the entry take() would offer first; undefined when empty. */
  topPriority(): number | undefined {
    return this.heap[0]?.prio
  }

  push(name: string): void {
    this.insert({ name, prio: this.prioOf(name), seq: this.seq++ })
  }

  /**
   * Offer entries, best first, to `tryTake` while `more()` holds; it returns false for one
   * it cannot take now (its pool is full), which stays queued in its place.
   */
  take(more: () => boolean, tryTake: (name: string) => boolean): void {
    const refused: Entry[] = []
    while (more() && this.heap.length) {
      const e = this.pop()
      if (!tryTake(e.name)) refused.push(e)
    }
    for (const e of refused) this.insert(e)
  }

  /** Empty the queue, returning what was in it. */
  drain(): string[] {
    const all = this.heap.sort((a, b) => (before(a, b) ? -1 : 1)).map((e) => e.name)
    this.heap = []
    return all
  }

  private insert(e: Entry): void {
    const h = this.heap
    h.push(e)
    for (let i = h.length - 1; i > 0; ) {
      const up = (i - 1) >> 1
      if (!before(h[i], h[up])) break
      ;[h[i], h[up]] = [h[up], h[i]]
      i = up
    }
  }

  private pop(): Entry {
    const h = this.heap
    const top = h[0]
    const last = h.pop()!
    if (h.length) {
      h[0] = last
      for (let i = 0; ; ) {
        const l = 2 * i + 1
        const r = l + 1
        let best = i
        if (l < h.length && before(h[l], h[best])) best = l
        if (r < h.length && before(h[r], h[best])) best = r
        if (best === i) break
        ;[h[i], h[best]] = [h[best], h[i]]
        i = best
      }
    }
    return top
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.prio > b.prio || (a.prio === b.prio && a.seq < b.seq)
}
