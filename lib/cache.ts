// cache.ts — the local content-addressed artifact cache (cache/ by default).
//
//   cache/cas/<aa>/<sha256>   blobs: file contents, named by their hash
//   cache/ac/<key>.json       action records: key → the outputs it produced
// Blobs are written before the action record that names them, each by write + rename,
// so a record never points at a partial blob. Blobs are copies, never hard links to the
// outputs: an output edited in place must not change what the cache restores it to.
// Restores re-hash what they read and refuse (and delete) a blob whose content does not
// match its name. The layout mirrors the Bazel HTTP cache protocol (/ac/, /cas/) so a
// remote cache can mirror it one to one.
// With a signing key ([cache] sign_key_env, see signing.ts) every record written is signed,
// and a record read whose signature does not verify is refused: counted in `refused`,
// warned about once, and treated as a miss, so its target rebuilds and overwrites it.

import {
  chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync,
} from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { listTree, sha256 } from './hash.js'
import { writeAtomic } from './atomic.js'
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

  constructor(readonly dir: string, private readonly opts: LocalCacheOptions = {}) {
    this.signKey = opts.signKey
  }

  /** True when records are signed and verified. */
  get signing(): boolean {
    return this.signKey !== undefined
  }

  private blobPath(sha: string): string {
    return join(this.dir, 'cas', sha.slice(0, 2), sha)
  }

  private acPath(key: string): string {
    return join(this.dir, 'ac', `${key}.json`)
  }

  hasBlob(sha: string): boolean {
    return existsSync(this.blobPath(sha))
  }

  readBlob(sha: string): Buffer | undefined {
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

  /** Directories this process made or found (cas/<aa>, ac): one mkdir each, not one per file. */
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

  /** Store a blob (verified by the caller or hashed here). */
  putBlob(sha: string, data: Buffer): void {
    const p = this.blobPath(sha)
    if (existsSync(p)) return
    this.write(p, data, 0o444)
  }

  /**
   * The action record for key, or undefined on a miss. With a signing key, a record whose
   * signature does not verify is refused: counted, one warning naming `target` (or the key),
   * and undefined. The refused file is kept (the rebuild overwrites it with a signed one).
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

  /** The record as stored, unverified (for pruning and inspection). */
  readRecord(key: string): ActionRecord | undefined {
    const p = this.acPath(key)
    if (!existsSync(p)) return undefined
    try {
      return JSON.parse(readFileSync(p, 'utf8')) as ActionRecord
    } catch {
      rmSync(p, { force: true })
      return undefined
    }
  }

  /** Store a record, signed when a key is configured (unsigned otherwise). */
  putAction(rec: ActionRecord): void {
    const { sig: _unverified, ...plain } = rec
    this.write(this.acPath(rec.key), JSON.stringify(this.signKey ? signRecord(plain, this.signKey) : plain))
  }

  /** Copy a target's outputs into the cache and describe them. */
  storeOutputs(root: string, outputs: string[], hashes: Record<string, string>): OutputEntry[] {
    return outputs.map((o) => {
      const full = join(root, o)
      const st = statSync(full)
      if (st.isDirectory()) {
        const files = listTree(full).map((rel) => {
          const f = join(full, rel)
          const data = readFileSync(f)
          const sha = sha256(data)
          this.putBlob(sha, data)
          return { rel, sha256: sha, exec: (statSync(f).mode & 0o111) !== 0 }
        })
        return { path: o, kind: 'dir' as const, hash: hashes[o], files }
      }
      const data = readFileSync(full)
      const sha = sha256(data)
      this.putBlob(sha, data)
      return { path: o, kind: 'file' as const, hash: sha, files: [{ rel: '', sha256: sha, exec: (st.mode & 0o111) !== 0 }] }
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
    for (const [sha] of blobs) touch(this.blobPath(sha))
    writeOutputs(root, rec, (sha) => blobs.get(sha)!)
    return true
  }

  stats(): { blobs: number; bytes: number; actions: number } {
    let blobs = 0
    let bytes = 0
    for (const f of walk(join(this.dir, 'cas'))) {
      blobs++
      bytes += f.size
    }
    const actions = existsSync(join(this.dir, 'ac')) ? readdirSync(join(this.dir, 'ac')).length : 0
    return { blobs, bytes, actions }
  }

  /** Delete least recently used blobs until the cache is at most maxBytes; drop records that lost a blob. */
  prune(maxBytes: number): { removedBlobs: number; removedActions: number; bytes: number } {
    const files = [...walk(join(this.dir, 'cas'))].sort((a, b) => a.mtimeMs - b.mtimeMs)
    let total = files.reduce((s, f) => s + f.size, 0)
    let removedBlobs = 0
    for (const f of files) {
      if (total <= maxBytes) break
      rmSync(f.path, { force: true })
      total -= f.size
      removedBlobs++
    }
    let removedActions = 0
    const acDir = join(this.dir, 'ac')
    if (existsSync(acDir)) {
      for (const name of readdirSync(acDir)) {
        const rec = this.readRecord(name.replace(/\.json$/, ''))
        if (!rec || rec.outputs.some((o) => o.files.some((f) => !this.hasBlob(f.sha256)))) {
          rmSync(join(acDir, name), { force: true })
          removedActions++
        }
      }
    }
    return { removedBlobs, removedActions, bytes: total }
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

function* walk(dir: string): Generator<{ path: string; size: number; mtimeMs: number }> {
  if (!existsSync(dir)) return
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) yield* walk(p)
    else if (!e.name.includes('.tmp-')) {
      const st = statSync(p)
      yield { path: p, size: st.size, mtimeMs: st.mtimeMs }
    }
  }
}
