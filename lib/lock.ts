// lock.ts — one build per directory at a time.
//
// .auton/lock holds the owner's pid, created with O_EXCL. A lock whose pid is gone
// (a crashed build) is taken over; a live one is a clear error.

import { mkdirSync, openSync, writeSync, closeSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'

export class LockBusy extends Error {}

export function acquireLock(root: string): () => void {
  const dir = join(root, '.auton')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, 'lock')
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx')
      writeSync(fd, String(process.pid))
      closeSync(fd)
      return () => rmSync(file, { force: true })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      const pid = Number(readFileSync(file, 'utf8').trim())
      if (pid && pid !== process.pid && alive(pid)) {
        throw new LockBusy(
          `another auton (pid ${pid}) is building in ${root}; wait for it to finish, or stop it. ` +
            `(If no auton is running, delete ${file}.)`,
        )
      }
      rmSync(file, { force: true }) // stale: its owner died
    }
  }
  throw new LockBusy(`could not take the build lock ${file}`)
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}
