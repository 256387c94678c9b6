// report-svg.ts — the two drawings of the build report, as inline SVG (no scripts, no CDN).
//
// graphSvg: a layered layout — a target's column is the length of the longest chain of
// dependencies below it, so every edge points right; rows keep declaration order.
// timelineSvg: one row per lane of the Chrome trace (lanes are reused once free, so the
// number of rows is the peak parallelism), one bar per recipe run.

export interface GraphNode {
  name: string
  deps: string[]
  status?: string
  source?: string
}

export interface TraceSpan {
  name: string
  lane: number
  /** Start and duration in ms from the build's start. */
  start: number
  dur: number
  status?: string
}

export const STATUS_COLOR: Record<string, string> = {
  ran: '#2f9e44',
  restored: '#1c7ed6',
  'up-to-date': '#adb5bd',
  failed: '#e03131',
  skipped: '#f08c00',
  'would-run': '#ae3ec9',
}

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** How bad a status is, for a group's colour: the worst member wins. */
const SEVERITY = ['failed', 'skipped', 'would-run', 'ran', 'restored', 'up-to-date']

/**
 * Fold siblings into one box: targets with the same dependencies and the same dependents
 * (e.g. the 23 object files of one kernel) become "common-prefix… ×23". Keeps a
 * 200-target pipeline readable; edges are rewired to the group.
 */
export function collapse(nodes: GraphNode[], min = 4): GraphNode[] {
  const dependents = new Map<string, string[]>(nodes.map((n) => [n.name, []]))
  for (const n of nodes) for (const d of n.deps) dependents.get(d)?.push(n.name)
  const sig = (n: GraphNode) => `${[...n.deps].sort().join('\0')}|${dependents.get(n.name)!.sort().join('\0')}`
  const bySig = new Map<string, GraphNode[]>()
  for (const n of nodes) bySig.set(sig(n), [...(bySig.get(sig(n)) ?? []), n])
  const groupOf = new Map<string, string>()
  const out: GraphNode[] = []
  const emitted = new Set<string>()
  for (const n of nodes) {
    const members = bySig.get(sig(n))!
    if (members.length < min) {
      out.push({ ...n })
      continue
    }
    const key = sig(n)
    if (emitted.has(key)) continue
    emitted.add(key)
    const name = `${commonPrefix(members.map((m) => m.name))}… ×${members.length}`
    for (const m of members) groupOf.set(m.name, name)
    const status = SEVERITY.find((s) => members.some((m) => m.status === s)) ?? members[0].status
    const counts = new Map<string, number>()
    for (const m of members) counts.set(m.status ?? 'not built', (counts.get(m.status ?? 'not built') ?? 0) + 1)
    out.push({ name, deps: n.deps, status, source: [...counts].map(([k, v]) => `${v} ${k}`).join(', ') })
  }
  for (const n of out) n.deps = [...new Set(n.deps.map((d) => groupOf.get(d) ?? d))]
  return out
}

function commonPrefix(names: string[]): string {
  let p = names[0]
  for (const n of names) while (!n.startsWith(p)) p = p.slice(0, -1)
  return p
}

export function graphSvg(all: GraphNode[]): string {
  if (all.length === 0) return '<p>No targets.</p>'
  const nodes = collapse(all)
  const byName = new Map(nodes.map((n) => [n.name, n]))
  const layer = new Map<string, number>()
  const depth = (name: string, seen = new Set<string>()): number => {
    const known = layer.get(name)
    if (known !== undefined) return known
    if (seen.has(name)) return 0 // cycles were rejected when the graph loaded; be safe anyway
    seen.add(name)
    const deps = byName.get(name)?.deps.filter((d) => byName.has(d)) ?? []
    const l = deps.length ? 1 + Math.max(...deps.map((d) => depth(d, seen))) : 0
    layer.set(name, l)
    return l
  }
  for (const n of nodes) depth(n.name)
  const columns: string[][] = []
  for (const n of nodes) (columns[layer.get(n.name)!] ??= []).push(n.name)

  // a tall column (e.g. one object file per kernel source) gets a compact drawing
  const compact = Math.max(...columns.map((c) => c.length)) > 24
  const charW = compact ? 6 : 7
  const boxW = Math.min(compact ? 230 : 260, Math.max(110, 8 + charW * Math.max(...nodes.map((n) => n.name.length))))
  const boxH = compact ? 16 : 28
  const gapX = compact ? 50 : 70
  const gapY = compact ? 3 : 14
  const pad = 12
  const pos = new Map<string, { x: number; y: number }>()
  columns.forEach((col, c) =>
    col.forEach((name, r) => pos.set(name, { x: pad + c * (boxW + gapX), y: pad + r * (boxH + gapY) })),
  )
  const width = pad * 2 + columns.length * boxW + (columns.length - 1) * gapX
  const height = pad * 2 + Math.max(...columns.map((c) => c.length)) * (boxH + gapY) - gapY

  const edges: string[] = []
  for (const n of nodes) {
    const to = pos.get(n.name)!
    for (const d of n.deps) {
      const from = pos.get(d)
      if (!from) continue
      const x1 = from.x + boxW
      const y1 = from.y + boxH / 2
      const x2 = to.x
      const y2 = to.y + boxH / 2
      const mx = (x1 + x2) / 2
      edges.push(`<path d="M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2 - 4},${y2}" class="edge" marker-end="url(#arrow)"/>`)
    }
  }
  const boxes = nodes.map((n) => {
    const { x, y } = pos.get(n.name)!
    const color = STATUS_COLOR[n.status ?? ''] ?? '#dee2e6'
    const fit = Math.floor((boxW - 12) / charW)
    const label = n.name.length > fit ? '…' + n.name.slice(n.name.length - fit + 1) : n.name
    const tip = `${n.name}: ${n.status ?? 'not in this build'}${n.source ? ` (${n.source})` : ''}`
    return (
      `<g><title>${esc(tip)}</title>` +
      `<rect x="${x}" y="${y}" width="${boxW}" height="${boxH}" rx="5" fill="${color}" fill-opacity="0.18" stroke="${color}" stroke-width="2"/>` +
      `<text x="${x + 6}" y="${y + (compact ? 12 : 18)}" class="label">${esc(label)}</text></g>`
    )
  })
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="build graph">` +
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#868e96"/></marker></defs>` +
    `<style>.edge{fill:none;stroke:#868e96;stroke-width:${compact ? 0.6 : 1.3};stroke-opacity:${compact ? 0.5 : 1}}.label{font:${compact ? 10 : 12}px ui-monospace,monospace;fill:#212529}</style>` +
    edges.join('') +
    boxes.join('') +
    `</svg>`
  )
}

export function timelineSvg(spans: TraceSpan[], restores: { name: string; at: number }[], totalMs: number): string {
  if (spans.length === 0 && restores.length === 0) return '<p>No recipe ran in this build.</p>'
  const lanes = Math.max(0, ...spans.map((s) => s.lane + 1))
  const end = Math.max(totalMs, ...spans.map((s) => s.start + s.dur), ...restores.map((r) => r.at), 1)
  const left = 54
  const width = 1100
  const plotW = width - left - 12
  const rowH = 24
  const top = 22
  const restoreRow = restores.length ? 1 : 0
  const height = top + (lanes + restoreRow) * rowH + 26
  const x = (ms: number) => left + (ms / end) * plotW
  const out: string[] = []
  // time axis
  const step = niceStep(end / 8)
  for (let t = 0; t <= end; t += step) {
    out.push(`<line x1="${x(t)}" y1="${top - 4}" x2="${x(t)}" y2="${height - 22}" class="grid"/>`)
    out.push(`<text x="${x(t)}" y="${height - 8}" class="tick" text-anchor="middle">${fmt(t)}</text>`)
  }
  for (let l = 0; l < lanes; l++) out.push(`<text x="4" y="${top + l * rowH + 16}" class="tick">lane ${l + 1}</text>`)
  for (const s of spans) {
    const color = STATUS_COLOR[s.status ?? 'ran'] ?? STATUS_COLOR.ran
    const bx = x(s.start)
    const bw = Math.max(2, x(s.start + s.dur) - bx)
    const y = top + s.lane * rowH
    const fits = Math.floor((bw - 6) / 6.6)
    const text = fits >= 3 ? (s.name.length > fits ? s.name.slice(0, fits - 1) + '…' : s.name) : ''
    out.push(
      `<g><title>${esc(`${s.name}: ${s.status ?? ''} ${fmt(s.start)} → ${fmt(s.start + s.dur)} (${fmt(s.dur)})`)}</title>` +
        `<rect x="${bx}" y="${y}" width="${bw}" height="${rowH - 5}" rx="3" fill="${color}" fill-opacity="0.8"/>` +
        (text ? `<text x="${bx + 4}" y="${y + 14}" class="bar">${esc(text)}</text>` : '') +
        `</g>`,
    )
  }
  if (restoreRow) {
    const y = top + lanes * rowH
    out.push(`<text x="4" y="${y + 16}" class="tick">restored</text>`)
    for (const r of restores) {
      out.push(`<g><title>${esc(`${r.name} restored at ${fmt(r.at)}`)}</title><rect x="${x(r.at) - 1.5}" y="${y + 2}" width="3" height="${rowH - 9}" fill="${STATUS_COLOR.restored}"/></g>`)
    }
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="timeline">` +
    `<style>.grid{stroke:#e9ecef}.tick{font:11px sans-serif;fill:#495057}.bar{font:11px ui-monospace,monospace;fill:#fff}</style>` +
    out.join('') +
    `</svg>`
  )
}

function niceStep(raw: number): number {
  if (raw <= 0) return 1
  const mag = 10 ** Math.floor(Math.log10(raw))
  return [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!
}

export function fmt(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  return `${Math.floor(ms / 60_000)} m ${Math.round((ms % 60_000) / 1000)} s`
}
