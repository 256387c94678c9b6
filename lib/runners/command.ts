// command.ts — `sh` recipes, run in bash with `set -euo pipefail`.
//
// Each command runs in a worker's process group (shell-pool.ts) so that cancelling a build
// kills the whole tree a recipe started (make -j, gcc, a trainer's OpenMP threads), not only
// the shell. Lines "auton:progress <json|text>" in its output set the live status.

import type { Recipe, RecipeContext } from '../recipe.js'
import { runCommand } from './shell-pool.js'

const PROGRESS = 'auton:progress '

export function shellCommand(text: string): Recipe {
  return {
    kind: 'sh',
    keyMaterial: () => `sh:${text}`,
    describe: () => text,
    run: (ctx) => runShell(text, ctx),
  }
}

export async function runShell(text: string, ctx: RecipeContext): Promise<void> {
  if (ctx.signal.aborted) throw new Error('cancelled')
  let pending = ''
  const run = runCommand(ctx.cwd, text, (s) => {
    ctx.log(s)
    pending += s
    let nl: number
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl)
      pending = pending.slice(nl + 1)
      if (line.startsWith(PROGRESS)) ctx.progress(formatProgress(line.slice(PROGRESS.length)))
    }
  }, ctx.env)
  const onAbort = () => run.kill()
  ctx.signal.addEventListener('abort', onAbort, { once: true })
  try {
    const code = await run.done
    if (ctx.signal.aborted) throw new Error('cancelled')
    if (code !== 0) {
      const how = code > 128 ? `was killed by signal ${code - 128}` : `exited with code ${code}`
      throw new Error(`command ${how}: ${text.length > 200 ? text.slice(0, 200) + '…' : text}`)
    }
  } finally {
    ctx.signal.removeEventListener('abort', onAbort)
  }
}

/** `{"step":120,"steps":2000,"loss":3.1}` → "step=120 steps=2000 loss=3.1"; text stays as is. */
export function formatProgress(s: string): string {
  try {
    const o = JSON.parse(s) as Record<string, unknown>
    return Object.entries(o)
      .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(4) : v}`)
      .join(' ')
  } catch {
    return s.trim()
  }
}
