// cache.ts — the local content-addressed artifact cache (cache/ by default).
//
//   cache/ac.log              action records: key → the outputs it produced (action-log.ts),
//                             each with the bytes of its output files of INLINE_MAX or less
//   cache/cas/<aa>/<sha256>   blobs: the contents of larger output files, named by their hash
// A blob is written before the record that names it, by write + rename, so a record never
// points at a partial blob. Small files travel inside their record because a new file per
// output (and one per record) cost more than a small recipe itself (action-log.ts says why).
// Blobs are copies, never hard links to the outputs: an output edited in place must not change
// what the cache restores it to.
// Restores re-hash what they read and refuse (and delete) a blob whose content does not
// match its name. The remote cache speaks the Bazel HTTP cache protocol (/ac/, /cas/): there
// every blob is its own entry, whatever its size (remote-cache.ts).
// With a signing key ([cache] sign_key_env, see signing.ts) every record written is signed,
// and a record read whose signature does not verify is refused: counted in `refused`,
// warned about once, and treated as a miss, so its target rebuilds and overwrites it. The
// signature covers the record (its blobs' hashes), and inline bytes are checked against those.

import {
  chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync,
} from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { dirHash, listTree, sha256 } from './hash.js'
import { writeAtomic } from './atomic.js'
import { ActionLog, lineBytes } from './action-log.js'
import { signRecord, verifyRecord, signingKey } from './signing.js'
import type { AutonConfig } from './config.js'
import type { Emit } from './events.js'

export interface OutputEntry {
  path: string
  kind: 'file' | 'dir'
  /** Content hash of the output (file hash, or directory hash as in hash.ts). */
  hash: string
  /** For a file: its blob. For a directory: its files. */
  files: { rel: string; sha256: string; exec: boolean }[]
}

export interface ActionRecord {
  key: string
  outputs: OutputEntry[]
  /** Discovered inputs and their hashes when the outputs were made; restore only if they still match. */
  discovered: Record<string, string>
  /** Recipe run time, so a restore can report what it saved. */
  ms: number
  /** "hmac-sha256:<hex>" over everything above (signing.ts); absent when written without a key. */
  sig?: string
}

/** A shared cache beyond the local one (remote-cache.ts speaks the Bazel HTTP protocol). */
export interface RemoteCache {
  /**
   * Fetch an action record and all its blobs into `local`; undefined on a miss, a refused
   * blob or a refused record. `target` names the target in warnings.
   */
  fetch(key: string, local: LocalCache, target?: string): Promise<ActionRecord | undefined>
  /** Upload in the background; failures only warn. */
  upload(rec: ActionRecord, local: LocalCache, opts?: { ifAbsent?: boolean }): void
  /** Wait for background uploads (bounded). */
  flush(): Promise<void>
  /** Action records refused during this build because their signature did not verify. */
  readonly refused?: number
}

/** Output files of this size or less are kept inside their action record, not as a blob file. */
export const INLINE_MAX = 64 * 1024

/** What one line of the action log holds: the record, and the bytes of its small files (base64 by sha256). */
interface StoredAction {
  rec: ActionRecord
  inline?: Record<string, string>
  /** When it was written (ms): prune drops the oldest first. */
  at?: number
}

export interface LocalCacheOptions {
  /** Team key: sign every record written, refuse every record read that it does not verify. */
  signKey?: Buffer
  /** Name of the variable the key came from, for messages (never the key itself). */
  signKeyEnv?: string
  /** Where warnings about refused records go. */
  emit?: Emit
}


export class LocalCache {
  /** Blobs found corrupt (and removed) during this process. */
  corrupt = 0
  /** Action records refused during this process: unsigned or a signature that does not verify. */
  refused = 0
  private readonly signKey?: Buffer
  private readonly log: ActionLog
  /** Small blobs handed to putBlob that no record stored by this instance holds yet, by sha256. */
  private readonly pending = new Map<string, Buffer>()
  /** The key of a record that holds a small blob inline, for each one this instance read or stored. */
  private readonly inlineIn = new Map<string, string>()
  /** The record last read or stored: its blobs are read without parsing its line again. */
  private last?: { key: string; stored: StoredAction }

  constructor(readonly dir: string, private readonly opts: LocalCacheOptions = {}) {
    this.signKey = opts.signKey
    this.log = new ActionLog(join(dir, 'ac.log'))
  }

  /** True when records are signed and verified. */
  get signing(): boolean {
    return this.signKey !== undefined
  }

  private blobPath(sha: string): string {
    return join(this.dir, 'cas', sha.slice(0, 2), sha)
  }

  hasBlob(sha: string): boolean {
    return this.pending.has(sha) || this.inlineIn.has(sha) || existsSync(this.blobPath(sha))
  }

  readBlob(sha: string): Buffer | undefined {
    const mem = this.pending.get(sha) ?? fromBase64(this.inlined(sha))
    if (mem) {
      if (sha256(mem) === sha) return mem
      this.pending.delete(sha)
      this.inlineIn.delete(sha)
      this.corrupt++
      return undefined
    }
    const p = this.blobPath(sha)
    if (!existsSync(p)) return undefined
    const data = readFileSync(p)
    if (sha256(data) !== sha) {
      this.corrupt++
      rmSync(p, { force: true })
      return undefined
    }
    return data
  }

  /** Directories this process made or found (cas/<aa>): one mkdir each, not one per file. */
  private made = new Set<string>()

  /** writeAtomic into a directory of the cache, made on first use. */
  private write(p: string, data: string | Buffer, mode?: number): void {
    const d = dirname(p)
    if (!this.made.has(d)) {
      mkdirSync(d, { recursive: true })
      this.made.add(d)
    }
    try {
      writeAtomic(p, data, mode)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
      mkdirSync(d, { recursive: true }) // pruned or removed meanwhile (rm -rf cache)
      writeAtomic(p, data, mode)
    }
  }

  /**
   * Store a blob (verified by the caller or hashed here): a small one goes into the next
   * record that names it, a larger one into cas/.
   */
  putBlob(sha: string, data: Buffer): void {
    if (data.length <= INLINE_MAX) {
      this.pending.set(sha, data)
      return
    }
    const p = this.blobPath(sha)
    if (existsSync(p)) return
    this.write(p, data, 0o444)
  }

  /**
   * The action record for key, or undefined on a miss. With a signing key, a record whose
   * signature does not verify is refused: counted, one warning naming `target` (or the key),
   * and undefined. The refused line is kept (the rebuild appends a signed one after it).
   */
  getAction(key: string, target?: string): ActionRecord | undefined {
    const rec = this.readRecord(key)
    if (!rec || !this.signKey) return rec
    const why = rec.key === key ? verifyRecord(rec, this.signKey) : 'its key does not match its name'
    if (why === 'ok') return rec
    this.refused++
    const who = target ? `'${target}'` : `key ${key.slice(0, 12)}…`
    this.opts.emit?.({
      type: 'warning',
      message: `cache: refused the action record of ${who} in ${this.dir}: ${why} (checked with the key in $${this.opts.signKeyEnv ?? '?'}); rebuilding it`,
      at: Date.now(),
    })
    return undefined
  }

  /** The record as stored, unverified (for pruning and inspection); its small blobs become readable. */
  readRecord(key: string): ActionRecord | undefined {
    const stored = parseStored(this.log.get(key))
    if (!stored) return undefined
    this.remember(key, stored)
    return stored.rec
  }

  /** Store a record, signed when a key is configured (unsigned otherwise), with its small blobs. */
  putAction(rec: ActionRecord): void {
    const { sig: _unverified, ...plain } = rec
    const signed = this.signKey ? signRecord(plain, this.signKey) : plain
    const inline: Record<string, string> = {}
    for (const o of rec.outputs) for (const f of o.files) {
      const b64 = this.pending.get(f.sha256)?.toString('base64') ?? this.inlined(f.sha256)
      if (b64 !== undefined) inline[f.sha256] = b64
    }
    const stored: StoredAction = { rec: signed, inline, at: Date.now() }
    this.log.put(rec.key, JSON.stringify(stored))
    for (const sha of Object.keys(inline)) this.pending.delete(sha)
    this.remember(rec.key, stored)
  }

  private remember(key: string, stored: StoredAction): void {
    for (const sha of Object.keys(stored.inline ?? {})) this.inlineIn.set(sha, key)
    this.last = { key, stored }
  }

  /** A small blob, base64, from the record that holds it (read again from the log unless it is the last one). */
  private inlined(sha: string): string | undefined {
    const key = this.inlineIn.get(sha)
    if (key === undefined) return undefined
    const stored = this.last?.key === key ? this.last.stored : parseStored(this.log.get(key))
    return stored?.inline?.[sha]
  }

  /**
   * Copy a target's outputs into the cache and describe them; `hashes` are the ones the
   * journal recorded. An output that no longer has that hash (changed since its recipe) is
   * not stored: this throws.
   */
  storeOutputs(root: string, outputs: string[], hashes: Record<string, string>): OutputEntry[] {
    return outputs.map((o) => {
      const full = join(root, o)
      const st = statSync(full)
      const blobs: [string, Buffer][] = []
      let entry: OutputEntry
      if (st.isDirectory()) {
        const files = listTree(full).map((rel) => {
          const f = join(full, rel)
          const data = readFileSync(f)
          const sha = sha256(data)
          blobs.push([sha, data])
          return { rel, sha256: sha, exec: (statSync(f).mode & 0o111) !== 0 }
        })
        entry = { path: o, kind: 'dir' as const, hash: dirHash(files), files }
      } else {
        const data = readFileSync(full)
        const sha = sha256(data)
        blobs.push([sha, data])
        entry = { path: o, kind: 'file' as const, hash: sha, files: [{ rel: '', sha256: sha, exec: (st.mode & 0o111) !== 0 }] }
      }
      if (entry.hash !== hashes[o]) throw new Error(`'${o}' changed after its recipe ran`)
      for (const [sha, data] of blobs) this.putBlob(sha, data)
      return entry
    })
  }

  /**
   * Write an action's outputs into the work tree. Every blob is verified first; if any
   * is missing or corrupt nothing is written and false is returned.
   */
  restore(root: string, rec: ActionRecord): boolean {
    const blobs = new Map<string, Buffer>()
    for (const o of rec.outputs) {
      for (const f of o.files) {
        if (blobs.has(f.sha256)) continue
        const data = this.readBlob(f.sha256)
        if (!data) return false
        blobs.set(f.sha256, data)
      }
    }
    for (const [sha] of blobs) if (!this.pending.has(sha) && !this.inlineIn.has(sha)) touch(this.blobPath(sha))
    writeOutputs(root, rec, (sha) => blobs.get(sha)!)
    return true
  }

  stats(): { blobs: number; bytes: number; actions: number } {
    const shas = new Set<string>()
    let bytes = this.log.size()
    for (const f of walk(join(this.dir, 'cas'))) {
      shas.add(f.name)
      bytes += f.size
    }
    const entries = this.log.entries()
    for (const [, json] of entries) for (const sha of Object.keys(parseStored(json)?.inline ?? {})) shas.add(sha)
    return { blobs: shas.size, bytes, actions: entries.length }
  }

  /**
   * Shrink the cache to at most maxBytes: the least recently used blob files (a restore
   * touches them) and the oldest records go first; a record that lost a blob goes too.
   * The action log is rewritten with the latest record of each key left.
   */
  prune(maxBytes: number): { removedBlobs: number; removedActions: number; bytes: number } {
    type Item = { at: number; size: number; drop: () => void }
    const blobFiles = [...walk(join(this.dir, 'cas'))]
    const present = new Set(blobFiles.map((f) => f.name))
    const all = this.log.entries().map(([key, json]) => ({ key, json, stored: parseStored(json), live: true }))
    const entries = all.filter((e) => e.stored)
    const inlineOf = (e: (typeof entries)[number]) => Object.keys(e.stored!.inline ?? {})
    const items: Item[] = [
      ...blobFiles.map((f) => ({
        at: f.mtimeMs, size: f.size,
        drop: () => {
          rmSync(f.path, { force: true })
          present.delete(f.name)
        },
      })),
      ...entries.map((e) => ({ at: e.stored!.at ?? 0, size: lineBytes(e.key, e.json), drop: () => (e.live = false) })),
    ].sort((a, b) => a.at - b.at)
    let total = items.reduce((s, i) => s + i.size, 0)
    for (const i of items) {
      if (total <= maxBytes) break
      i.drop()
      total -= i.size
    }
    // a record whose blob file is gone cannot restore
    for (const e of entries) {
      if (!e.live) continue
      const inline = new Set(inlineOf(e))
      if (e.stored!.rec.outputs.some((o) => o.files.some((f) => !inline.has(f.sha256) && !present.has(f.sha256)))) {
        e.live = false
      }
    }
    const kept = entries.filter((e) => e.live)
    const gone = entries.filter((e) => !e.live)
    const keptInline = new Set(kept.flatMap(inlineOf))
    const removedBlobs = blobFiles.length - present.size + new Set(gone.flatMap(inlineOf).filter((s) => !keptInline.has(s) && !present.has(s))).size
    if (kept.length) this.log.rewrite(kept.map((e) => [e.key, e.json]), (file, data) => writeAtomic(file, data))
    else this.log.rewrite([], (file) => rmSync(file, { force: true }))
    const blobBytes = blobFiles.filter((f) => present.has(f.name)).reduce((s, f) => s + f.size, 0)
    return { removedBlobs, removedActions: all.length - kept.length, bytes: blobBytes + this.log.size() }
  }
}

function fromBase64(b64: string | undefined): Buffer | undefined {
  return b64 === undefined ? undefined : Buffer.from(b64, 'base64')
}

/** The stored form of one action log line, or undefined when it is not one. */
function parseStored(json: string | undefined): StoredAction | undefined {
  if (json === undefined) return undefined
  try {
    const s = JSON.parse(json) as StoredAction
    return s && typeof s === 'object' && s.rec && Array.isArray(s.rec.outputs) ? s : undefined
  } catch {
    return undefined
  }
}

/**
 * The local cache auton.toml [cache] describes: its dir, and the signing key from the
 * variable sign_key_env names (unset: records are written unsigned and read unverified).
 */
export function localFromConfig(root: string, cfg: AutonConfig, emit: Emit, env: NodeJS.ProcessEnv = process.env): LocalCache {
  const { key, env: name } = signingKey(cfg, env)
  return new LocalCache(resolve(root, cfg.cache.dir), { signKey: key, signKeyEnv: name, emit })
}

/** Materialise outputs from blobs: each output is written beside its place and renamed in. */
export function writeOutputs(root: string, rec: ActionRecord, blob: (sha: string) => Buffer): void {
  for (const o of rec.outputs) {
    const dest = join(root, o.path)
    mkdirSync(dirname(dest), { recursive: true })
    const tmp = `${dest}.auton-restore-${process.pid}`
    rmSync(tmp, { recursive: true, force: true })
    if (o.kind === 'dir') {
      mkdirSync(tmp, { recursive: true })
      for (const f of o.files) {
        const p = join(tmp, f.rel)
        mkdirSync(dirname(p), { recursive: true })
        writeFileSync(p, blob(f.sha256), { mode: f.exec ? 0o755 : 0o644 })
      }
    } else {
      const f = o.files[0]
      writeFileSync(tmp, blob(f.sha256), { mode: f.exec ? 0o755 : 0o644 })
      chmodSync(tmp, f.exec ? 0o755 : 0o644)
    }
    rmSync(dest, { recursive: true, force: true })
    renameSync(tmp, dest)
  }
}

function touch(p: string): void {
  const now = new Date()
  try {
    utimesSync(p, now, now)
  } catch {
    // read-only cache dirs still restore
  }
}

/** The blob files under dir (name: the blob's sha256). */
function* walk(dir: string): Generator<{ path: string; name: string; size: number; mtimeMs: number }> {
  if (!existsSync(dir)) return
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) yield* walk(p)
    else if (!e.name.includes('.tmp-')) {
      const st = statSync(p)
      yield { path: p, name: e.name, size: st.size, mtimeMs: st.mtimeMs }
    }
  }
}
