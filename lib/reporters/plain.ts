// plain.ts — one line per event, for CI logs and pipes.
//
// To stderr, lines go out in batches (batched(), at most BATCH_MS late; a failure, a warning
// and the summary at once): two writes per target were a measurable share of a large build.

import type { BuildEvent } from '../events.js'

const PROGRESS_EVERY_MS = 30_000
const BATCH_MS = 100
const BATCH_BYTES = 16 * 1024

export function plainReporter(write?: (s: string) => void): (e: BuildEvent) => void {
  const lastProgress = new Map<string, number>()
  if (write) return lines(write, lastProgress)
  const out = batched((s) => process.stderr.write(s))
  const report = lines(out, lastProgress)
  return (e) => {
    report(e)
    if (e.type === 'summary' || e.type === 'warning' || (e.type === 'target' && e.status === 'failed')) out.flush()
  }
}

function lines(write: (s: string) => void, lastProgress: Map<string, number>): (e: BuildEvent) => void {
  return (e) => {
    switch (e.type) {
      case 'progress': {
        // a long step (training) shows it is alive in a CI log, without flooding it
        const last = lastProgress.get(e.name) ?? 0
        if (e.at - last >= PROGRESS_EVERY_MS) {
          lastProgress.set(e.name, e.at)
          write(`[progress] ${e.name}: ${e.message}\n`)
        }
        break
      }
      case 'start':
        write(`[run] ${e.name}: ${e.describe.split('\n')[0].slice(0, 120)}\n`)
        break
      case 'target':
        if (e.status === 'up-to-date') break
        if (e.status === 'failed') {
          write(`[FAILED] ${e.name} (${fmtMs(e.ms)}): ${e.error}\n`)
          if (e.tail) write(e.tail.replace(/^/gm, '  | ') + '\n')
          if (e.log) write(`  log: ${e.log}\n`)
        } else if (e.status === 'skipped') write(`[skip] ${e.name}: ${e.reason ?? ''}\n`)
        else if (e.status === 'would-run') write(`[would run] ${e.name}: ${e.reason}\n`)
        else write(`[${e.status}] ${e.name} (${fmtMs(e.ms)}${e.source === 'remote' ? ', remote cache' : ''})\n`)
        break
      case 'warning':
        write(`warning: ${e.message}\n`)
        break
      case 'summary':
        write(summaryLine(e) + '\n')
        break
    }
  }
}

/** Buffer what is written; pass it on every BATCH_MS, at BATCH_BYTES, on flush() and at exit. */
export function batched(write: (s: string) => void): ((s: string) => void) & { flush(): void } {
  let buf = ''
  let timer: ReturnType<typeof setTimeout> | undefined
  const flush = () => {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
    atExit.delete(flush)
    if (!buf) return
    const s = buf
    buf = ''
    write(s)
  }
  const f = (s: string) => {
    buf += s
    atExit.add(flush)
    if (buf.length >= BATCH_BYTES) flush()
    else if (timer === undefined) {
      timer = setTimeout(flush, BATCH_MS)
      timer.unref?.()
    }
  }
  return Object.assign(f, { flush })
}

/** Batchers holding lines, flushed if the process exits before they do. */
const atExit = new Set<() => void>()
process.once('exit', () => atExit.forEach((f) => f()))

export function summaryLine(e: Extract<BuildEvent, { type: 'summary' }>): string {
  const parts = [`${e.ran} ran`, `${e.restored} restored`, `${e.upToDate} up to date`]
  if (e.failed) parts.push(`${e.failed} failed`)
  if (e.skipped) parts.push(`${e.skipped} skipped`)
  if (e.wouldRun) parts.push(`${e.wouldRun} would run`)
  if (e.refused) parts.push(`${e.refused} cache record${e.refused === 1 ? '' : 's'} refused`)
  if (e.unrecorded) parts.push(`${e.unrecorded} not recorded (an input changed while it ran)`)
  const cost = e.costUsd > 0 || e.inputTokens > 0 ? `, ${e.inputTokens + e.outputTokens} tokens, $${e.costUsd.toFixed(4)}` : ''
  return `${e.ok ? 'build ok' : 'build FAILED'}: ${parts.join(', ')} in ${fmtMs(e.ms)}${cost}`
}

export function fmtMs(ms: number): string {
  if (ms < 1000) return `${ms}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`
}
