// action-log.ts — the local cache's action records: one append-only file, not a file per key.
//
// Why one file: creating a file costs an inode, and on ext4 inode allocation contends with
// the recipes' own output files (~1 ms of system time per new file beside two `cat > file`
// loops, against ~13 µs per append). With a file per record and one per blob, auton's process
// spent 8–17 s of system time in a 10,000-target build of `cat`s; with this log, 1.2–1.8 s.
//
// Format (cache/ac.log): one record per line, each line preceded by a newline of its own,
//
//   \n<key> <check> <json>\n      check = the first 16 hex digits of sha256(json)
//
// so a torn append (a crash mid-write) is a line whose check fails: it is skipped, and the
// next record, which starts on a new line, is intact. Appends are one write(2) with O_APPEND,
// so processes sharing a cache do not interleave on a local file system; a line that was
// interleaved anyway (NFS) fails its check and is a miss. The last line for a key wins.
//
// Readers index the file (key → offset of its latest line) on first use and read only what
// was appended since on later lookups; the index is shared by every ActionLog of one path in
// this process (the build server keeps it between builds). `rewrite` (prune) replaces the
// file by write + rename: a concurrent appender then writes into the old file, a lost record,
// which is a miss, never a wrong hit.

import { appendFileSync, closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { createHash } from 'node:crypto'

interface Index {
  ino: number
  /** Bytes of the file indexed so far (always at a line start). */
  end: number
  lines: Map<string, { at: number; len: number }>
  /** Lines this process appended since `end`: indexed without reading them back if nobody else wrote. */
  appended: { key: string; len: number }[]
}

const indexes = new Map<string, Index>()

export class ActionLog {
  constructor(readonly file: string) {}

  /** The latest json stored under key, or undefined (absent, torn or corrupt). */
  get(key: string): string | undefined {
    const at = this.refresh()?.lines.get(key)
    const line = at && this.read(at.at, at.len)
    const kv = line ? parseLine(line) : undefined
    return kv && kv[0] === key ? kv[1] : undefined
  }

  /** Append json under key (one write(2)). */
  put(key: string, json: string): void {
    if (!/^[0-9a-zA-Z_-]+$/.test(key)) throw new Error(`action log: not a key: ${key}`)
    const line = lineOf(key, json)
    try {
      appendFileSync(this.file, line)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
      mkdirSync(dirname(this.file), { recursive: true }) // the first record, or rm -rf cache meanwhile
      appendFileSync(this.file, line)
    }
    indexes.get(this.file)?.appended.push({ key, len: Buffer.byteLength(line) })
  }

  /** Every key's latest json, in the order the lines were written (the oldest first). */
  entries(): [string, string][] {
    const data = this.readAll()
    if (!data) return []
    const latest = new Map<string, string>()
    for (const line of data.toString('utf8').split('\n')) {
      const kv = parseLine(line)
      if (!kv) continue
      latest.delete(kv[0]) // re-inserted: the order is that of its last line
      latest.set(kv[0], kv[1])
    }
    return [...latest]
  }

  /** Replace the file with exactly these records (write + rename). */
  rewrite(entries: [string, string][], write: (file: string, data: string) => void): void {
    write(this.file, entries.map(([k, j]) => lineOf(k, j)).join(''))
    indexes.delete(this.file)
  }

  /** Size of the file in bytes (0 when absent). */
  size(): number {
    return statSync(this.file, { throwIfNoEntry: false })?.size ?? 0
  }

  /** Bring the shared index up to date with the file: read what was appended since. */
  private refresh(): Index | undefined {
    const st = statSync(this.file, { throwIfNoEntry: false })
    if (!st) {
      indexes.delete(this.file)
      return undefined
    }
    let ix = indexes.get(this.file)
    if (!ix || ix.ino !== st.ino || st.size < ix.end) {
      ix = { ino: st.ino, end: 0, lines: new Map(), appended: [] }
      indexes.set(this.file, ix)
    }
    const mine = ix.appended.reduce((n, a) => n + a.len, 0)
    if (mine > 0 && st.size === ix.end + mine) {
      // only this process wrote since: its lines are where it put them (get() checks the key)
      for (const a of ix.appended) {
        ix.lines.set(a.key, { at: ix.end + 1, len: a.len - 2 })
        ix.end += a.len
      }
    } else if (st.size > ix.end) {
      const tail = this.read(ix.end, st.size - ix.end)
      if (tail !== undefined) indexLines(ix, tail)
    }
    ix.appended = []
    return ix
  }

  private read(at: number, len: number): Buffer | undefined {
    let fd: number
    try {
      fd = openSync(this.file, 'r')
    } catch {
      return undefined
    }
    try {
      const buf = Buffer.allocUnsafe(len)
      let got = 0
      while (got < len) {
        const n = readSync(fd, buf, got, len - got, at + got)
        if (n === 0) break
        got += n
      }
      return buf.subarray(0, got)
    } finally {
      closeSync(fd)
    }
  }

  private readAll(): Buffer | undefined {
    const size = this.size()
    return size ? this.read(0, size) : undefined
  }
}

/** Index the complete lines of `tail` (read at ix.end); a line still being written waits for the next refresh. */
function indexLines(ix: Index, tail: Buffer): void {
  let start = 0
  for (;;) {
    const nl = tail.indexOf(10, start)
    if (nl < 0) break
    // a torn or corrupt line is not indexed: it must not hide an older good line for its key
    const kv = nl > start ? parseLine(tail.subarray(start, nl)) : undefined
    if (kv) ix.lines.set(kv[0], { at: ix.end + start, len: nl - start })
    start = nl + 1
  }
  ix.end += start
}

/** One record as it is appended: on a line of its own, after a newline of its own. */
function lineOf(key: string, json: string): string {
  return `\n${key} ${check(json)} ${json}\n`
}

/** Bytes that one record takes in the file. */
export function lineBytes(key: string, json: string): number {
  return Buffer.byteLength(lineOf(key, json))
}

/** [key, json] of one line, or undefined when it is torn or corrupt. */
function parseLine(line: Buffer | string): [string, string] | undefined {
  const s = typeof line === 'string' ? line : line.toString('utf8')
  const a = s.indexOf(' ')
  const b = s.indexOf(' ', a + 1)
  if (a <= 0 || b < 0) return undefined
  const json = s.slice(b + 1)
  return s.slice(a + 1, b) === check(json) ? [s.slice(0, a), json] : undefined
}

function check(json: string): string {
  return createHash('sha256').update(json).digest('hex').slice(0, 16)
}
