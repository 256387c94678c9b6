// staging.ts — where a remote job makes its outputs before auton trusts them.
//
// A job on a cluster writes into its own staging directory, never into the project: a job
// that dies half-way, or one cancelled while it writes, must leave nothing a later build could
// mistake for an output. The staging directory is a *symlink farm* of the project, so a
// recipe written for the project root (`cc -o out/x src/x.c`) runs unchanged with cwd = farm:
//
//   - every ancestor directory of a declared output is a real directory in the farm;
//   - every other entry of such a directory is a symlink to the same path in the project
//     (sources and upstream outputs are read through them, in place, on the shared file system);
//   - a declared output itself is absent: the recipe makes it fresh;
//   - `.auton/` (build state, and the staging area itself) is left out.
//
// Invariant: after a successful job, moveOutputs() renames every declared output from the
// farm into the project (same file system: .auton/staging is inside the project), all or none.

import { existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync } from 'node:fs'
import { dirname, join } from 'node:path'

const LEFT_OUT = new Set(['.auton'])

/** Build the farm for `outputs` (paths relative to `root`) at `farm`, which must not exist yet. */
export function makeFarm(root: string, farm: string, outputs: readonly string[]): void {
  const real = new Set<string>([''])
  for (const o of outputs) {
    const parts = o.split('/')
    for (let i = 1; i < parts.length; i++) real.add(parts.slice(0, i).join('/'))
  }
  const outs = new Set(outputs)
  const made = new Set<string>()
  const parent = (r: string) => (r.includes('/') ? r.slice(0, r.lastIndexOf('/')) : '')
  const fill = (rel: string) => {
    made.add(rel)
    mkdirSync(join(farm, rel), { recursive: true })
    const src = join(root, rel)
    for (const e of existsSync(src) ? readdirSync(src) : []) {
      const r = rel ? `${rel}/${e}` : e
      if (rel === '' && LEFT_OUT.has(e)) continue
      if (outs.has(r)) continue
      if (real.has(r) && lstatSync(join(root, r)).isDirectory()) fill(r)
      else symlinkSync(join(root, r), join(farm, r))
    }
    // ancestors the project does not have yet
    for (const r of real) if (r !== '' && parent(r) === rel && !made.has(r)) fill(r)
  }
  fill('')
}

/** Declared outputs missing from the farm. */
export function missingOutputs(farm: string, outputs: readonly string[]): string[] {
  return outputs.filter((o) => !exists(join(farm, o)))
}

/**
 * Move every output from the farm into the project, replacing what is there. All or none:
 * if one rename fails, the ones already moved are removed again and the error is thrown.
 */
export function moveOutputs(farm: string, root: string, outputs: readonly string[]): void {
  const moved: string[] = []
  try {
    for (const o of outputs) {
      const dst = join(root, o)
      rmSync(dst, { recursive: true, force: true })
      mkdirSync(dirname(dst), { recursive: true })
      renameSync(join(farm, o), dst)
      moved.push(dst)
    }
  } catch (e) {
    for (const m of moved) rmSync(m, { recursive: true, force: true })
    throw e
  }
}

function exists(p: string): boolean {
  try {
    lstatSync(p)
    return existsSync(p) || lstatSync(p).isSymbolicLink()
  } catch {
    return false
  }
}
