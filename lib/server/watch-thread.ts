// watch-thread.ts — the server's file watcher, in a worker thread of its own.
//
// Why a thread: a build runs on the server's main thread and can keep its event loop busy
// for seconds; the kernel queues inotify events meanwhile and drops them when the queue is
// full (max_queued_events), and libuv does not report that overflow. This thread's loop does
// nothing else, so it drains the queue as events come.
//
// What it watches: every directory under the root (one inotify watch each, non-recursive),
// except the ignored ones (.auton, .git, node_modules, the cache dir). A new directory is
// watched when it appears and scanned, so files made in it before the watch existed are
// reported too. Symbolic links are not followed: they are reported as `untrusted` (a change
// behind one is not seen), and the server never trusts a path under one.
//
// Sync (watchman's cookie): the server asks for the changes "up to now"; this thread makes a
// cookie file in .auton/ named after the request and answers once that file's own event arrives. One inotify queue
// delivers events in order, so every change made before the request (the user's edit, then
// `auton build`) has been seen by then.
//
// Doubt: a watch that could not be added (ENOSPC: fs.inotify.max_user_watches), a watcher
// error, or a burst of events as large as the kernel's queue (an overflow may have dropped
// some) make the next sync answer `doubt`: the server then forgets every hash it holds.

import { watch, readdirSync, lstatSync, mkdirSync, writeFileSync, readFileSync, rmSync, type FSWatcher } from 'node:fs'
import { join, sep } from 'node:path'
import { parentPort, workerData } from 'node:worker_threads'

export interface WatchInit {
  root: string
  /** Absolute directories never watched (their events never reach the server). */
  ignored: string[]
}

export interface SyncReply {
  id: number
  /** Absolute paths that changed (files, or directories whose entries changed as a whole). */
  changed: string[]
  /** Symbolic links found under the root: nothing behind them is watched. */
  untrusted: string[]
  /** Watched directories that went away (deleted, moved): everything under them changed. */
  dirsGone: string[]
  doubt: string | undefined
}

/** Cookie files are named server-cookie-<sync id>: the event's name says which sync it answers. */
const COOKIE = 'server-cookie-'

function start(init: WatchInit): void {
  const { root } = init
  const ignored = new Set(init.ignored)
  const cookieDir = join(root, '.auton')
  const watchers = new Map<string, FSWatcher>()
  let changed = new Set<string>()
  let untrusted = new Set<string>()
  let dirsGone = new Set<string>()
  let doubt: string | undefined
  const waiting = new Set<number>() // sync ids whose cookie has not come back

  let burst = 0
  let burstTimer: NodeJS.Immediate | undefined
  const queueMax = (() => {
    try {
      return Number(readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8')) || 16384
    } catch {
      return 16384
    }
  })()
  const counted = () => {
    burst++
    if (burst >= queueMax - 16) doubt ??= `a burst of ${burst} file events filled the kernel's queue (some may be lost)`
    burstTimer ??= setImmediate(() => {
      burst = 0
      burstTimer = undefined
    })
  }

  const watchDir = (dir: string, report: boolean): void => {
    if (watchers.has(dir) || ignored.has(dir)) return
    let w: FSWatcher
    try {
      w = watch(dir, { persistent: true }, (type, name) => {
        counted()
        if (name === null) {
          changed.add(dir) // the kernel did not say which entry: the whole directory
          return
        }
        const p = join(dir, name.toString())
        if (type === 'change') {
          if (!ignored.has(p)) changed.add(p) // written to: no new directory or link to look at
        } else onEntry(p)
      })
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'ENOTDIR') return // gone again already
      doubt ??= `cannot watch ${dir}: ${(e as Error).message}${code === 'ENOSPC' ? ' (raise fs.inotify.max_user_watches)' : ''}`
      return
    }
    w.on('error', (e) => {
      // the directory was deleted or moved: its entries changed as a whole
      w.close()
      if (watchers.get(dir) === w) watchers.delete(dir) // (not a newer watch of the same name)
      changed.add(dir)
      dirsGone.add(dir)
      if ((e as NodeJS.ErrnoException).code !== 'EPERM' && (e as NodeJS.ErrnoException).code !== 'ENOENT') doubt ??= `watcher error on ${dir}: ${e.message}`
    })
    watchers.set(dir, w)
    let entries: import('node:fs').Dirent[]
    try {
      entries = readdirSync(dir, { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries) {
      const p = join(dir, e.name)
      if (e.isDirectory()) watchDir(p, report)
      else {
        if (e.isSymbolicLink()) untrusted.add(p)
        if (report) changed.add(p) // made before this directory was watched
      }
    }
  }

  /** An entry appeared, went away or was renamed. */
  const onEntry = (p: string): void => {
    if (ignored.has(p)) return // .auton/ (the server's own: only its cookie is looked at, above), .git, …
    changed.add(p)
    let st: import('node:fs').Stats | undefined
    try {
      st = lstatSync(p)
    } catch {
      st = undefined
    }
    if (st?.isSymbolicLink()) untrusted.add(p)
    if (watchers.has(p)) {
      // the name of a watched directory was created, deleted or moved: whatever is there now
      // is another directory (ext4 may even give it the old inode number), so stop watching
      // the old one and everything under it, and count everything under the name as changed
      dirsGone.add(p)
      for (const [d, w] of watchers) {
        if (d === p || d.startsWith(p + sep)) {
          w.close()
          watchers.delete(d)
        }
      }
    }
    if (st?.isDirectory()) watchDir(p, true) // and report every file in it
  }

  const answerCookie = (name: string): void => {
    const id = Number(name.slice(COOKIE.length))
    if (!waiting.delete(id)) return // its removal, or another server's
    rmSync(join(cookieDir, name), { force: true })
    const reply: SyncReply = { id, changed: [...changed], untrusted: [...untrusted], dirsGone: [...dirsGone], doubt }
    changed = new Set()
    untrusted = new Set()
    dirsGone = new Set()
    doubt = undefined
    parentPort!.postMessage(reply)
  }

  /** Watched afresh at every sync: .auton/ may have been deleted and made again since. */
  const watchCookieDir = (): void => {
    watchers.get(cookieDir)?.close()
    watchers.delete(cookieDir)
    try {
      const w = watch(cookieDir, { persistent: true }, (_t, name) => {
        if (name !== null && name.toString().startsWith(COOKIE)) answerCookie(name.toString())
      })
      w.on('error', () => w.close())
      watchers.set(cookieDir, w)
    } catch (e) {
      doubt ??= `cannot watch ${cookieDir}: ${(e as Error).message}`
    }
  }

  ignored.add(cookieDir) // not a project directory: watched for the cookie alone
  watchDir(root, false)
  parentPort!.on('message', (m: { sync: number }) => {
    mkdirSync(cookieDir, { recursive: true })
    watchCookieDir()
    waiting.add(m.sync)
    writeFileSync(join(cookieDir, COOKIE + m.sync), '')
  })
  parentPort!.postMessage({ ready: true })
}

if (parentPort && workerData) start(workerData as WatchInit)
