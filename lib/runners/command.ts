// command.ts — `sh` recipes, run by zx in bash.
//
// Each command runs in its own process group (detached) so that cancelling a build
// kills the whole tree a recipe started (make -j, gcc, a trainer's OpenMP threads),
// not only the shell. Lines "auton:progress <json|text>" on stdout set the live status.

import type { ProcessPromise } from 'zx'
import type { Recipe, RecipeContext } from '../recipe.js'

// zx is loaded on first use: it is a third of the CLI's start-up time, and a no-op
// build (or `auton list`, or an autonfile importing 'auton') never runs a command.
let zx: Promise<typeof import('zx')> | undefined

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
  const env: NodeJS.ProcessEnv = { ...process.env }
  const pieces = Object.assign([text], { raw: [text] }) as unknown as TemplateStringsArray
  const { $ } = await (zx ??= import('zx'))
  if (ctx.signal.aborted) throw new Error('cancelled')
  const p: ProcessPromise = $({
    cwd: ctx.cwd,
    env,
    quiet: true,
    nothrow: true,
    detached: true,
    verbose: false,
    shell: 'bash',
    prefix: 'set -euo pipefail; ',
    stdio: ['ignore', 'pipe', 'pipe'],
  })(pieces)
  const onAbort = () => killGroup(p)
  ctx.signal.addEventListener('abort', onAbort, { once: true })
  let pending = ''
  p.stdout.on('data', (chunk: Buffer) => {
    const s = chunk.toString()
    ctx.log(s)
    pending += s
    let nl: number
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl)
      pending = pending.slice(nl + 1)
      if (line.startsWith(PROGRESS)) ctx.progress(formatProgress(line.slice(PROGRESS.length)))
    }
  })
  p.stderr.on('data', (chunk: Buffer) => ctx.log(chunk.toString()))
  try {
    const out = await p
    if (ctx.signal.aborted) throw new Error('cancelled')
    if (out.exitCode !== 0) {
      const how = out.signal ? `was killed by ${out.signal}` : `exited with code ${out.exitCode}`
      throw new Error(`command ${how}: ${text.length > 200 ? text.slice(0, 200) + '…' : text}`)
    }
  } finally {
    ctx.signal.removeEventListener('abort', onAbort)
  }
}

function killGroup(p: ProcessPromise): void {
  const pid = p.child?.pid
  if (pid === undefined) return
  for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
    const send = () => {
      try {
        process.kill(-pid, sig)
      } catch {
        // already gone
      }
    }
    if (sig === 'SIGTERM') send()
    else setTimeout(send, 300).unref()
  }
}

/** `{"step":120,"steps":2000,"loss":3.1}` → "step=120 steps=2000 loss=3.1"; text stays as is. */
function formatProgress(s: string): string {
  try {
    const o = JSON.parse(s) as Record<string, unknown>
    return Object.entries(o)
      .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(4) : v}`)
      .join(' ')
  } catch {
    return s.trim()
  }
}
