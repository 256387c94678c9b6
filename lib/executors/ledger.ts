// ledger.ts — .auton/slurm-jobs.json: the cluster jobs of the builds that are running.
//
// A build records each job when sbatch accepts it and drops it when the job is over, so that
// after a crash (kill -9, a lost terminal) `auton cancel` knows what to scancel and which
// staging directories to remove. Written atomically (temp file, rename); only one build runs
// per project at a time (lock.ts), but the file keeps runs apart so a crashed run's jobs
// survive the next build's bookkeeping.

import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { writeAtomic } from '../atomic.js'
import { join } from 'node:path'

export interface LedgerRun {
  /** The auton process that submitted them. */
  pid: number
  started: number
  /** Job id → target name. */
  jobs: Record<string, string>
}

export type LedgerFile = Record<string, LedgerRun>

export function ledgerPath(root: string): string {
  return join(root, '.auton', 'slurm-jobs.json')
}

export function readLedger(root: string): LedgerFile {
  const p = ledgerPath(root)
  if (!existsSync(p)) return {}
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as LedgerFile
  } catch {
    return {}
  }
}

export function writeLedger(root: string, l: LedgerFile): void {
  const p = ledgerPath(root)
  if (Object.keys(l).length === 0) {
    rmSync(p, { force: true })
    return
  }
  mkdirSync(join(root, '.auton'), { recursive: true })
  writeAtomic(p, JSON.stringify(l, null, 1))
}

/** Record (target set) or drop (target undefined) one job of `run`. */
export function noteJob(root: string, run: string, id: string, target: string | undefined): void {
  const l = readLedger(root)
  const r = (l[run] ??= { pid: process.pid, started: Date.now(), jobs: {} })
  if (target === undefined) delete r.jobs[id]
  else r.jobs[id] = target
  if (Object.keys(r.jobs).length === 0) delete l[run]
  writeLedger(root, l)
}

export function dropRun(root: string, run: string): void {
  const l = readLedger(root)
  if (!(run in l)) return
  delete l[run]
  writeLedger(root, l)
}
