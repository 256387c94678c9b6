// load.ts — run an autonfile and turn what it declared into a validated Graph.

import { existsSync } from 'node:fs'
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
}

export async function loadAutonfile(file: string, cfg: AutonConfig): Promise<Loaded> {
  const abs = resolve(file)
  if (!existsSync(abs)) throw new LoadError(`no autonfile at ${abs} (create autonfile.ts, or pass --file PATH)`)
  resetRegistry()
  setConfig(cfg)
  const jiti = createJiti(abs, { moduleCache: false, fsCache: true, interopDefault: true })
  const before = new Set(Object.keys(jiti.cache ?? {}))
  try {
    await jiti.import(abs)
  } catch (e) {
    const err = e as Error
    const where = locate(err, abs)
    throw new LoadError(`${where}: the autonfile failed to load: ${err.message.split('\n')[0]}`)
  }
  const modules = Object.keys(jiti.cache ?? {}).filter((m) => !before.has(m) && !m.includes('/node_modules/'))
  try {
    const graph = buildGraph(registry().targets, dirname(abs))
    return { graph, file: abs, modules: modules.length ? modules : [abs] }
  } catch (e) {
    throw new LoadError((e as Error).message)
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
