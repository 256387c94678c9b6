// executors/index.ts — the executors one build may use, from auton.toml `[executors.<name>]`.
//
// 'local' is always there. `auton build --executor local` (forceLocal) maps every configured
// name to it as well, so a cluster-bound target runs here and — the key does not depend on
// the executor — restores anywhere later. A target naming an executor nobody configured is an
// error before anything runs (checkExecutors), not a surprise half-way through a build.

import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { localExecutor, type Executor } from '../executor.js'
import { GraphError, type Graph } from '../graph.js'
import type { AutonConfig } from '../config.js'
import type { Emit } from '../events.js'
import { SlurmExecutor, resourceArgs } from './slurm.js'

export interface ExecutorOptions {
  /** Run every target here, whatever its `executor` says. */
  forceLocal?: boolean
  /** The autonfile jobs re-enter for function recipes (default <root>/autonfile.ts). */
  autonfile?: string
}

export function executorsFromConfig(cfg: AutonConfig, root: string, emit: Emit, opts: ExecutorOptions = {}): Map<string, Executor> {
  const map = new Map<string, Executor>([['local', localExecutor]])
  const runId = randomBytes(4).toString('hex') // one job name per build: auton-<run>
  for (const [name, e] of Object.entries(cfg.executors)) {
    if (opts.forceLocal) {
      map.set(name, localExecutor)
      continue
    }
    map.set(name, new SlurmExecutor({
      name, root, runId, emit, autonfile: opts.autonfile ?? join(root, 'autonfile.ts'),
      settings: { partition: e.partition, account: e.account, qos: e.qos, sbatch_args: e.sbatch_args },
    }))
  }
  return map
}

/** Every target's executor exists, and what it asks of a cluster is well-formed. */
export function checkExecutors(graph: Graph, map: Map<string, Executor>): void {
  for (const n of graph.nodes.values()) {
    if (!n.decl.recipe) continue
    const e = map.get(n.decl.executor)
    if (!e) {
      const known = [...map.keys()].join(', ')
      throw new GraphError(
        `target '${n.name}' (${n.decl.site}) runs on executor '${n.decl.executor}', which auton.toml does not define ` +
        `(defined: ${known}); add [executors.${n.decl.executor}] with kind = "slurm", or use 'local'`,
      )
    }
    if (e instanceof SlurmExecutor) {
      try {
        resourceArgs(n.decl.resources)
      } catch (err) {
        throw new GraphError(`target '${n.name}' (${n.decl.site}): ${(err as Error).message}`)
      }
    }
  }
}

export { SlurmExecutor }
