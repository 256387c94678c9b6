// run.ts — time auton, GNU make, ninja (and Snakemake at N <= 1,000) on the same graphs.
//
//   npx tsx bench/engine/run.ts [--n 1000,10000] [--reps K] [--full-reps K] [--tools auton,auton-1shot,make,ninja,snakemake]
//                               [--shapes wide,1%] [--auton DIR] [--write]
//
// For each N, shape and tool, in a fresh temp dir: full build (-j2) from nothing, no-op,
// one source edited (new content), one source touched (same content). Medians over reps; the
// tools take turns within each phase, rep by rep.
// Each row also says how many targets ran, checked against what the graph says must run.
// --write puts the table into bench/engine/README.md (between the RESULTS markers).

import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, appendFileSync, utimesSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir, cpus, loadavg } from 'node:os'
import { join, resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { makeShape, type Shape } from './shape.js'
import { emitProject, type Tool } from './emit.js'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '1000,10000' },
    reps: { type: 'string', default: '3' },
    'full-reps': { type: 'string', default: '1' },
    tools: { type: 'string', default: 'auton,auton-1shot,make,ninja,snakemake' },
    shapes: { type: 'string', default: '1%' },
    write: { type: 'boolean', default: false },
    /** Another auton checkout (built) to time instead of this one, e.g. an older commit. */
    auton: { type: 'string' },
  },
})
const autonRoot = resolve(values.auton ?? repo)
const sizes = values.n.split(',').map(Number)
const reps = Number(values.reps)
const fullReps = Number(values['full-reps'])
const tools = values.tools.split(',') as Tool[]
const shapes = values.shapes.split(',') as ('wide' | '1%')[]
const SNAKEMAKE_MAX = 1000

type Phase = 'full' | 'no-op' | 'edit' | 'touch'
interface Row { n: number; shape: string; reach: number; tool: Tool; phase: Phase; s: number; ran: number; expect: number }

/** Command line of one build; `ran` counts the targets whose recipe ran, from the tool's output. */
const autonRan = (o: string) => Number(/build ok: (\d+) ran/.exec(o)?.[1] ?? NaN)
const TOOLS: Record<Tool, { cmd: string[]; clean: string[]; ran: (out: string) => number; env?: NodeJS.ProcessEnv }> = {
  // through the checkout's build server (docs/server.md), as a developer runs it
  auton: {
    cmd: [process.execPath, join(autonRoot, 'bin/auton.cjs'), 'build', '-j', '2'],
    clean: ['out', '.auton', 'cache'],
    ran: autonRan,
    env: { CI: undefined, AUTON_NO_SERVER: undefined, AUTON_SERVER_IDLE: '120' },
  },
  // every build in its own process, as CI runs it
  'auton-1shot': {
    cmd: [process.execPath, join(autonRoot, 'bin/auton.cjs'), 'build', '-j', '2', '--no-server'],
    clean: ['out', '.auton', 'cache'],
    ran: autonRan,
  },
  make: { cmd: ['make', '-j2'], clean: ['out/t*'], ran: (o) => o.split('\n').filter((l) => l.startsWith('cat ')).length },
  ninja: { cmd: ['ninja', '-j2'], clean: ['out', '.ninja_log', '.ninja_deps'], ran: (o) => o.split('\n').filter((l) => /^\[\d+\/\d+\]/.test(l)).length },
  snakemake: {
    cmd: ['snakemake', '--cores', '2'],
    clean: ['out', '.snakemake'],
    ran: (o) => o.split('\n').filter((l) => /^rule cat:/.test(l)).length,
  },
}

/**
 * NODE_EXTRA_CA_CERTS makes every Node process parse that CA bundle before it runs a line
 * (this sandbox sets it: `node -e 0` took 80 ms with it, 30 ms without). It taxes Node's
 * start-up, not a build tool's design, so every tool runs without it, as on a machine that
 * does not set it; the header says when it was set.
 */
const caCerts = process.env.NODE_EXTRA_CA_CERTS
const benchEnv: NodeJS.ProcessEnv = { ...process.env, CI: '1', NODE_EXTRA_CA_CERTS: undefined }

function timeBuild(tool: Tool, dir: string): { s: number; ran: number } {
  const [bin, ...args] = TOOLS[tool].cmd
  const t0 = performance.now()
  const r = spawnSync(bin, args, { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...benchEnv, ...TOOLS[tool].env } })
  const s = (performance.now() - t0) / 1000
  if (r.status !== 0) throw new Error(`${tool} failed in ${dir} (exit ${r.status}):\n${(r.stdout + r.stderr).slice(-2000)}`)
  return { s, ran: TOOLS[tool].ran(r.stdout + r.stderr) }
}

function clean(tool: Tool, dir: string): void {
  spawnSync('sh', ['-c', `rm -rf ${TOOLS[tool].clean.join(' ')}`], { cwd: dir })
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/**
 * Every phase of every tool on one graph, each tool in a directory of its own. The tools take
 * turns rep by rep (auton, ninja, make, auton, ninja, make, ...), so a slow minute of a shared
 * machine lands on all of them rather than on whichever tool ran then.
 */
function measure(tools: Tool[], shape: Shape): Row[] {
  const dirs = new Map<Tool, string>()
  for (const tool of tools) {
    const dir = mkdtempSync(join(tmpdir(), `bench-${tool}-`))
    emitProject(tool, shape, dir, autonRoot)
    dirs.set(tool, dir)
  }
  const rows: Row[] = []
  const edits = new Map<Tool, number>(tools.map((t) => [t, 0]))
  const phase = (p: Phase, k: number, expect: (tool: Tool) => number, before: (tool: Tool, dir: string) => void) => {
    const runs = new Map<Tool, { s: number; ran: number }[]>(tools.map((t) => [t, []]))
    for (let i = 0; i < k; i++) {
      for (const tool of tools) {
        before(tool, dirs.get(tool)!)
        runs.get(tool)!.push(timeBuild(tool, dirs.get(tool)!))
      }
    }
    for (const tool of tools) {
      const r = runs.get(tool)!
      const ran = r.map((x) => x.ran)
      const s = median(r.map((x) => x.s))
      rows.push({ n: shape.n, shape: shape.name, reach: shape.reach, tool, phase: p, s, ran: Math.max(...ran), expect: expect(tool) })
      process.stderr.write(`  ${tool.padEnd(11)} ${p.padEnd(5)} ${s.toFixed(3)}s ran=${ran.join('/')}\n`)
    }
  }
  try {
    phase('full', fullReps, () => shape.n, (tool, dir) => clean(tool, dir))
    phase('no-op', reps, () => 0, () => {})
    phase('edit', reps, () => shape.reach, (tool, dir) => {
      edits.set(tool, edits.get(tool)! + 1)
      appendFileSync(join(dir, shape.sources[0]), `edit ${edits.get(tool)}\n`)
    })
    // a touch: new mtime, same bytes (make and ninja rebuild the reach, a content hash nothing;
    // Snakemake 7 records input mtimes and decides for itself, so its count is not checked)
    phase('touch', reps, (tool) => (tool.startsWith('auton') ? 0 : tool === 'snakemake' ? NaN : shape.reach), (_tool, dir) => {
      const t = new Date()
      utimesSync(join(dir, shape.sources[0]), t, t)
    })
  } finally {
    for (const dir of dirs.values()) rmSync(dir, { recursive: true, force: true })
  }
  return rows
}

/** Node's own start-up, the floor of any no-op of a tool written for Node (the yardstick at N = 1,000). */
function nodeStartup(): number {
  const xs: number[] = []
  for (let i = 0; i < 11; i++) {
    const t0 = performance.now()
    spawnSync(process.execPath, ['-e', '0'], { env: benchEnv })
    xs.push((performance.now() - t0) / 1000)
  }
  return median(xs)
}

const started = Date.now()
const nodeBefore = nodeStartup()
const all: Row[] = []
for (const n of sizes) {
  for (const shapeName of shapes) {
    const shape = makeShape(shapeName, n)
    process.stderr.write(`N=${shape.n} shape=${shape.name} (an edit reaches ${shape.reach} targets, ${pct(shape.reach / shape.n)})\n`)
    all.push(...measure(tools.filter((t) => t !== 'snakemake' || n <= SNAKEMAKE_MAX), shape))
  }
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`
}

const nodeS = (nodeBefore + nodeStartup()) / 2 // before and after: the machine's load moves
const table = render(all)
const header = [
  `Command: \`npx tsx bench/engine/run.ts ${process.argv.slice(2).join(' ')}\``.replace(' --write', ''),
  `Machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}, load average at start ${loadavg()[0].toFixed(1)} ` +
    `(the cores were shared with other jobs: absolute times are noisy, ratios measured in the same run less so)`,
  `Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; total bench time ${((Date.now() - started) / 1000).toFixed(0)} s; ` +
    `medians over ${reps} reps (full build: ${fullReps}); \`node -e 0\` ${(nodeS * 1000).toFixed(1)} ms (median of 11, before and after)` +
    (caCerts ? '; NODE_EXTRA_CA_CERTS was set and is unset for every tool (see run.ts)' : ''),
].join('  \n')
console.log(`${header}\n\n${table}`)
if (values.write) {
  const readme = join(repo, 'bench/engine/README.md')
  const text = readFileSync(readme, 'utf8')
  const [before, rest] = text.split('<!-- RESULTS -->')
  const after = rest?.split('<!-- /RESULTS -->')[1] ?? ''
  writeFileSync(readme, `${before}<!-- RESULTS -->\n${header}\n\n${table}\n<!-- /RESULTS -->${after}`)
}

/** Markdown: one row per N × shape × phase, a column per tool with time, ratio to ninja and targets run. */
function render(rows: Row[]): string {
  const used = tools.filter((t) => rows.some((r) => r.tool === t))
  const lines = [
    `| N | shape (edit reaches) | phase | ${used.join(' | ')} |`,
    `|---|---|---|${used.map(() => '---').join('|')}|`,
  ]
  const keys = [...new Set(rows.map((r) => `${r.n}|${r.shape}|${r.phase}`))]
  for (const k of keys) {
    const [n, shape, phase] = k.split('|')
    const of = (t: Tool) => rows.find((r) => `${r.n}|${r.shape}|${r.phase}` === k && r.tool === t)
    const base = of('ninja')
    const cells = used.map((t) => {
      const r = of(t)
      if (!r) return '—'
      const ratio = base && t !== 'ninja' ? ` (${(r.s / base.s).toFixed(2)}×)` : ''
      const vsNode = phase === 'no-op' && t.startsWith('auton') ? `, ${(r.s / nodeS).toFixed(2)}× node -e 0` : ''
      const check = r.ran === r.expect || Number.isNaN(r.expect) ? '' : ` ≠${r.expect}!`
      return `${r.s.toFixed(3)} s${ratio}${vsNode}, ran ${r.ran}${check}`
    })
    const reach = rows.find((r) => `${r.n}|${r.shape}` === `${n}|${shape}`)!.reach
    lines.push(`| ${n} | ${shape} (${reach}, ${pct(reach / Number(n))}) | ${phase} | ${cells.join(' | ')} |`)
  }
  return lines.join('\n')
}
