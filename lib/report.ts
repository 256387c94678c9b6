// report.ts — `auton report`: one self-contained HTML page about the last build.
//
// Reads .auton/last-build.json ({targets, events, remote?}, written by every build) and
// .auton/trace.json, loads the autonfile for the graph's edges, and adds what the
// project produced if it is there: SLM/models/**/loss.svg, SLM/models/**/metrics.json
// and reports/qemu-boot-*.md. The page has no scripts and no external resources, so it
// opens offline, from a CI artifact, or attached to an email.

import { existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { loadAutonfile } from './load.js'
import { closure, type Graph } from './graph.js'
import type { AutonConfig } from './config.js'
import type { BuildEvent } from './events.js'
import { esc, fmt, graphSvg, timelineSvg, STATUS_COLOR, type GraphNode, type TraceSpan } from './report-svg.js'

type TargetEvent = Extract<BuildEvent, { type: 'target' }>
type Summary = Extract<BuildEvent, { type: 'summary' }>

export interface LastBuild {
  targets: string[]
  events: BuildEvent[]
  remote?: { url: string; stats: Record<string, number>; disabled: boolean }
}

export interface ReportInput {
  root: string
  last: LastBuild
  /** Chrome trace events ({traceEvents}) of the build, if any. */
  trace?: { traceEvents: { name: string; ph: string; tid: number; ts: number; dur?: number; args?: { status?: string } }[] }
  /** The graph, when the autonfile still loads. */
  graph?: Graph
  graphError?: string
}

export async function reportCommand(file: string, root: string, cfg: AutonConfig): Promise<number> {
  const lastFile = join(root, '.auton', 'last-build.json')
  if (!existsSync(lastFile)) {
    console.error(`auton report: no build recorded at ${lastFile}: run 'auton build' first`)
    return 1
  }
  const last = JSON.parse(readFileSync(lastFile, 'utf8')) as LastBuild
  const traceFile = join(root, '.auton', 'trace.json')
  const trace = existsSync(traceFile) ? JSON.parse(readFileSync(traceFile, 'utf8')) : undefined
  let graph: Graph | undefined
  let graphError: string | undefined
  try {
    graph = (await loadAutonfile(file, cfg)).graph
  } catch (e) {
    graphError = (e as Error).message
  }
  const out = join(root, '.auton', 'report.html')
  mkdirSync(join(root, '.auton'), { recursive: true })
  writeFileSync(out, renderReport({ root, last, trace, graph, graphError }))
  console.log(`wrote ${relative(process.cwd(), out) || out}`)
  return 0
}

export function renderReport(r: ReportInput): string {
  const targetEvents = r.last.events.flatMap((e): TargetEvent[] =>
    e.type === 'target' ? [e] : e.type === 'up-to-date' ? e.names.map((name) => ({ type: 'target', name, status: 'up-to-date', ms: 0, at: e.at })) : [],
  )
  const final = new Map<string, TargetEvent>()
  for (const e of targetEvents) final.set(e.name, e)
  const summary = r.last.events.find((e): e is Summary => e.type === 'summary')
  const plan = r.last.events.find((e) => e.type === 'plan') as Extract<BuildEvent, { type: 'plan' }> | undefined
  const warnings = r.last.events.filter((e): e is Extract<BuildEvent, { type: 'warning' }> => e.type === 'warning')

  const sections: string[] = []
  sections.push(summarySection(r, summary, warnings))
  sections.push(section('Graph', graphSection(r, final, plan)))
  sections.push(section('Timeline', timelineSection(r, summary)))
  const cost = costSection(targetEvents, summary)
  if (cost) sections.push(section('Agent cost', cost))
  const models = join(r.root, 'SLM', 'models')
  const losses = find(models, (f) => f === 'loss.svg')
  if (losses.length) {
    sections.push(section('Training loss', losses.map((f) => figure(relative(r.root, f), inlineSvg(readFileSync(f, 'utf8')))).join('')))
  }
  const metrics = find(models, (f) => f === 'metrics.json')
  if (metrics.length) sections.push(section('Evaluation metrics', metrics.map((f) => metricsBlock(r.root, f)).join('')))
  const boots = find(join(r.root, 'reports'), (f) => /^qemu-boot-.*\.md$/.test(f), 1)
  if (boots.length) {
    sections.push(
      section('QEMU boot transcripts', boots.map((f) => figure(relative(r.root, f), `<pre>${esc(clip(readFileSync(f, 'utf8'), 400))}</pre>`)).join('')),
    )
  }
  sections.push(section('Targets and caches', targetsTable(r, final)))
  return page(`auton build report — ${r.last.targets.join(', ')}`, sections.join('\n'))
}

function summarySection(r: ReportInput, s: Summary | undefined, warnings: { message: string }[]): string {
  const at = s ? new Date(s.at).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : 'unknown time'
  const counts = s
    ? [
        ['ran', s.ran], ['restored', s.restored], ['up-to-date', s.upToDate], ['failed', s.failed], ['skipped', s.skipped],
      ].map(([k, v]) => `<span class="pill" style="border-color:${STATUS_COLOR[k as string]}">${v} ${k}</span>`).join(' ')
    : '<em>the build did not finish (no summary)</em>'
  const verdict = s ? (s.ok ? '<b class="ok">build ok</b>' : '<b class="bad">build FAILED</b>') : ''
  const remote = r.last.remote
    ? `<p>Remote cache <code>${esc(r.last.remote.url)}</code>${r.last.remote.disabled ? ' (given up during the build)' : ''}: ` +
      Object.entries(r.last.remote.stats).map(([k, v]) => `${esc(k)} ${/^bytes/.test(k) ? formatBytes(v) : v}`).join(', ') + '</p>'
    : ''
  const warn = warnings.length ? `<ul class="warn">${warnings.map((w) => `<li>${esc(w.message)}</li>`).join('')}</ul>` : ''
  return (
    `<header><h1>auton build report</h1>` +
    `<p>${verdict} · targets <code>${esc(r.last.targets.join(' '))}</code> · ${esc(at)}${s ? ` · ${fmt(s.ms)}` : ''}</p>` +
    `<p>${counts}</p>${remote}${warn}</header>`
  )
}

function graphSection(r: ReportInput, final: Map<string, TargetEvent>, plan: { targets: string[] } | undefined): string {
  let nodes: GraphNode[]
  let note = ''
  if (r.graph) {
    let names: string[]
    try {
      names = closure(r.graph, r.last.targets)
    } catch {
      names = plan?.targets.filter((t) => r.graph!.nodes.has(t)) ?? [...r.graph.nodes.keys()]
    }
    nodes = names.map((n) => {
      const e = final.get(n)
      return { name: n, deps: r.graph!.nodes.get(n)!.deps, status: e?.status, source: e?.source && `${e.source} cache` }
    })
  } else {
    nodes = (plan?.targets ?? [...final.keys()]).map((n) => ({ name: n, deps: [], status: final.get(n)?.status }))
    note = `<p class="note">Edges unavailable: the autonfile does not load now (${esc(r.graphError ?? '')}).</p>`
  }
  const legend = Object.entries(STATUS_COLOR)
    .map(([k, c]) => `<span class="pill" style="border-color:${c}">${k}</span>`)
    .join(' ')
  return `${note}<div class="scroll">${graphSvg(nodes)}</div><p>${legend}</p>`
}

function timelineSection(r: ReportInput, s: Summary | undefined): string {
  const ev = r.trace?.traceEvents ?? []
  const spans: TraceSpan[] = ev
    .filter((e) => e.ph === 'X')
    .map((e) => ({ name: e.name, lane: Math.max(0, e.tid - 1), start: e.ts / 1000, dur: (e.dur ?? 0) / 1000, status: e.args?.status }))
  const restores = ev.filter((e) => e.ph === 'i').map((e) => ({ name: e.name, at: e.ts / 1000 }))
  const lanes = new Set(spans.map((x) => x.lane)).size
  const busy = spans.reduce((a, x) => a + x.dur, 0)
  const wall = s?.ms ?? Math.max(0, ...spans.map((x) => x.start + x.dur))
  const stats = spans.length
    ? `<p>${spans.length} recipe run(s) on ${lanes} lane(s) at most at once; ${fmt(busy)} of work in ${fmt(wall)} of wall time` +
      (wall > 0 ? ` (average parallelism ${(busy / wall).toFixed(2)})` : '') + `.</p>`
    : ''
  return stats + `<div class="scroll">${timelineSvg(spans, restores, wall)}</div>`
}

function targetsTable(r: ReportInput, final: Map<string, TargetEvent>): string {
  const order = ['failed', 'skipped', 'would-run', 'ran', 'restored', 'up-to-date']
  const events = [...final.values()].sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status))
  const rows = events.map((e) => {
    const how = e.status === 'restored' ? `${e.source ?? 'local'} cache` : e.status === 'ran' ? esc(e.reason ?? '') : ''
    const err = e.error ? `<div class="bad">${esc(e.error)}</div>${e.tail ? `<pre>${esc(e.tail)}</pre>` : ''}` : ''
    return (
      `<tr><td class="nowrap"><code>${esc(e.name)}</code></td>` +
      `<td class="nowrap"><span class="dot" style="background:${STATUS_COLOR[e.status] ?? '#ccc'}"></span>${e.status}</td>` +
      `<td class="num nowrap">${e.ms ? fmt(e.ms) : ''}</td><td>${how}${err}</td></tr>`
    )
  })
  const bySource = (src: string) => [...final.values()].filter((e) => e.status === 'restored' && (e.source ?? 'local') === src).length
  const table = `<table><tr><th>target</th><th>status</th><th>time</th><th>why / from where</th></tr>${rows.join('')}</table>`
  // a long table folds (no script needed); failures come first either way
  const body = rows.length <= 30 ? table : `<details><summary>all ${rows.length} targets</summary>${table}</details>`
  const failures = events.filter((e) => e.status === 'failed').length
  return (
    `<p>Restored from the local cache: ${bySource('local')}; from the remote cache: ${bySource('remote')}.` +
    `${failures ? ` <b class="bad">${failures} failed</b> (listed first).` : ''}</p>${body}`
  )
}

function costSection(events: TargetEvent[], s: Summary | undefined): string | undefined {
  const steps = events.filter((e) => e.usage && (e.usage.calls > 0 || e.usage.costUsd > 0))
  if (!steps.length && !(s && (s.inputTokens > 0 || s.costUsd > 0))) return undefined
  const rows = steps
    .map((e) => `<tr><td><code>${esc(e.name)}</code></td><td class="num">${e.usage!.calls}</td><td class="num">${e.usage!.inputTokens}</td><td class="num">${e.usage!.outputTokens}</td><td class="num">$${e.usage!.costUsd.toFixed(4)}</td></tr>`)
    .join('')
  const total = s ? `<tr class="total"><td>total</td><td></td><td class="num">${s.inputTokens}</td><td class="num">${s.outputTokens}</td><td class="num">$${s.costUsd.toFixed(4)}</td></tr>` : ''
  return `<table><tr><th>agent step</th><th>calls</th><th>input tokens</th><th>output tokens</th><th>cost</th></tr>${rows}${total}</table>`
}

function metricsBlock(root: string, file: string): string {
  let m: Record<string, unknown>
  try {
    m = JSON.parse(readFileSync(file, 'utf8'))
  } catch (e) {
    return figure(relative(root, file), `<p class="bad">unreadable: ${esc((e as Error).message)}</p>`)
  }
  const scalars = Object.entries(flatten(m)).map(([k, v]) => `<tr><td>${esc(k)}</td><td class="num">${esc(show(v))}</td></tr>`)
  const tables = Object.entries(m)
    .filter(([, v]) => Array.isArray(v) && v.length && typeof v[0] === 'object')
    .map(([k, v]) => {
      const rows = (v as Record<string, unknown>[]).slice(0, 20)
      const cols = [...new Set(rows.flatMap((x) => Object.keys(x)))]
      return (
        `<h4>${esc(k)}</h4><table><tr>${cols.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>` +
        rows.map((x) => `<tr>${cols.map((c) => `<td>${esc(show(x[c]))}</td>`).join('')}</tr>`).join('') +
        `</table>`
      )
    })
  return figure(relative(root, file), `<table>${scalars.join('')}</table>${tables.join('')}`)
}

/** Scalars of a JSON object, nested keys joined with dots (arrays of objects are shown as tables). */
function flatten(o: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) {
    if (v && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flatten(v as Record<string, unknown>, `${prefix}${k}.`))
    else if (!Array.isArray(v) || typeof v[0] !== 'object') out[prefix + k] = v
  }
  return out
}

function formatBytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`
}

function show(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(4)
  if (typeof v === 'string') return v
  return JSON.stringify(v)
}

/** An SVG made by the project, inlined: drop its prolog and anything active. */
function inlineSvg(svg: string): string {
  return svg
    .replace(/<\?xml[^>]*\?>/g, '')
    .replace(/<!DOCTYPE[^>]*>/gi, '')
    .replace(/<script[\s\S]*?<\/script>/gi, '')
    .replace(/\son\w+\s*=\s*("[^"]*"|'[^']*')/gi, '')
    .replace(/(href\s*=\s*["'])\s*(?:https?:|javascript:)[^"']*/gi, '$1#')
}

/** Files named by `match` under dir (depth-limited, sorted). */
function find(dir: string, match: (name: string) => boolean, depth = 6): string[] {
  if (!existsSync(dir) || depth < 0) return []
  const out: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...find(p, match, depth - 1))
    else if (e.isFile() && match(e.name)) out.push(p)
  }
  return out.sort()
}

function clip(text: string, lines: number): string {
  const all = text.split('\n')
  return all.length <= lines ? text : all.slice(0, lines).join('\n') + `\n… (${all.length - lines} more lines)`
}

function section(title: string, body: string): string {
  return `<section><h2>${esc(title)}</h2>${body}</section>`
}

function figure(caption: string, body: string): string {
  return `<figure>${body}<figcaption><code>${esc(caption)}</code></figcaption></figure>`
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1180px;padding:0 16px;color:#212529;background:#fff}
h1{font-size:22px;margin:0 0 6px}h2{font-size:17px;border-bottom:1px solid #dee2e6;padding-bottom:4px;margin-top:28px}
code,pre{font-family:ui-monospace,monospace;font-size:12.5px}pre{background:#f8f9fa;padding:10px;overflow:auto;max-height:480px;border-radius:4px}
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #dee2e6;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f1f3f5}.num{text-align:right;font-variant-numeric:tabular-nums}.total td{font-weight:600}
.pill{display:inline-block;border:2px solid #ccc;border-radius:10px;padding:0 8px;margin:2px 0;font-size:12px}
.dot{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:6px}
.ok{color:#2f9e44}.bad{color:#e03131}.warn{color:#e67700}.note{color:#868e96}.scroll{overflow-x:auto}
figure{margin:10px 0}.nowrap{white-space:nowrap}summary{cursor:pointer;margin:6px 0}figcaption{color:#868e96;font-size:12px}
</style></head><body>
${body}
<footer class="note"><p>Generated by <code>auton report</code> from .auton/last-build.json and .auton/trace.json.</p></footer>
</body></html>
`
}
