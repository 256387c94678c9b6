// state.ts — what the last builds recorded, in .auton/.
//
// Layout:
//   .auton/targets.jsonl  one record per finished target, appended (like .ninja_log):
//                         a crash leaves at most a torn last line, which load() skips and
//                         the next append cuts off first (else the next record would be
//                         glued to it and lost too). The last record of a name wins; the
//                         file is compacted when it grows to several times the live records.
//   .auton/salt           random per-checkout salt for recorded env hashes (key.ts).
//   .auton/stat.json      the StatCache memo, replaced atomically (write + rename).
//   .auton/logs/<t>.log   each target's last log.
// Invariant: a record is appended only after the target's outputs were checked and
// hashed, so a record never vouches for a partial output. A target that starts running
// first appends a tombstone, so an interrupted run is never mistaken for the previous good one.
// Records are buffered (written within FLUSH_MS, at FLUSH_BYTES, and by save()): a crash
// loses the last few, and those targets rebuild — it never makes a record trust anything.
// A tombstone is written at once, with whatever is buffered before it: it must be on disk
// before the recipe deletes the outputs the old record vouches for.

import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, fstatSync, ftruncateSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { StatCache } from './hash.js'
import { writeAtomic } from './atomic.js'
import type { Parts } from './key.js'

export interface TargetRecord {
  name: string
  /** Key over the parts (key.ts). */
  key: string
  /** Key including the discovered inputs' hashes (equals `key` when there are none). */
  fullKey: string
  /** What the key was made of, in order (key.ts): the rebuilder compares these. */
  parts: Parts
  /** Output path → content hash. */
  outputs: Record<string, string>
  /** Discovered input path → content hash at the time of the build. */
  discovered: Record<string, string>
  ms: number
  /** How the record was made. */
  via: 'ran' | 'restored'
  at: number
}

/** A buffered record reaches the journal within this long, or once this much is buffered. */
const FLUSH_MS = 200
const FLUSH_BYTES = 64 * 1024

interface Tombstone {
  name: string
  tombstone: true
}

export class State {
  readonly dir: string
  readonly records = new Map<string, TargetRecord>()
  readonly stat = new StatCache()
  private lines = 0
  /** Bytes of the journal up to its last complete line (a torn tail beyond it is cut before appending). */
  private journalValid = 0
  private saltValue: string | undefined

  constructor(root: string) {
    this.dir = join(root, '.auton')
  }

  load(): this {
    const log = join(this.dir, 'targets.jsonl')
    if (existsSync(log)) {
      const buf = readFileSync(log)
      this.journalValid = buf.lastIndexOf(0x0a) + 1
      for (const line of buf.toString('utf8', 0, this.journalValid).split('\n')) {
        if (!line) continue
        let r: TargetRecord | Tombstone
        try {
          r = JSON.parse(line)
        } catch {
          continue // damaged line (not a torn tail: that is never read)
        }
        if (typeof r !== 'object' || r === null || typeof r.name !== 'string') continue
        this.lines++
        if ('tombstone' in r) this.records.delete(r.name)
        else this.records.set(r.name, r)
      }
    }
    const statFile = join(this.dir, 'stat.json')
    if (existsSync(statFile)) {
      try {
        this.stat.load(JSON.parse(readFileSync(statFile, 'utf8')), statSync(statFile).mtimeMs)
      } catch {
        // a damaged memo only costs rehashing
      }
    }
    return this
  }

  /** The journal, opened for appending on first use and kept open until save(). */
  private journal: number | undefined
  /** Lines not written yet (see FLUSH_MS). */
  private pending = ''
  private flushTimer: ReturnType<typeof setTimeout> | undefined

  private append(obj: TargetRecord | Tombstone, now = false): void {
    this.pending += JSON.stringify(obj) + '\n'
    this.lines++
    if (now || this.pending.length >= FLUSH_BYTES) this.flush()
    else if (this.flushTimer === undefined) {
      this.flushTimer = setTimeout(() => this.flush(), FLUSH_MS)
      this.flushTimer.unref?.()
    }
  }

  /** Write the buffered lines to the journal. */
  flush(): void {
    if (this.flushTimer !== undefined) {
      clearTimeout(this.flushTimer)
      this.flushTimer = undefined
    }
    if (!this.pending) return
    if (this.journal === undefined) {
      mkdirSync(this.dir, { recursive: true })
      const file = join(this.dir, 'targets.jsonl')
      this.journal = openSync(file, 'a')
      if (fstatSync(this.journal).size > this.journalValid) ftruncateSync(this.journal, this.journalValid)
    }
    const text = this.pending
    this.pending = ''
    writeSync(this.journal, text)
  }

  /** Called before a recipe runs: from now on nothing vouches for this target's outputs. */
  forget(name: string): void {
    if (!this.records.has(name)) return
    this.records.delete(name)
    this.append({ name, tombstone: true }, true)
  }

  record(r: TargetRecord): void {
    this.records.set(r.name, r)
    this.append(r)
  }

  /** Persist the stat memo and compact the journal. Safe to call on interrupt. */
  save(): void {
    this.flush()
    if (this.journal !== undefined) {
      closeSync(this.journal) // before compaction replaces the file
      this.journal = undefined
    }
    mkdirSync(this.dir, { recursive: true })
    if (!this.memoLater) this.saveMemo()
    if (this.lines > 4 * this.records.size + 100) {
      const body = [...this.records.values()].map((r) => JSON.stringify(r) + '\n').join('')
      writeAtomic(join(this.dir, 'targets.jsonl'), body)
      this.lines = this.records.size
      this.journalValid = Buffer.byteLength(body)
    }
  }

  /**
   * The build server keeps one State across builds and writes the memo when idle (saveMemo):
   * it only spares a later process re-reading files, and at 10,000 files it is 2 MB of JSON.
   * A memo older than the files is safe: an entry whose stat differs is not trusted.
   */
  memoLater = false

  saveMemo(): void {
    if (this.stat.changed || !existsSync(join(this.dir, 'stat.json'))) {
      mkdirSync(this.dir, { recursive: true })
      writeAtomic(join(this.dir, 'stat.json'), JSON.stringify(this.stat))
      this.stat.saved()
    }
  }

  /** The per-checkout salt (created on first use). */
  salt(): string {
    if (this.saltValue === undefined) {
      const file = join(this.dir, 'salt')
      try {
        this.saltValue = readFileSync(file, 'utf8').trim()
      } catch {
        this.saltValue = ''
      }
      if (this.saltValue.length < 32) {
        this.saltValue = randomBytes(32).toString('hex')
        mkdirSync(this.dir, { recursive: true })
        writeAtomic(file, this.saltValue + '\n')
      }
    }
    return this.saltValue
  }

  logPath(name: string): string {
    return join(this.dir, 'logs', name.replace(/[^A-Za-z0-9._-]/g, '_') + '.log')
  }
}
