// atomic.ts — replace a file so that a reader sees the old bytes or the new ones, never a part.

import { renameSync, rmSync, writeFileSync } from 'node:fs'

let seq = 0

/** Write to a sibling temp file, then rename over `file` (atomic on one file system). */
export function writeAtomic(file: string, data: string | Buffer | NodeJS.ArrayBufferView, mode?: number): void {
  const tmp = `${file}.tmp-${process.pid}-${seq++}`
  try {
    writeFileSync(tmp, data, mode === undefined ? undefined : { mode })
    renameSync(tmp, file)
  } catch (e) {
    rmSync(tmp, { force: true })
    throw e
  }
}
