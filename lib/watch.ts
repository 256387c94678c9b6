// watch.ts — `auton build --watch`: rebuild when a source of the requested targets changes.
//
// What is watched: every source input of the requested targets' closure (files, source
// directories recursively, and the base directory of each glob), the inputs a previous
// run discovered (depfiles), the autonfile with every module it imported, and auton.toml.
// Outputs, .auton/, the cache dir, node_modules and .git never trigger a build.
//
// The loop, one cycle at a time:
//
//   idle ──change──▶ debounce (100 ms of quiet) ──▶ [reload graph if the autonfile,
//     ▲                                               a module or auton.toml changed,
//     │                                               or a glob gained/lost a file]
//     │                                            ──▶ build ──▶ idle
//     └── a change during a build that makes a *running* recipe stale aborts the build
//         (the engine kills the recipes' process groups) and a new cycle starts once it
//         has stopped. A change that only affects targets already built or not started
//         lets the build finish (a 20-minute training run is not killed by an edit to a
//         kernel source), and the next cycle rebuilds what it made stale.
//
// The engine decides staleness by content, so a cycle simply runs build() again on the
// current graph. A graph that fails to load is reported and the last good one is kept.
// Editors' atomic saves (write a temp file, rename it over) arrive as one `change`
// (chokidar's `atomic`); a deleted file is re-watched so that its re-creation is seen.

import { readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { watch, type FSWatcher } from 'chokidar'
import picomatch from 'picomatch'
import { closure, type Graph } from './graph.js'
import { dynamicSpecifiers, resolveSpecifier, staticSpecifiers } from './code-deps.js'
import { State } from './state.js'
import { ignoredDirs, type AutonConfig } from './config.js'
import type { Loaded } from './load.js'
import type { BuildEvent } from './events.js'

export interface WatchOptions {
  root: string
  /** Targets named on the command line; empty means the autonfile's defaults (re-read on reload). */
  targets: string[]
  cfg: AutonConfig
  loaded: Loaded
  /** Load auton.toml and the autonfile again (throws with a readable message on failure). */
  reload: () => Promise<{ cfg: AutonConfig; loaded: Loaded }>
  /** Run one build; resolves once it has stopped (also after `signal` aborted it). `observe` sees its events. */
  build: (
    graph: Graph, targets: string[], cfg: AutonConfig, signal: AbortSignal, observe: (e: BuildEvent) => void,
  ) => Promise<boolean>
  /** A status line for the user (stderr). */
  say: (line: string) => void
  /** Aborting stops watching (Ctrl-C). */
  signal: AbortSignal
  debounceMs?: number
}

const GLOB = /[*?[\]{}]/

/** What to watch and how to tell whether an event matters. */
interface WatchSet {
  files: Set<string>
  /** Source directories: anything under them counts. */
  dirs: Set<string>
  /** Glob inputs: a file under `base` counts if it matches. */
  globs: { base: string; match: (rel: string) => boolean }[]
  /** The autonfile, its imported modules and auton.toml: a change reloads the graph. */
  modules: Set<string>
  /** Output paths (absolute): never a trigger. */
  outputs: string[]
}

export async function watchBuild(o: WatchOptions): Promise<number> {
  const { root, say } = o
  let cfg = o.cfg
  let loaded = o.loaded
  const ignoredRoots = () => ignoredDirs(root, cfg)
  let ws = watchSetOf(root, loaded, cfg, targetsOf(o.targets, loaded.graph))

  const ignored = (p: string): boolean => {
    const abs = resolve(p)
    if (ws.modules.has(abs) || ws.files.has(abs)) return false
    return ignoredRoots().some((d) => within(abs, d)) || ws.outputs.some((out) => within(abs, out))
  }
  let watching = wantedPaths(ws)
  const watcher: FSWatcher = watch([...watching], { ignoreInitial: true, atomic: 100, ignored, persistent: true })
  // chokidar says 'ready' once, after the first scan; later additions are watched as they come
  await Promise.race([new Promise<void>((r) => watcher.once('ready', () => r())), delay(10_000)])
  const refresh = () => {
    const want = wantedPaths(ws)
    const gone = [...watching].filter((p) => !want.has(p))
    const added = [...want].filter((p) => !watching.has(p))
    if (gone.length) watcher.unwatch(gone)
    if (added.length) watcher.add(added)
    watching = want
  }

  const changed = new Set<string>()
  let reloadWanted = false
  let timer: NodeJS.Timeout | undefined
  let current: AbortController | undefined
  /** Recipes of the current build that are running now. */
  const running = new Set<string>()
  let chain: Promise<void> = Promise.resolve()

  watcher.on('all', (event, p) => {
    const abs = resolve(p)
    const why = classify(ws, root, abs, event)
    if (!why) return
    if (event === 'unlink' && (ws.files.has(abs) || ws.modules.has(abs))) watcher.add(abs) // see it come back
    if (why === 'reload') reloadWanted = true
    changed.add(relative(root, abs) || abs)
    clearTimeout(timer)
    timer = setTimeout(() => {
      if (current && !current.signal.aborted) {
        const stale = reloadWanted ? undefined : staleTargets(ws, loaded.graph, root, [...changed], [...running])
        const hit = stale === undefined ? [...running] : [...running].filter((n) => stale.has(n))
        if (hit.length || stale === undefined) {
          say(`watch: ${listPaths([...changed])} changed while ${hit.length ? listPaths(hit) : 'the build'} ran: cancelling`)
          current.abort() // its recipes are killed; the cycle below starts again
        } else {
          const what = running.size ? `the running recipes (${listPaths([...running])})` : 'the current build'
          say(`watch: ${listPaths([...changed])} changed; letting ${what} finish first`)
        }
      }
      chain = chain.then(cycle).catch((e) => say(`watch: ${(e as Error).message}`)) // keep watching whatever happens
    }, o.debounceMs ?? 100)
  })
  watcher.on('error', (e) => say(`watch: ${(e as Error).message}`))

  const cycle = async (): Promise<void> => {
    if (o.signal.aborted) return
    const paths = [...changed]
    changed.clear()
    let buildNeeded = paths.length > 0
    if (reloadWanted) {
      reloadWanted = false
      try {
        const next = await o.reload()
        const targets = targetsOf(o.targets, next.loaded.graph)
        closure(next.loaded.graph, targets) // unknown targets and cycles count as a failed load
        cfg = next.cfg
        loaded = next.loaded
        say(`watch: reloaded ${relative(root, loaded.file)} (${loaded.graph.nodes.size} targets)`)
      } catch (e) {
        say(`watch: ${(e as Error).message}\nwatch: keeping the last good graph; fix the autonfile and save to reload`)
        // only an edit of a plain source still warrants a build with the old graph
        buildNeeded = paths.some((p) => !ws.modules.has(resolve(root, p)))
      }
      ws = watchSetOf(root, loaded, cfg, targetsOf(o.targets, loaded.graph))
      refresh()
    }
    if (!buildNeeded) return
    await runOnce(`${listPaths(paths)} changed`)
  }

  const runOnce = async (why: string): Promise<void> => {
    const targets = targetsOf(o.targets, loaded.graph)
    say(`watch: ${why} → building ${targets.join(', ') || '(nothing)'}`)
    const ac = new AbortController()
    current = ac
    const t0 = Date.now()
    let ok = false
    try {
      running.clear()
      ok = await o.build(loaded.graph, targets, cfg, ac.signal, (e) => {
        if (e.type === 'start') running.add(e.name)
        else if (e.type === 'target') running.delete(e.name)
      })
    } catch (e) {
      say(`watch: the build stopped with an error: ${(e as Error).message}`)
    }
    current = undefined
    running.clear()
    if (ac.signal.aborted) {
      if (!o.signal.aborted) say('watch: build cancelled — inputs changed while it ran; starting again')
      return
    }
    // inputs discovered by this build (e.g. headers from depfiles) join the watch set
    ws = watchSetOf(root, loaded, cfg, targets)
    refresh()
    say(`watch: build ${ok ? 'ok' : 'FAILED'} in ${Date.now() - t0} ms · watching ${ws.files.size + ws.dirs.size + ws.globs.length} source paths and ${ws.modules.size} build files · Ctrl-C to stop`)
  }

  chain = chain.then(() => runOnce('starting'))
  await new Promise<void>((r) => {
    if (o.signal.aborted) r()
    else o.signal.addEventListener('abort', () => r(), { once: true })
  })
  clearTimeout(timer)
  current?.abort()
  await chain
  await watcher.close()
  say('watch: stopped')
  return 130 // like any build stopped by Ctrl-C
}

function wantedPaths(ws: WatchSet): Set<string> {
  return new Set([...ws.files, ...ws.dirs, ...ws.globs.map((g) => g.base), ...ws.modules])
}

function targetsOf(named: string[], g: Graph): string[] {
  return named.length ? named : g.defaults
}

/** Everything whose change can make the requested targets stale. */
export function watchSetOf(root: string, loaded: Loaded, cfg: AutonConfig, targets: string[]): WatchSet {
  const ws: WatchSet = {
    files: new Set(),
    dirs: new Set(),
    globs: [],
    modules: new Set([...loaded.modules, ...loaded.reads, ...localImports(loaded.file), join(root, 'auton.toml')].map((m) => resolve(m))),
    outputs: [...loaded.graph.producers.keys()].map((p) => resolve(root, p)),
  }
  let names: string[]
  try {
    names = closure(loaded.graph, targets)
  } catch {
    names = [...loaded.graph.nodes.keys()]
  }
  const state = new State(root).load()
  for (const name of names) {
    const n = loaded.graph.nodes.get(name)!
    for (const s of n.sources) {
      const abs = resolve(root, s)
      if (isDir(abs)) ws.dirs.add(abs)
      else ws.files.add(abs)
    }
    for (const input of n.decl.inputs) {
      if (typeof input !== 'string') continue
      const pattern = input.replace(/^\.\//, '')
      if (!GLOB.test(pattern)) continue
      const isMatch = picomatch(pattern, { dot: true })
      ws.globs.push({ base: resolve(root, picomatch.scan(pattern).base || '.'), match: isMatch })
    }
    for (const d of Object.keys(state.records.get(name)?.discovered ?? {})) ws.files.add(resolve(root, d))
  }
  return ws
}

/**
 * The autonfile and the project files it imports, transitively (code-deps.ts reads the
 * specifiers, the same way function recipes' keys do). Packages are not followed:
 * node_modules never triggers. This complements Loaded.modules, which is empty when jiti
 * runs without a module cache.
 */
export function localImports(entry: string): string[] {
  const seen = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file) || file.includes(`${sep}node_modules${sep}`)) return
    seen.add(file)
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      return
    }
    for (const spec of [...staticSpecifiers(text), ...dynamicSpecifiers(text)]) {
      const r = resolveSpecifier(spec, file)
      if (r && 'file' in r && isFile(r.file)) visit(r.file)
    }
  }
  visit(resolve(entry))
  return [...seen]
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile()
  } catch {
    return false
  }
}

/**
 * Targets made stale by changed source paths: those reading a changed file (declared or
 * discovered), and everything downstream of them. undefined when unsure (a path we cannot
 * place), which callers treat as "everything".
 */
export function staleTargets(ws: WatchSet, g: Graph, root: string, paths: string[], among: string[]): Set<string> | undefined {
  const abs = paths.map((p) => resolve(root, p))
  if (abs.some((p) => ws.modules.has(p))) return undefined
  const state = new State(root).load()
  const seeds = new Set<string>()
  for (const n of g.nodes.values()) {
    const reads = (p: string) =>
      n.sources.some((s) => within(p, resolve(root, s))) ||
      Object.keys(state.records.get(n.name)?.discovered ?? {}).some((d) => resolve(root, d) === p) ||
      n.decl.inputs.some((i) => typeof i === 'string' && GLOB.test(i) && picomatch(i.replace(/^\.\//, ''), { dot: true })(relative(root, p).split(sep).join('/')))
    if (abs.some(reads)) seeds.add(n.name)
  }
  if (seeds.size === 0 && among.length) return undefined
  const dependents = new Map<string, string[]>()
  for (const n of g.nodes.values()) for (const d of n.deps) dependents.set(d, [...(dependents.get(d) ?? []), n.name])
  const stale = new Set<string>()
  const visit = (name: string) => {
    if (stale.has(name)) return
    stale.add(name)
    for (const d of dependents.get(name) ?? []) visit(d)
  }
  for (const s of seeds) visit(s)
  return stale
}

/** Does an event on `abs` matter: 'build' (a source changed), 'reload' (the graph may change), or no. */
function classify(ws: WatchSet, root: string, abs: string, event: string): 'build' | 'reload' | undefined {
  if (ws.outputs.some((o) => within(abs, o))) return undefined
  if (ws.modules.has(abs)) return 'reload'
  if (ws.files.has(abs)) return 'build'
  if ([...ws.dirs].some((d) => within(abs, d))) return event === 'addDir' ? undefined : 'build'
  const rel = relative(root, abs).split(sep).join('/')
  if (ws.globs.some((g) => within(abs, g.base) && g.match(rel))) {
    // a file that joins or leaves a glob changes the graph's inputs
    return event === 'add' || event === 'unlink' ? 'reload' : 'build'
  }
  return undefined
}

function within(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith(sep) ? dir : dir + sep)
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory()
  } catch {
    return false
  }
}

function listPaths(paths: string[]): string {
  const shown = paths.slice(0, 3).join(', ')
  return paths.length > 3 ? `${shown} and ${paths.length - 3} more` : shown
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref())
}
