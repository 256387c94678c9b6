// load.ts — run an autonfile and turn what it declared into a validated Graph.

import fs, { existsSync } from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import { resolve, dirname } from 'node:path'
import { createJiti } from 'jiti'
import { registry, resetRegistry } from './dsl.js'
import { buildGraph, type Graph } from './graph.js'
import { setConfig, type AutonConfig } from './config.js'

export class LoadError extends Error {}

export interface Loaded {
  graph: Graph
  file: string
  /** Every module the autonfile imported (for watch mode). */
  modules: string[]
  /**
   * Files and directories the autonfile's code looked at through node:fs while it loaded (a
   * preset's YAML, a directory listing): the graph depends on them, so watch mode and the
   * build server reload when one changes. (A child process's reads are not seen.)
   */
  reads: string[]
}

export async function loadAutonfile(file: string, cfg: AutonConfig): Promise<Loaded> {
  const abs = resolve(file)
  if (!existsSync(abs)) throw new LoadError(`no autonfile at ${abs} (create autonfile.ts, or pass --file PATH)`)
  resetRegistry()
  setConfig(cfg)
  const jiti = createJiti(abs, { moduleCache: false, fsCache: true, interopDefault: true })
  const before = new Set(Object.keys(jiti.cache ?? {}))
  const reads = new Set<string>()
  const stop = recordReads(reads)
  try {
    await jiti.import(abs)
  } catch (e) {
    const err = e as Error
    const where = locate(err, abs)
    throw new LoadError(`${where}: the autonfile failed to load: ${err.message.split('\n')[0]}`)
  } finally {
    stop()
  }
  const modules = Object.keys(jiti.cache ?? {}).filter((m) => !before.has(m) && !m.includes('/node_modules/'))
  try {
    const graph = buildGraph(registry().targets, dirname(abs))
    const root = dirname(abs)
    const seen = [...reads].filter((p) => p.startsWith(root + '/') && !p.includes('/node_modules/') && !p.includes('/.auton/'))
    return { graph, file: abs, modules: modules.length ? modules : [abs], reads: seen }
  } catch (e) {
    throw new LoadError((e as Error).message)
  }
}

const READERS = ['readFileSync', 'readFile', 'existsSync', 'statSync', 'lstatSync', 'readdirSync', 'openSync', 'accessSync', 'opendirSync'] as const

/** Note every path given to node:fs's readers (sync, callback and promise forms) until the returned stop(). */
function recordReads(into: Set<string>): () => void {
  const f = fs as unknown as Record<string, (...a: unknown[]) => unknown>
  const p = fs.promises as unknown as Record<string, (...a: unknown[]) => unknown>
  const saved: [Record<string, (...a: unknown[]) => unknown>, string, (...a: unknown[]) => unknown][] = []
  const note = (target: Record<string, (...a: unknown[]) => unknown>, name: string) => {
    const orig = target[name]
    if (typeof orig !== 'function') return
    saved.push([target, name, orig])
    target[name] = function (this: unknown, path: unknown, ...rest: unknown[]) {
      if (typeof path === 'string' || path instanceof URL) into.add(resolve(path instanceof URL ? path.pathname : path))
      return orig.call(this, path, ...rest)
    }
  }
  for (const name of READERS) note(f, name)
  for (const name of ['readFile', 'stat', 'lstat', 'readdir', 'open', 'access', 'opendir']) note(p, name)
  syncBuiltinESMExports() // `import { readFileSync } from 'node:fs'` sees the same functions
  return () => {
    for (const [target, name, orig] of saved) target[name] = orig
    syncBuiltinESMExports()
  }
}

/** The first stack frame inside the user's files: "autonfile.ts:12". */
function locate(err: Error, file: string): string {
  const frames = (err.stack ?? '').split('\n')
  const root = dirname(file)
  for (const f of frames) {
    const m = /\(?((?:file:\/\/)?\/[^()\s]+):(\d+):(\d+)\)?$/.exec(f)
    if (m && m[1].replace('file://', '').startsWith(root) && !m[1].includes('node_modules')) {
      return `${m[1].replace('file://', '')}:${m[2]}`
    }
  }
  return file
}
