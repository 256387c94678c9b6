// session.ts — what the server keeps warm between builds of one checkout, and the rules by
// which it may trust it.
//
// Held: auton.toml, the loaded graph, the journal's records and the stat cache (State), and
// `clean`: targets the last builds left up to date. A build request first syncs with the
// watcher (changes.ts), then:
//
//   watcher in doubt (overflow, error)      → forget every hash and every clean target
//   the journal changed under us            → read it again, forget every clean target
//   env or cwd of the client differ         → (the daemon starts a new session)
//   node_modules changed (an install)       → reload the autonfile
//   a changed path…
//     the autonfile, a module it imported, auton.toml          → reload
//     an input, output, discovered input or code of a target   → that hash is forgotten; if
//                                             the content differs, the targets reading it
//                                             leave `clean`
//     a path the graph does not know (a new file a glob may match, a file the autonfile reads
//     while loading)                       → reload
//   reload: a target stays clean only if its declaration is the same as before (signature).
//
// The engine then skips (counts as up to date, without looking) the targets of the request
// that are clean *and* all of whose dependencies are clean; everything else goes through the
// rebuilder as in any build. A target is only ever clean if every file its key read is under
// a watched directory: a tool identity (`tools`), a package's code, a path outside the
// checkout, in an ignored directory or behind a symlink make it rechecked on every build.

import { existsSync, statSync } from 'node:fs'
import { dirname, join, normalize, resolve, sep } from 'node:path'
import { ignoredDirs, loadConfig, type AutonConfig } from '../config.js'
import { loadAutonfile, type Loaded } from '../load.js'
import { State } from '../state.js'
import { hashedFiles } from '../key.js'
import type { Graph } from '../graph.js'
import type { TargetStatus } from '../events.js'
import type { Changes } from './changes.js'

export interface BuildSession {
  /** Sync with the disk (watcher, journal, packages); reloads the autonfile if needed. */
  prepare(): Promise<void>
  config(): AutonConfig
  load(): Promise<Loaded>
  state(): State
  /** The targets of `order` (a closure, dependencies first) the build may count as up to date unseen. */
  assumed(order: string[]): Set<string>
  /** What the build left: up to date, ran and restored targets may become clean. */
  built(statuses: Map<string, TargetStatus>): void
  signal: AbortSignal
}

type FileId = string

/** Names of the engine's temporary files beside an output (cache.ts restores, atomic.ts). */
const ENGINE_TEMP = /\.(auton-restore-\d+|tmp-\d+-\d+)$/

/** A set that counts its changes (what was computed from it is reused while the count stays). */
class VersionedSet {
  private s = new Set<string>()
  version = 0
  has(t: string): boolean {
    return this.s.has(t)
  }
  add(t: string): void {
    if (!this.s.has(t)) {
      this.s.add(t)
      this.version++
    }
  }
  delete(t: string): void {
    if (this.s.delete(t)) this.version++
  }
  clear(): void {
    if (this.s.size) this.version++
    this.s.clear()
  }
  get size(): number {
    return this.s.size
  }
  [Symbol.iterator](): IterableIterator<string> {
    return this.s.values()
  }
}

export class Session {
  private cfg: AutonConfig | undefined
  private loaded: Loaded | undefined
  private st: State
  private clean = new VersionedSet()
  private lastAssumed: { order: string[]; clean: number; set: Set<string> } | undefined
  /** Target → its declaration's signature, for carrying `clean` over a reload. */
  private sigs = new Map<string, string>()
  /** Absolute path → clean targets whose key read it (inputs, code, discovered, outputs). */
  private index = new Map<string, Set<string>>()
  /** Every path the graph names (sources, outputs), absolute. */
  private graphPaths = new Set<string>()
  private sources = new Set<string>()
  /** The directories those paths are in, up to the root. */
  private graphDirs = new Set<string>()
  /** The autonfile, its imported modules, auton.toml. */
  private modules = new Set<string>()
  private untrusted = new Set<string>()
  private reloadWanted = true
  private journalId: FileId = ''
  private packagesId: FileId = ''
  readonly ignored: string[]
  /** Why the last prepare() threw away what it knew (for the server log and tests). */
  lastReset: string | undefined
  /** For the server log: the clean set's size after the last build. */
  get cleanCount(): number {
    return this.clean.size
  }

  /** The first path that made the graph reload since the last time this was read (the server log). */
  reloadedFor: string | undefined

  constructor(readonly root: string, readonly file: string, private readonly changes: Changes) {
    this.ignored = ignoredDirs(root, loadConfig(root)) // before newState(): trusted() reads it
    this.st = this.newState()
    this.journalId = fileId(join(root, '.auton', 'targets.jsonl'))
    this.packagesId = packagesId(root)
  }

  /** Apply what changed up to now, between requests (a reload waits for the next request). */
  async absorb(): Promise<void> {
    await this.apply()
  }

  /** Nothing to do for a while: persist the stat memo (see State.memoLater). */
  idle(): void {
    if (existsSync(join(this.root, '.auton'))) this.st.saveMemo()
  }

  /** Bring everything up to date with the disk: sync with the watcher, apply what changed. */
  async prepare(): Promise<void> {
    await this.apply()
    if (this.reloadWanted || !this.loaded) await this.reload()
  }

  private async apply(): Promise<void> {
    const r = await this.changes.sync()
    const symlinks = r.untrusted.filter((u) => !this.untrusted.has(u))
    for (const u of symlinks) this.untrusted.add(u)
    if (r.doubt) {
      this.reset(`the file watcher is in doubt: ${r.doubt}`)
      this.newState()
    } else {
      const gone = new Set(r.dirsGone)
      for (const p of r.changed) this.changed(p, gone.has(p))
    }
    const journal = fileId(join(this.root, '.auton', 'targets.jsonl'))
    if (journal !== this.journalId) {
      this.reset('the journal was changed by another process')
      this.newState()
    }
    const pkgs = packagesId(this.root)
    if (pkgs !== this.packagesId) {
      this.packagesId = pkgs
      this.wantReload('node_modules')
    }
    // hashes of files the watcher does not cover are measured again by every build
    if (symlinks.length) this.st.stat.trustOnly((p) => this.trusted(p))
    this.st.stat.newBuild()
  }

  private newState(): State {
    this.st = new State(this.root).load()
    this.st.memoLater = true // written when idle: idle()
    this.st.stat.trustOnly((p) => this.trusted(p))
    return this.st
  }

  private reset(why: string): void {
    this.lastReset = this.lastReset ? `${this.lastReset}; ${why}` : why
    this.clean.clear()
    this.index.clear()
  }

  /** `wasDir`: a watched directory that went away (deleted or moved). */
  private changed(p: string, wasDir: boolean): void {
    const stat = this.st.stat
    if (this.modules.has(p)) this.wantReload(p)
    const before = stat.peek(p)
    stat.invalidate(p)
    // a directory input or output hashes its tree: the directories above the path changed too
    let insideGraphPath = false
    for (let d = dirname(p); d.length >= this.root.length && d !== dirname(d); d = dirname(d)) {
      stat.invalidate(d)
      this.dirty(d)
      if (this.graphPaths.has(d)) insideGraphPath = true
    }
    if (wasDir) {
      // everything hashed or recorded under it is in question; sources under it are gone (say
      // so as loading does: reload)
      stat.invalidateUnder(p)
      for (const [q, ts] of this.index) if (q.startsWith(p + sep)) for (const t of ts) this.clean.delete(t)
      for (const src of this.sources) if (src.startsWith(p + sep)) this.wantReload(p)
    }
    if (this.graphPaths.has(p) || this.index.has(p)) {
      const now = stat.hash(p)
      // a source the graph names went away: loading says so (what a build without the server says)
      if (now === undefined && this.sources.has(p)) this.wantReload(p)
      if (before !== undefined && now === before) return // touched, same bytes
      this.dirty(p)
      return
    }
    // the engine's own temporary files (cache.ts, atomic.ts), gone again: nothing to look at
    if (ENGINE_TEMP.test(p) && !existsSync(p)) return
    // (a directory that appeared, made or moved here: the watcher reports each file in it)
    // a path the graph does not know: a glob may match it now, the autonfile may read it (a
    // directory it listed while loading gained or lost an entry)
    if (!insideGraphPath && !this.graphDirs.has(p) && !this.modules.has(p)) this.wantReload(p)
  }

  private wantReload(why: string): void {
    this.reloadWanted = true
    this.reloadedFor ??= why
  }

  private dirty(p: string): void {
    const ts = this.index.get(p)
    if (!ts) return
    for (const t of ts) this.clean.delete(t)
    this.index.delete(p)
  }

  private async reload(): Promise<void> {
    this.reloadWanted = false
    this.cfg = loadConfig(this.root)
    let loaded: Loaded
    try {
      loaded = await loadAutonfile(this.file, this.cfg)
    } catch (e) {
      this.loaded = undefined // the next request loads again (and reports the error again)
      this.reset('the autonfile failed to load')
      throw e
    }
    this.loaded = loaded
    // what the graph was made from: the modules, auton.toml, and what the autonfile read while loading
    this.modules = new Set([...loaded.modules.map((m) => resolve(m)), ...loaded.reads, this.file, join(this.root, 'auton.toml')])
    const g = loaded.graph
    this.graphPaths = new Set()
    this.graphDirs = new Set()
    this.sources = new Set()
    for (const n of g.nodes.values()) {
      for (const f of n.sources) this.sources.add(this.abs(f))
      for (const f of [...n.sources, ...n.decl.outputs]) {
        const p = this.abs(f)
        this.graphPaths.add(p)
        for (let d = dirname(p); d.startsWith(this.root + sep) && !this.graphDirs.has(d); d = dirname(d)) this.graphDirs.add(d)
      }
    }
    const sigs = new Map<string, string>()
    for (const n of g.nodes.values()) sigs.set(n.name, signature(g, n.name))
    for (const t of [...this.clean]) if (sigs.get(t) !== this.sigs.get(t)) this.clean.delete(t)
    this.sigs = sigs
    this.index.clear()
    for (const t of this.clean) this.indexTarget(t)
  }

  /** Not normalised: a path that is not spelt plainly is then not trusted (see trusted()). */
  private abs(p: string): string {
    return p.startsWith('/') ? p : `${this.root}/${p}`
  }

  /**
   * Under the root, in a watched directory, not behind a symlink, and spelt as the watcher
   * spells it (a path with '..' or '//' in it would never match the watcher's reports).
   */
  private trusted(p: string): boolean {
    if (!(p === this.root || p.startsWith(this.root + sep)) || normalize(p) !== p) return false
    if (this.ignored.some((d) => p === d || p.startsWith(d + sep))) return false
    if (this.untrusted.size === 0) return true
    for (let q = p; q.length >= this.root.length && q !== dirname(q); q = dirname(q)) if (this.untrusted.has(q)) return false
    return true
  }

  /** Every file the target's record was computed from is watched, and nothing is re-measured per build. */
  private eligible(name: string): string[] | undefined {
    const n = this.loaded!.graph.nodes.get(name)!
    if (!n.decl.recipe) return []
    const rec = this.st.records.get(name)
    if (!rec?.parts) return undefined
    // a tool identity is measured per build; a package's code is not watched
    if (Object.keys(rec.parts).some((k) => k.startsWith('tool:') || k.startsWith('code:pkg:'))) return undefined
    const paths = [...hashedFiles(rec.parts).map(([p]) => p), ...Object.keys(rec.discovered), ...Object.keys(rec.outputs)].map((p) => this.abs(p))
    return paths.every((p) => this.trusted(p)) ? paths : undefined
  }

  private indexTarget(t: string): boolean {
    const paths = this.eligible(t)
    if (!paths) {
      this.clean.delete(t)
      return false
    }
    for (const p of paths) {
      let s = this.index.get(p)
      if (!s) this.index.set(p, (s = new Set()))
      s.add(t)
    }
    return true
  }

  /** The engine's view of this session for one build request. */
  forBuild(signal: AbortSignal): BuildSession {
    return {
      prepare: () => this.prepare(),
      config: () => this.cfg!,
      load: async () => this.loaded!,
      state: () => this.st,
      signal,
      assumed: (order) => {
        if (this.lastAssumed?.order === order && this.lastAssumed.clean === this.clean.version) return this.lastAssumed.set
        const g = this.loaded!.graph
        const out = new Set<string>()
        for (const t of order) if (this.clean.has(t) && g.nodes.get(t)!.deps.every((d) => out.has(d))) out.add(t)
        this.lastAssumed = { order, clean: this.clean.version, set: out }
        return out
      },
      built: (statuses) => {
        for (const [t, s] of statuses) {
          if (s === 'up-to-date' || s === 'ran' || s === 'restored') {
            if (!this.clean.has(t) && this.indexTarget(t)) this.clean.add(t)
          } else this.clean.delete(t)
        }
        this.journalId = fileId(join(this.root, '.auton', 'targets.jsonl'))
      },
    }
  }
}

/** What a target's key reads from its declaration: equal signatures, equal keys for equal files. */
function signature(g: Graph, name: string): string {
  const n = g.nodes.get(name)!
  const d = n.decl
  return JSON.stringify([
    d.recipe?.kind, d.recipe?.keyMaterial(), d.recipe?.code?.module, d.recipe?.code?.body, n.deps, n.sources, n.upstreamFiles,
    d.outputs, d.params, d.env, d.tools, d.depfile,
  ])
}

function fileId(p: string): FileId {
  const st = statSync(p, { throwIfNoEntry: false })
  return st ? `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}` : '-'
}

/**
 * npm, pnpm and yarn each rewrite one of these on an install. (Not node_modules itself: jiti
 * writes its transpile cache under node_modules/.cache.)
 */
function packagesId(root: string): FileId {
  return ['node_modules/.package-lock.json', 'node_modules/.modules.yaml', 'node_modules/.yarn-state.yml']
    .map((p) => fileId(join(root, p)))
    .join('|')
}
