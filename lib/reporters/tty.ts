// tty.ts — a live status for terminals: finished lines scroll, running targets stay at the bottom.

import kleur from 'kleur'
import type { BuildEvent } from '../events.js'
import { fmtMs, summaryLine } from './plain.js'

export function ttyReporter(out: NodeJS.WriteStream = process.stderr): { emit: (e: BuildEvent) => void; stop: () => void } {
  const running = new Map<string, { since: number; status: string }>()
  let total = 0
  let done = 0
  let drawn = 0
  const started = Date.now()
  const clear = () => {
    if (drawn) out.write(`\x1b[${drawn}A\x1b[J`)
    drawn = 0
  }
  const draw = () => {
    const cols = out.columns || 100
    const lines = [kleur.bold(`[${done}/${total}] ${fmtMs(Date.now() - started)}`) + kleur.dim(` · ${running.size} running`)]
    for (const [name, r] of running) {
      lines.push(`  ${kleur.cyan(name)} ${kleur.dim(fmtMs(Date.now() - r.since))} ${r.status}`.slice(0, cols + 20))
    }
    out.write(lines.join('\n') + '\n')
    drawn = lines.length
  }
  const timer = setInterval(() => {
    clear()
    draw()
  }, 250)
  timer.unref()
  const emit = (e: BuildEvent) => {
    clear()
    switch (e.type) {
      case 'plan':
        total = e.targets.length
        break
      case 'start':
        running.set(e.name, { since: e.at, status: '' })
        break
      case 'progress': {
        const r = running.get(e.name)
        if (r) r.status = kleur.dim(e.message)
        break
      }
      case 'up-to-date':
        done += e.names.length
        break
      case 'target':
        running.delete(e.name)
        done++
        if (e.status === 'failed') {
          out.write(kleur.red(`✗ ${e.name}`) + ` ${e.error}\n`)
          if (e.tail) out.write(kleur.dim(e.tail.replace(/^/gm, '  │ ')) + '\n')
          if (e.log) out.write(kleur.dim(`  log: ${e.log}\n`))
        } else if (e.status === 'ran') out.write(kleur.green(`✓ ${e.name}`) + kleur.dim(` ${fmtMs(e.ms)}\n`))
        else if (e.status === 'restored') out.write(kleur.blue(`↓ ${e.name}`) + kleur.dim(` restored from ${e.source} cache\n`))
        else if (e.status === 'would-run') out.write(kleur.yellow(`• ${e.name}`) + kleur.dim(` would run: ${e.reason}\n`))
        else if (e.status === 'skipped') out.write(kleur.dim(`- ${e.name} skipped: ${e.reason ?? ''}\n`))
        break
      case 'warning':
        out.write(kleur.yellow(`warning: ${e.message}\n`))
        break
      case 'summary':
        clearInterval(timer)
        out.write((e.ok ? kleur.green : kleur.red)(summaryLine(e)) + '\n')
        return
    }
    draw()
  }
  return { emit, stop: () => (clearInterval(timer), clear()) }
}
