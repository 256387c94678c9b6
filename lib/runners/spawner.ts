// spawner.ts — run a plain simple command without a shell: where the spawner (spawner.c) is,
// built once per machine with the system's C compiler, and what a request to it looks like.
//
// Why: in a 10,000-target build of `cat a b > out`, bash's fork of its subshell (page tables,
// then copy-on-write faults on both sides) cost more CPU than the programs themselves; the
// spawner posix_spawn()s them (CLONE_VFORK: nothing copied). Measured in bench/engine/README.md.
// Only a command that simple-command.ts parses completely goes there; everything else, and
// every command on a machine without a C compiler, runs in bash.

import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { SimpleCommand } from './simple-command.js'

/** One request for spawner.c: its 8-digit byte count, then NUL-terminated fields. */
export function request(cwd: string, umask: number, cmd: SimpleCommand, env: Record<string, string>): Buffer {
  const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`)
  const fields = [
    cwd, umask.toString(8),
    String(cmd.argv.length), ...cmd.argv,
    String(vars.length), ...vars,
    String(cmd.redirects.length), ...cmd.redirects.flatMap((r) => [String(r.fd), r.op, r.target]),
  ]
  const payload = Buffer.from(fields.map((f) => f + '\0').join(''))
  if (payload.length > 99_999_999) throw new Error('a command of 100 MB or more cannot be run')
  return Buffer.concat([Buffer.from(String(payload.length).padStart(8, '0')), payload])
}

const SOURCE = fileURLToPath(new URL(import.meta.url.includes('/dist/lib/') ? '../../../lib/runners/spawner.c' : './spawner.c', import.meta.url))

let binary: string | null | undefined

/**
 * The spawner's path, compiled on first use with the system's `cc` (not $CC, which may be a
 * cross compiler) into ~/.cache/auton, named by its source's hash and the architecture (an
 * edited spawner.c is rebuilt), or undefined without a working C compiler.
 * `AUTON_SPAWNER=0` turns it off (every command then runs in bash).
 */
export function spawnerBinary(verify = false): string | undefined {
  // `verify`: before starting one, check it is still there (a cleaned ~/.cache: built again)
  if (binary !== undefined && !(verify && binary && !existsSync(binary))) return binary ?? undefined
  binary = null
  if (process.env.AUTON_SPAWNER === '0' || process.platform !== 'linux') return undefined
  try {
    const src = readFileSync(SOURCE)
    const dir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'auton')
    const out = join(dir, `spawner-${createHash('sha256').update(src).digest('hex').slice(0, 16)}-${process.arch}`)
    if (!existsSync(out)) {
      mkdirSync(dir, { recursive: true })
      const tmp = `${out}.${process.pid}.tmp`
      try {
        execFileSync('cc', ['-O2', '-o', tmp, SOURCE], { stdio: 'ignore', timeout: 60_000 })
        renameSync(tmp, out)
      } finally {
        rmSync(tmp, { force: true })
      }
    }
    // it must start and exit at the end of its input; a damaged file is removed, and rebuilt next time
    try {
      execFileSync(out, [], { input: '', stdio: ['pipe', 'ignore', 'ignore'], timeout: 10_000 })
    } catch (e) {
      rmSync(out, { force: true })
      throw e
    }
    binary = out
  } catch {
    // no compiler, no writable cache directory: bash runs everything
  }
  return binary ?? undefined
}
