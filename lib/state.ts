// state.ts — what the last builds recorded, in .auton/.
//
// Layout:
//   .auton/targets.jsonl  one record per finished target, appended (like .ninja_log):
//                         a crash leaves at most a torn last line, which load() skips.
//                         The last record of a name wins; the file is compacted when
//                         it grows to several times the number of live records.
//   .auton/stat.json      the StatCache memo, replaced atomically (write + rename).
//   .auton/logs/<t>.log   each target's last log.
// Invariant: a record is appended only after the target's outputs were checked and
// hashed, so a record never vouches for a partial output. A target that starts running
// first appends a tombstone, so an interrupted run is never mistaken for the previous good one.

import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { StatCache } from './hash.js'

export interface TargetRecord {
  name: string
  /** Key over declared inputs, recipe, params, env and tools. */
  key: string
  /** Key including the discovered inputs' hashes (equals `key` when there are none). */
  fullKey: string
  /** Output path → content hash. */
  outputs: Record<string, string>
  /** Discovered input path → content hash at the time of the build. */
  discovered: Record<string, string>
  /** Hash per declared input, for `auton explain`. */
  inputs: Record<string, string>
  /** The key's ingredients other than inputs, for `auton explain`. */
  recipe: string
  params: string
  env: Record<string, string>
  tools: Record<string, string>
  ms: number
  /** How the record was made. */
  via: 'ran' | 'restored'
  at: number
}

interface Tombstone {
  name: string
  tombstone: true
}

export class State {
  readonly dir: string
  readonly records = new Map<string, TargetRecord>()
  readonly stat = new StatCache()
  private lines = 0

  constructor(root: string) {
    this.dir = join(root, '.auton')
  }

  load(): this {
    const log = join(this.dir, 'targets.jsonl')
    if (existsSync(log)) {
      for (const line of readFileSync(log, 'utf8').split('\n')) {
        if (!line) continue
        let r: TargetRecord | Tombstone
        try {
          r = JSON.parse(line)
        } catch {
          continue // torn write from a crash
        }
        this.lines++
        if ('tombstone' in r) this.records.delete(r.name)
        else this.records.set(r.name, r)
      }
    }
    const statFile = join(this.dir, 'stat.json')
    if (existsSync(statFile)) {
      try {
        const savedAtNs = statSync(statFile, { bigint: true }).mtimeNs
        this.stat.load(JSON.parse(readFileSync(statFile, 'utf8')), savedAtNs)
      } catch {
        // a damaged memo only costs rehashing
      }
    }
    return this
  }

  /** The journal, opened for appending on first use and kept open until save(). */
  private journal: number | undefined

  private append(obj: TargetRecord | Tombstone): void {
    if (this.journal === undefined) {
      mkdirSync(this.dir, { recursive: true })
      this.journal = openSync(join(this.dir, 'targets.jsonl'), 'a')
    }
    writeSync(this.journal, JSON.stringify(obj) + '\n')
    this.lines++
  }

  /** Called before a recipe runs: from now on nothing vouches for this target's outputs. */
  forget(name: string): void {
    if (!this.records.has(name)) return
    this.records.delete(name)
    this.append({ name, tombstone: true })
  }

  record(r: TargetRecord): void {
    this.records.set(r.name, r)
    this.append(r)
  }

  /** Persist the stat memo and compact the journal. Safe to call on interrupt. */
  save(): void {
    if (this.journal !== undefined) {
      closeSync(this.journal) // before compaction replaces the file
      this.journal = undefined
    }
    mkdirSync(this.dir, { recursive: true })
    if (this.stat.changed || !existsSync(join(this.dir, 'stat.json'))) {
      writeAtomic(join(this.dir, 'stat.json'), JSON.stringify(this.stat))
    }
    if (this.lines > 4 * this.records.size + 100) {
      const body = [...this.records.values()].map((r) => JSON.stringify(r) + '\n').join('')
      writeAtomic(join(this.dir, 'targets.jsonl'), body)
      this.lines = this.records.size
    }
  }

  logPath(name: string): string {
    return join(this.dir, 'logs', name.replace(/[^A-Za-z0-9._-]/g, '_') + '.log')
  }
}

export function writeAtomic(file: string, data: string | Buffer): void {
  const tmp = `${file}.tmp-${process.pid}`
  writeFileSync(tmp, data)
  renameSync(tmp, file)
}
