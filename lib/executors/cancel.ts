// cancel.ts — `auton cancel`: clean up after a build that could not (kill -9, a lost node).
//
// A build that ends normally or by Ctrl-C cancels its own jobs (SlurmExecutor.close). One
// that crashed leaves them in .auton/slurm-jobs.json; this scancels them all in one call and
// removes .auton/staging. It takes the build lock, so it never pulls jobs from under a build
// that is still running.

import { execFileSync } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { acquireLock } from '../lock.js'
import { readLedger, writeLedger } from './ledger.js'

export function cancelCommand(root: string): number {
  const release = acquireLock(root)
  try {
    const ledger = readLedger(root)
    const ids = Object.values(ledger).flatMap((r) => Object.keys(r.jobs))
    if (ids.length) {
      try {
        execFileSync('scancel', ids, { stdio: ['ignore', 'inherit', 'pipe'], timeout: 60_000 })
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
          console.error(`auton cancel: scancel is not installed here; cancel jobs ${ids.join(' ')} from a machine with the SLURM client`)
          return 1
        }
        const err = (e as { stderr?: Buffer }).stderr?.toString().trim()
        // a job that already ended is not an error; a controller we cannot reach is
        if (err && !/Invalid job id|already completed/i.test(err)) {
          console.error(`auton cancel: scancel ${ids.join(' ')} failed: ${err}\n(the job ids stay in .auton/slurm-jobs.json; try again)`)
          return 1
        }
      }
    }
    writeLedger(root, {})
    const staging = join(root, '.auton', 'staging')
    const had = existsSync(staging)
    rmSync(staging, { recursive: true, force: true })
    const runs = Object.keys(ledger).length
    console.log(
      ids.length
        ? `cancelled ${ids.length} job${ids.length === 1 ? '' : 's'} (${ids.join(' ')}) of ${runs} run${runs === 1 ? '' : 's'}${had ? '; removed .auton/staging' : ''}`
        : `no jobs recorded${had ? '; removed .auton/staging' : ''}`,
    )
    return 0
  } finally {
    release()
  }
}
