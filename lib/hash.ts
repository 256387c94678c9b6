// hash.ts — content hashes of files and directories, memoised by stat.
//
// What makes a target dirty is decided by content, never by timestamps: a file's
// hash is sha256 of its bytes, a directory's is sha256 over its sorted entries
// (relative path, mode bit x, content hash). Reading every input on every build would
// make a no-op build cost a full read, so hashes are memoised by (size, mtime, ctime,
// inode). Like git's "racy clean" rule, a hash is memoised only if the file's mtime is
// older than the moment it was read (by more than the filesystem's timestamp
// granularity): otherwise the file could change again within the same clock tick, keep
// its size and mtime, and the memo would vouch for the old content. Such a file is
// rehashed by the next build. (Comparing with the moment the memo file is saved, as
// load() also does, is not enough: a build can hash a file minutes before it saves.)

import { createHash } from 'node:crypto'
import { readFileSync, statSync, readdirSync, openSync, readSync, closeSync } from 'node:fs'
import { join } from 'node:path'

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

interface Memo {
  size: number
  /** Stat times in ms (Node's float from the kernel's ns: the same stat gives the same number). */
  mtimeMs: number
  ctimeMs: number
  ino: number
  hash: string
}

/** Coarse filesystem clocks (ext4 uses the scheduler tick) — stay well clear of them. */
const RACY_MARGIN_MS = 20

export class StatCache {
  private memo = new Map<string, Memo>()
  private dirty = false
  /** Hashes computed by this process, trusted for its lifetime (the server: until the watcher reports a change). */
  private fresh = new Map<string, string>()

  /** `savedAtMs`: when the memo file was written; older memos are only trusted below it. */
  load(entries: Record<string, Memo>, savedAtMs: number): void {
    for (const [p, m] of Object.entries(entries)) {
      if (typeof m.mtimeMs === 'number' && m.mtimeMs + RACY_MARGIN_MS < savedAtMs) this.memo.set(p, m)
    }
  }

  toJSON(): Record<string, Memo> {
    return Object.fromEntries(this.memo)
  }

  get changed(): boolean {
    return this.dirty
  }

  /** The memo as it is now has been written. */
  saved(): void {
    this.dirty = false
  }

  /** Forget what this process knows about a path (it is about to be rewritten). */
  invalidate(path: string): void {
    this.fresh.delete(path)
    if (this.memo.delete(path)) this.dirty = true
  }

  /** What this process last computed for a path, without looking at the disk. */
  peek(path: string): string | undefined {
    return this.fresh.get(path)
  }

  /** Forget the paths under a directory. */
  invalidateUnder(dir: string): void {
    for (const p of this.fresh.keys()) if (p.startsWith(dir + '/')) this.invalidate(p)
  }

  /**
   * The build server keeps this cache across builds and forgets a path as the file watcher
   * reports it changed. Paths the watcher does not cover (`trusted` false) are forgotten at
   * every newBuild(), so each build measures them again.
   */
  trustOnly(trusted: (path: string) => boolean): void {
    this.trusted = trusted
    for (const p of this.fresh.keys()) if (!trusted(p)) this.volatile.add(p)
  }

  newBuild(): void {
    for (const p of this.volatile) this.fresh.delete(p)
    this.volatile.clear()
  }

  private trusted: ((path: string) => boolean) | undefined
  private volatile = new Set<string>()

  /** The hash now, from the file's stat (memo) or its bytes: not what this process saw earlier. */
  rehash(path: string): string | undefined {
    this.fresh.delete(path)
    return this.hash(path)
  }

  /** Content hash of a file or directory, or undefined if it does not exist. */
  hash(path: string): string | undefined {
    const known = this.fresh.get(path)
    if (known !== undefined) return known
    const h = this.byStat(path)
    if (h !== undefined) {
      this.fresh.set(path, h)
      if (this.trusted && !this.trusted(path)) this.volatile.add(path)
    }
    return h
  }

  /**
   * The hash checked against the file's stat and the memo, never the per-process map.
   * Directories hash their files this way: a recipe rewrites the files inside a directory
   * output and only the directory itself is invalidated, so remembered hashes of the files
   * inside would be stale.
   */
  private byStat(path: string): string | undefined {
    // plain (not bigint) stats: a no-op build stats every file, and bigint stats cost GC time
    const st = statSync(path, { throwIfNoEntry: false })
    if (!st) return undefined
    if (st.isDirectory()) return hashDir(path, (file) => this.byStat(file))
    const m = this.memo.get(path)
    const { size, mtimeMs, ctimeMs, ino } = st
    if (m && m.size === size && m.mtimeMs === mtimeMs && m.ctimeMs === ctimeMs && m.ino === ino) return m.hash
    const readAtMs = Date.now()
    const h = hashFile(path, size)
    if (mtimeMs + RACY_MARGIN_MS < readAtMs) {
      this.memo.set(path, { size, mtimeMs, ctimeMs, ino, hash: h })
      this.dirty = true
    } else if (this.memo.delete(path)) this.dirty = true // racy: trusted for this process only (fresh)
    return h
  }
}

const CHUNK = 1 << 20

export function hashFile(path: string, size = statSync(path).size): string {
  if (size <= CHUNK) return sha256(readFileSync(path))
  const h = createHash('sha256')
  const buf = Buffer.allocUnsafe(CHUNK)
  const fd = openSync(path, 'r')
  try {
    let n: number
    while ((n = readSync(fd, buf, 0, CHUNK, null)) > 0) h.update(buf.subarray(0, n))
  } finally {
    closeSync(fd)
  }
  return h.digest('hex')
}

/** Files under a directory, relative, sorted — the order every directory hash uses. */
export function listTree(dir: string, prefix = ''): string[] {
  const out: string[] = []
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name
    if (e.isDirectory()) out.push(...listTree(dir, rel))
    else if (e.isFile() || e.isSymbolicLink()) out.push(rel)
  }
  return out
}

function hashDir(dir: string, hashOf: (file: string) => string | undefined): string {
  return dirHash(listTree(dir).map((rel) => {
    const full = join(dir, rel)
    return { rel, exec: (statSync(full).mode & 0o111) !== 0, sha256: hashOf(full) }
  }))
}

/** A directory's hash from its files (in listTree's order): what hashDir computes. */
export function dirHash(files: { rel: string; exec: boolean; sha256: string | undefined }[]): string {
  const h = createHash('sha256')
  h.update('dir\0')
  for (const f of files) h.update(`${f.rel}\0${f.exec ? 'x' : '-'}\0${f.sha256}\n`)
  return h.digest('hex')
}
