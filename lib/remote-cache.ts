// remote-cache.ts — a shared artifact cache over the Bazel HTTP cache protocol.
//
//   GET/PUT  <base>/ac/<key>       the action record for a target's key
//   GET/PUT  <base>/cas/<sha256>   a blob, named by the sha256 of its bytes (HEAD: exists?)
//
// Any server for that protocol works (bazel-remote, nginx WebDAV, a CDN-backed store).
// The AC body is auton's own ActionRecord as JSON (see cache.ts), not Bazel's ActionResult
// protobuf: the same server can hold both, but Bazel and auton do not read each other's entries.
//
// Invariants:
//   - the remote is an optimisation, never a dependency: any network error, timeout or
//     refusal turns it off for the rest of this build with ONE warning, and the build goes
//     on with the local cache;
//   - every blob read from the remote is hashed before it enters the local cache; a blob
//     whose bytes do not match its name is refused (counted, and reported as a warning), so
//     its target is rebuilt, and its correct bytes are re-uploaded afterwards;
//   - uploads run in the background (bounded concurrency) and never delay a recipe; an
//     action record is uploaded only after all its blobs, so a reader never finds a record
//     whose blobs are absent because of us;
//   - with a signing key ([cache] sign_key_env, signing.ts) every record uploaded is signed,
//     and a record fetched whose signature does not verify is refused before any of its
//     blobs is downloaded: counted (stats.refused), one warning naming the target, a miss;
//     the target rebuilds and its signed record replaces the refused one on the server;
//   - every request is bounded: 2 s to connect, 5 s to the response headers, 5 s without
//     a byte while reading or sending a body; flush() waits for uploads at most flushMs.

import { connect } from 'node:net'
import PQueue from 'p-queue'
import { sha256 } from './hash.js'
import type { LocalCache, ActionRecord, RemoteCache } from './cache.js'
import { signRecord, verifyRecord, signingKey } from './signing.js'
import type { Emit } from './events.js'
import type { AutonConfig } from './config.js'

export interface RemoteOptions {
  /** Base URL, e.g. http://cache.internal:8080/auton (no trailing slash needed). */
  url: string
  /** Never upload (untrusted PR builds). */
  readOnly?: boolean
  /** Value of the Authorization header, if any (see authHeader). */
  authorization?: string
  emit: Emit
  connectMs?: number
  requestMs?: number
  /** Longest wait for background uploads at the end of a build. */
  flushMs?: number
  /** Uploads in flight at once. */
  concurrency?: number
  /** Team key: sign uploaded records, refuse fetched records it does not verify. */
  signKey?: Buffer
  /** Name of the variable the key came from, for messages (never the key itself). */
  signKeyEnv?: string
}

export interface RemoteStats {
  hits: number
  misses: number
  blobsDown: number
  bytesDown: number
  blobsUp: number
  bytesUp: number
  /** Blobs refused because their bytes did not match their sha256. */
  poisoned: number
  /** Action records refused because their signature was missing or did not verify. */
  refused: number
}

class RemoteError extends Error {}

const HEX64 = /^[0-9a-f]{64}$/

export class HttpRemoteCache implements RemoteCache {
  readonly stats: RemoteStats = { hits: 0, misses: 0, blobsDown: 0, bytesDown: 0, blobsUp: 0, bytesUp: 0, poisoned: 0, refused: 0 }
  private readonly base: string
  private readonly uploads: PQueue
  private readonly downloads = new PQueue({ concurrency: 8 })
  /** Aborts every request still in flight once the remote is given up. */
  private readonly stop = new AbortController()
  private reachable?: Promise<void>
  private down = false
  /** Blobs the server holds with wrong bytes: upload these even if HEAD says they exist. */
  private readonly refusedBlobs = new Set<string>()
  private readonly queued = new Set<string>()

  constructor(private readonly o: RemoteOptions) {
    let u: URL
    try {
      u = new URL(o.url)
    } catch {
      throw new Error(`remote cache URL '${o.url}' is not a URL (want e.g. http://host:8080/cache)`)
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new Error(`remote cache URL '${o.url}': only http:// and https:// are supported`)
    }
    this.base = o.url.replace(/\/+$/, '')
    this.uploads = new PQueue({ concurrency: o.concurrency ?? 4 })
  }

  /** The base URL, without a trailing slash. */
  get url(): string {
    return this.base
  }

  /** True once the remote was given up for this build. */
  get disabled(): boolean {
    return this.down
  }

  /** Action records refused during this build (see RemoteStats.refused). */
  get refused(): number {
    return this.stats.refused
  }

  async fetch(key: string, local: LocalCache, target?: string): Promise<ActionRecord | undefined> {
    if (this.down) return undefined
    try {
      const body = await this.downloads.add(() => this.get(`ac/${key}`))
      if (body === undefined) {
        this.stats.misses++
        return undefined
      }
      const rec = parseAction(body.toString('utf8'), key)
      if (typeof rec === 'string') {
        this.warn(`remote cache: ignoring the action record for key ${key.slice(0, 12)}…: ${rec}`)
        this.stats.misses++
        return undefined
      }
      if (this.o.signKey) {
        const why = verifyRecord(rec, this.o.signKey)
        if (why !== 'ok') {
          this.stats.refused++
          const who = target ? `'${target}'` : `key ${key.slice(0, 12)}…`
          this.warn(
            `remote cache: refused the action record of ${who} on ${this.base}: ${why} ` +
              `(checked with the key in $${this.o.signKeyEnv ?? '?'}); rebuilding it`,
          )
          return undefined
        }
      }
      const shas = [...new Set(rec.outputs.flatMap((o) => o.files.map((f) => f.sha256)))]
      for (const sha of shas) {
        if (local.hasBlob(sha)) continue
        const data = await this.downloads.add(() => this.get(`cas/${sha}`))
        if (this.down) return undefined
        if (data === undefined) {
          this.stats.misses++ // record without its blobs (evicted): a miss, not an error
          return undefined
        }
        const got = sha256(data)
        if (got !== sha) {
          this.stats.poisoned++
          this.refusedBlobs.add(sha)
          this.warn(
            `remote cache: refused blob ${sha.slice(0, 12)}… for '${rec.outputs.map((o) => o.path).join(', ')}': ` +
              `its bytes hash to ${got.slice(0, 12)}… (corrupt or tampered entry on ${this.base}); the target will be rebuilt`,
          )
          return undefined
        }
        local.putBlob(sha, data)
        this.stats.blobsDown++
        this.stats.bytesDown += data.length
      }
      this.stats.hits++
      return rec
    } catch (e) {
      this.giveUp(e)
      return undefined
    }
  }

  /**
   * Queue an upload of rec's blobs, then its action record. ifAbsent: first ask whether the
   * server has the record (a target restored from the local cache may well be there already).
   */
  upload(rec: ActionRecord, local: LocalCache, opts: { ifAbsent?: boolean } = {}): void {
    if (this.o.readOnly || this.down || this.queued.has(rec.key)) return
    this.queued.add(rec.key)
    void this.uploads
      .add(async () => {
        if (this.down) return
        if (opts.ifAbsent && (await this.has(`ac/${rec.key}`))) return
        for (const sha of new Set(rec.outputs.flatMap((o) => o.files.map((f) => f.sha256)))) {
          if (!this.refusedBlobs.has(sha) && (await this.has(`cas/${sha}`))) continue
          const data = local.readBlob(sha)
          if (!data) return // the local cache lost it (pruned): upload nothing rather than a dangling record
          await this.put(`cas/${sha}`, data)
          this.refusedBlobs.delete(sha)
          this.stats.blobsUp++
          this.stats.bytesUp += data.length
        }
        const { sig: _unverified, ...plain } = rec
        const body = this.o.signKey ? signRecord(plain, this.o.signKey) : plain
        await this.put(`ac/${rec.key}`, Buffer.from(JSON.stringify(body)))
      })
      .catch((e) => this.giveUp(e))
  }

  async flush(): Promise<void> {
    if (this.uploads.size + this.uploads.pending === 0) return
    const ms = this.o.flushMs ?? 60_000
    let timer: NodeJS.Timeout | undefined
    const timedOut = await Promise.race([
      this.uploads.onIdle().then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), ms))),
    ])
    clearTimeout(timer)
    if (timedOut) {
      const left = this.uploads.size + this.uploads.pending
      this.uploads.clear()
      this.stop.abort()
      this.warn(`remote cache: ${left} upload(s) to ${this.base} did not finish within ${ms / 1000} s and were abandoned`)
    }
  }

  // ── HTTP ──────────────────────────────────────────────────────────────────────────

  /** GET a path; undefined on 404. */
  private async get(path: string): Promise<Buffer | undefined> {
    const res = await this.request('GET', path)
    if (res.status === 404) {
      await res.body?.cancel()
      return undefined
    }
    if (!res.ok) throw await httpError('GET', this.endpoint(path), res)
    return this.readBody(res)
  }

  private async has(path: string): Promise<boolean> {
    const res = await this.request('HEAD', path)
    if (res.status === 404) return false
    if (!res.ok) throw await httpError('HEAD', this.endpoint(path), res)
    return true
  }

  private async put(path: string, data: Buffer): Promise<void> {
    // a body's send time grows with its size: allow 5 s plus 1 s per 10 MB
    const res = await this.request('PUT', path, data, Math.ceil(data.length / 10_000_000) * 1000)
    await res.body?.cancel()
    if (!res.ok) throw await httpError('PUT', this.endpoint(path), res)
  }

  private endpoint(path: string): string {
    return `${this.base}/${path}`
  }

  private async request(method: string, path: string, body?: Buffer, extraMs = 0): Promise<Response> {
    if (this.down) throw new RemoteError('remote cache disabled')
    await this.probe()
    const ctl = new AbortController()
    const onStop = () => ctl.abort()
    this.stop.signal.addEventListener('abort', onStop, { once: true })
    const ms = (this.o.requestMs ?? 5000) + extraMs
    const cancelTimer = liveTimeout(ms, () => ctl.abort(new RemoteError(`${method} ${this.endpoint(path)}: no response within ${ms / 1000} s`)))
    try {
      const headers: Record<string, string> = {}
      if (this.o.authorization) headers.authorization = this.o.authorization
      if (body) headers['content-type'] = 'application/octet-stream'
      return await fetch(this.endpoint(path), { method, headers, body: body as unknown as BodyInit | undefined, signal: ctl.signal })
    } catch (e) {
      if (ctl.signal.reason instanceof RemoteError) throw ctl.signal.reason
      throw new RemoteError(`${method} ${this.endpoint(path)}: ${describe(e)}`)
    } finally {
      cancelTimer()
      this.stop.signal.removeEventListener('abort', onStop)
    }
  }

  /** Read a response body, giving up when no byte arrives for requestMs. */
  private async readBody(res: Response): Promise<Buffer> {
    const reader = res.body!.getReader()
    const chunks: Uint8Array[] = []
    const ms = this.o.requestMs ?? 5000
    for (;;) {
      let cancelTimer = () => {}
      const idle = new Promise<never>((_, reject) => {
        cancelTimer = liveTimeout(ms, () => reject(new RemoteError(`${res.url}: the body stalled for ${ms / 1000} s`)))
      })
      try {
        const { done, value } = await Promise.race([reader.read(), idle])
        if (done) break
        chunks.push(value)
      } catch (e) {
        void reader.cancel().catch(() => {})
        throw e
      } finally {
        cancelTimer()
      }
    }
    return Buffer.concat(chunks)
  }

  /** One TCP connect per build with a short timeout, so a dead host costs 2 s, not a request timeout per target. */
  private probe(): Promise<void> {
    if (this.reachable) return this.reachable
    const u = new URL(this.base)
    const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80))
    const ms = this.o.connectMs ?? 2000
    this.reachable = new Promise<void>((resolve, reject) => {
      const sock = connect({ host: u.hostname.replace(/^\[|\]$/g, ''), port })
      const done = (err?: Error) => {
        sock.destroy()
        if (err) reject(err)
        else resolve()
      }
      sock.setTimeout(ms, () => done(new RemoteError(`cannot connect to ${u.host} within ${ms / 1000} s`)))
      sock.once('connect', () => done())
      sock.once('error', (e) => done(new RemoteError(`cannot connect to ${u.host}: ${describe(e)}`)))
    })
    return this.reachable
  }

  private giveUp(e: unknown): void {
    if (this.down) return
    this.down = true
    this.uploads.clear()
    this.stop.abort()
    this.warn(`remote cache unavailable, continuing with the local cache only: ${describe(e)}`)
  }

  private warn(message: string): void {
    this.o.emit({ type: 'warning', message, at: Date.now() })
  }
}

/**
 * Call `expire` once `ms` of the event loop's live time have passed. The build hashes and
 * copies large files synchronously; time the loop spends blocked must not count against
 * the server (after a long block a plain timer fires before the reply that is already
 * waiting is read). So elapsed time is counted in steps of at most 250 ms, and `expire`
 * runs after the poll phase (setImmediate), when a reply that has arrived has been seen.
 */
function liveTimeout(ms: number, expire: () => void): () => void {
  let left = ms
  let last = Date.now()
  let done = false
  let timer: NodeJS.Timeout
  const tick = () => {
    const now = Date.now()
    left -= Math.min(now - last, 250)
    last = now
    if (left > 0) timer = setTimeout(tick, Math.min(left, 250))
    else setImmediate(() => done || expire())
  }
  timer = setTimeout(tick, Math.min(ms, 250))
  return () => {
    done = true
    clearTimeout(timer)
  }
}

/** The remote configured by auton.toml [cache] and the command line; undefined when none. */
export function remoteFromConfig(
  cfg: AutonConfig,
  flags: { url?: string; readOnly?: boolean },
  emit: Emit,
  env: NodeJS.ProcessEnv = process.env,
): HttpRemoteCache | undefined {
  const url = flags.url ?? cfg.cache.remote
  if (!url) return undefined
  let authorization: string | undefined
  const name = cfg.cache.remote_auth_env
  if (name) {
    const value = env[name]
    if (!value) {
      emit({ type: 'warning', message: `remote cache: [cache] remote_auth_env names $${name}, which is not set; sending no credentials`, at: Date.now() })
    } else authorization = authHeader(value)
  }
  let readOnly = flags.readOnly || cfg.cache.remote_read_only
  const sign = signingKey(cfg, env)
  if (sign.env && !sign.key && !readOnly) {
    // a trusted build would refuse what this one uploads, and an unsigned upload would
    // replace a signed record: read, but do not write
    emit({
      type: 'warning',
      message: `remote cache: [cache] sign_key_env names $${sign.env}, which is not set: this build reads the remote without verifying records and uploads nothing`,
      at: Date.now(),
    })
    readOnly = true
  }
  return new HttpRemoteCache({ url, readOnly, authorization, emit, signKey: sign.key, signKeyEnv: sign.env })
}

/**
 * Credentials from an environment variable: "user:password" → Basic, a full
 * "Bearer …"/"Basic …" header value is used as is, anything else is a bearer token.
 */
export function authHeader(value: string): string {
  if (/^(Bearer|Basic) \S/.test(value)) return value
  if (value.includes(':')) return `Basic ${Buffer.from(value).toString('base64')}`
  return `Bearer ${value}`
}

/** Validate an AC entry: a record from the network is untrusted input. Returns the record or why not. */
export function parseAction(text: string, key: string): ActionRecord | string {
  let r: ActionRecord
  try {
    r = JSON.parse(text)
  } catch {
    return 'it is not JSON (written by another tool?)'
  }
  if (!r || typeof r !== 'object' || r.key !== key) return 'its key does not match'
  if (!Array.isArray(r.outputs) || typeof r.discovered !== 'object' || r.discovered === null) return 'it lacks outputs or discovered inputs'
  if (typeof r.ms !== 'number') r.ms = 0
  if (r.sig !== undefined && typeof r.sig !== 'string') return 'its signature is not a string'
  for (const o of r.outputs) {
    if (!o || !safePath(o.path) || (o.kind !== 'file' && o.kind !== 'dir') || typeof o.hash !== 'string' || !Array.isArray(o.files)) {
      return `output ${JSON.stringify(o?.path)} is malformed or escapes the project`
    }
    if (o.kind === 'file' && o.files.length !== 1) return `file output '${o.path}' must have exactly one blob`
    for (const f of o.files) {
      if (!f || !HEX64.test(f.sha256) || typeof f.rel !== 'string' || (o.kind === 'dir' && !safePath(f.rel))) {
        return `a file of output '${o.path}' is malformed or escapes it`
      }
    }
  }
  for (const p of Object.keys(r.discovered)) if (typeof r.discovered[p] !== 'string') return 'discovered inputs are malformed'
  return r
}

/** A relative path that stays inside its root: no absolute path, no '..', no empty segment. */
function safePath(p: unknown): p is string {
  if (typeof p !== 'string' || p === '' || p.startsWith('/') || p.includes('\\') || p.includes('\0')) return false
  return p.split('/').every((s) => s !== '' && s !== '.' && s !== '..')
}

async function httpError(method: string, url: string, res: Response): Promise<RemoteError> {
  await res.body?.cancel().catch(() => {})
  const hint = res.status === 401 || res.status === 403 ? ' (check the credentials in [cache] remote_auth_env, or use --remote-cache-read-only)' : ''
  return new RemoteError(`${method} ${url}: HTTP ${res.status} ${res.statusText}${hint}`)
}

function describe(e: unknown): string {
  if (e instanceof RemoteError) return e.message
  const err = e as Error & { cause?: { code?: string; message?: string } }
  if (err?.cause?.code) return `${err.message} (${err.cause.code})`
  return err?.message ?? String(e)
}
