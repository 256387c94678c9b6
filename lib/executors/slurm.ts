// slurm.ts — run a target's recipe as a SLURM batch job.
//
// A job moves through these states (auton's view; SLURM's own state names in capitals):
//
//   staged ──sbatch --parsable──▶ submitted ──squeue──▶ PENDING ──▶ RUNNING ──▶ COMPLETED
//     │ sbatch refuses (EnforcePartLimits)   │ Reason can never be met        │ + marker says 0
//     ▼                                      ▼                                ▼ + every output
//   failed (SLURM's message)     scancel, failed (the Reason)     outputs moved into the project
//   FAILED | TIMEOUT | OUT_OF_MEMORY | NODE_FAIL | CANCELLED | …  ──▶ failed (state, exit code, log tail)
//   ctx.signal aborts ──▶ one batched scancel for the run ──▶ staging removed ──▶ cancelled
//
// Invariants:
//   - the scheduler's word is never enough: a job counts as done only when SLURM says
//     COMPLETED *and* the marker file the job writes after the recipe holds the recipe's own
//     exit status 0 for this job id *and* every declared output exists in staging (on this
//     machine a broken proctrack plugin made a job that ran nothing report COMPLETED 0:0);
//   - the job never writes into the project's outputs: it runs in a symlink farm
//     (staging.ts), and the outputs move into place only after those checks, all or none;
//   - one status query per tick for every job of the run (`squeue --name=auton-<run>`),
//     backing off from 1 s to 30 s while nothing changes, back to 1 s when something does;
//   - the job's environment is exactly ctx.env plus SLURM's own variables (SLURM_*,
//     CUDA_VISIBLE_DEVICES, …). Values travel in sbatch's own environment (--export=ALL from
//     a clean one), never in a file: the script holds only names. Secrets are masked in the
//     job's log as it is written.
//   - every job id is in .auton/slurm-jobs.json while it may be alive (`auton cancel`).

import { execFile } from 'node:child_process'
import { existsSync, openSync, readSync, closeSync, fstatSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { Executor } from '../executor.js'
import type { Node } from '../graph.js'
import type { Resources } from '../dsl.js'
import type { Emit } from '../events.js'
import type { RecipeContext, RecipeResult } from '../recipe.js'
import { formatProgress } from '../runners/command.js'
import { logTail } from '../execute.js'
import { makeFarm, missingOutputs, moveOutputs } from './staging.js'
import { noteJob, dropRun } from './ledger.js'

export interface SlurmSettings {
  partition?: string
  account?: string
  qos?: string
  sbatch_args: string[]
}

export interface SlurmExecutorOptions {
  /** The name targets use (`executor: 'cluster'`). */
  name: string
  /** Project root: staging lives in <root>/.auton/staging/<run>/. */
  root: string
  settings: SlurmSettings
  /** The autonfile a job re-enters to run a function recipe. */
  autonfile: string
  /** Shared by every executor of one build; names the jobs auton-<run>. */
  runId?: string
  emit?: Emit
  /** Environment of sbatch/squeue/scancel themselves (SLURM_CONF, SBATCH_*); default process.env. */
  clientEnv?: NodeJS.ProcessEnv
  pollMinMs?: number
  pollMaxMs?: number
  /** After scancel, how long to wait for SLURM to confirm before giving up on a job. */
  cancelWaitMs?: number
}

/** SLURM states after which a job never runs again. */
const TERMINAL = new Set([
  'COMPLETED', 'FAILED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL', 'CANCELLED', 'BOOT_FAIL',
  'DEADLINE', 'PREEMPTED', 'SPECIAL_EXIT', 'REVOKED',
])

/**
 * Pending reasons that waiting cannot cure: the request exceeds a partition or per-job limit,
 * names an account, QOS or constraint that does not exist, or waits on a dead dependency.
 * (Resources, Priority, ReqNodeNotAvail, AssocGrp… limits clear up by themselves.)
 */
const NEVER = /^(BadConstraints|PartitionNodeLimit|PartitionTimeLimit|PartitionConfig|InvalidAccount|InvalidQOS|DependencyNeverSatisfied|QOSMax\w*PerJob\w*|AssocMax\w*PerJob\w*|MaxCpuPerAccount|JobHeldAdmin)/

const WHY: Record<string, string> = {
  TIMEOUT: 'it ran past its time limit (raise resources.time)',
  OUT_OF_MEMORY: 'it ran out of memory (raise resources.mem)',
  NODE_FAIL: 'its node failed',
  CANCELLED: 'it was cancelled outside this build',
  PREEMPTED: 'it was preempted',
  BOOT_FAIL: 'its node failed to boot',
  DEADLINE: 'it missed its deadline',
}

/** bin/auton.cjs of this install, from dist/lib/executors/ (compiled) or lib/executors/ (tsx). */
const AUTON_BIN = fileURLToPath(new URL(import.meta.url.includes('/dist/lib/') ? '../../../bin/auton.cjs' : '../../bin/auton.cjs', import.meta.url))

interface Job {
  id: string
  target: string
  ctx: RecipeContext
  log: string
  exit: string
  state: string
  reason: string
  offset: number
  partial: string
  lastLine: string
  progress: string
  missing: number
  sawMarker: boolean
  cancelling: boolean
  /** The job is over (terminal state) or given up on; `error` set: fail with it. */
  finish: (r: { state: string; error?: string }) => void
}

export class SlurmExecutor implements Executor {
  readonly name: string
  readonly runId: string
  /** Status queries made (one per tick, whatever the number of jobs). */
  queries = 0
  private readonly jobs = new Map<string, Job>()
  private readonly settled = new Set<Promise<unknown>>()
  private timer: NodeJS.Timeout | undefined
  private logTimer: NodeJS.Timeout | undefined
  private delay: number
  private failures = 0
  private querying = false
  private toCancel = new Set<string>()
  private cancelTimer: NodeJS.Timeout | undefined
  private closed = false

  constructor(private readonly o: SlurmExecutorOptions) {
    this.name = o.name
    this.runId = o.runId ?? randomBytes(4).toString('hex')
    this.delay = this.min
  }

  get jobName(): string {
    return `auton-${this.runId}`
  }

  /** <root>/.auton/staging/<run>: one farm and its job files per target. */
  get stagingDir(): string {
    return join(this.o.root, '.auton', 'staging', this.runId)
  }

  private get min(): number {
    return this.o.pollMinMs ?? 1000
  }

  async run(n: Node, ctx: RecipeContext): Promise<RecipeResult | void> {
    const recipe = n.decl.recipe
    if (!recipe) return
    if (ctx.signal.aborted) throw new Error('cancelled')
    const base = join(this.stagingDir, slug(n.name))
    const f = { farm: base, script: `${base}.sbatch`, recipe: `${base}.sh`, log: `${base}.out`, exit: `${base}.exit`, result: `${base}.result.json` }
    const removeStaging = () => {
      for (const p of Object.values(f)) rmSync(p, { recursive: true, force: true })
    }
    removeStaging() // a retry of the same target in the same run starts clean
    mkdirSync(this.stagingDir, { recursive: true })
    makeFarm(ctx.cwd, f.farm, ctx.outputs)
    const env: Record<string, string> = {}
    for (const [k, v] of Object.entries(ctx.env)) if (v !== undefined) env[k] = v
    env.PATH ??= process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'
    writeFileSync(f.recipe, recipeText(n, ctx, f, this.o.autonfile) + '\n')
    writeFileSync(f.script, jobScript(n, f, Object.keys(env), n.decl.secrets))
    let id: string | undefined
    const work = (async () => {
      const asked = [...this.placement(), ...resourceArgs(n.decl.resources), ...this.o.settings.sbatch_args]
      const args = [
        '--parsable', `--job-name=${this.jobName}`, `--output=${f.log}`, `--chdir=${f.farm}`,
        '--export=ALL', '--no-requeue', ...asked, f.script,
      ]
      const sub = await this.command('sbatch', args, { ...this.clientExtras(), ...env })
      if (sub.code !== 0) {
        const said = sub.stderr.trim().split('\n').filter(Boolean).map((l) => l.replace(/^sbatch: error: /, '')).join('; ')
        throw new Error(`SLURM refused the job for '${n.name}': ${said || `sbatch exited with ${sub.code}`} (sbatch ${asked.join(' ') || 'with defaults'})`)
      }
      id = sub.stdout.trim().split(';')[0]
      if (!/^\d+(_\d+)?$/.test(id)) throw new Error(`sbatch --parsable printed '${sub.stdout.trim()}', not a job id`)
      noteJob(this.o.root, this.runId, id, n.name)
      ctx.log(`# slurm: job ${id} (${this.jobName}) on ${this.name}: sbatch ${asked.join(' ') || '(defaults)'}\n`)
      ctx.progress(`slurm job ${id} submitted`)
      const end = await this.watch(id, n.name, ctx, f)
      if (ctx.signal.aborted || this.closed) throw new Error('cancelled')
      if (end.error) throw new Error(end.error)
      const status = readMarker(f.exit, id)
      if (end.state !== 'COMPLETED' || status !== 0) {
        throw new Error(await this.failure(id, n.name, end.state, status, f.log))
      }
      const missing = missingOutputs(f.farm, ctx.outputs)
      if (missing.length) {
        throw new Error(`slurm job ${id} COMPLETED but did not produce ${missing.map((m) => `'${m}'`).join(', ')} (in its staging directory)`)
      }
      moveOutputs(f.farm, ctx.cwd, ctx.outputs)
      return existsSync(f.result) ? (JSON.parse(readFileSync(f.result, 'utf8')) as RecipeResult) : undefined
    })()
    const done = work.finally(() => {
      if (id) noteJob(this.o.root, this.runId, id, undefined)
      removeStaging()
    })
    const tracked = done.catch(() => {})
    this.settled.add(tracked)
    void tracked.finally(() => this.settled.delete(tracked))
    return done
  }

  /** Cancel every job still alive in one scancel, wait (bounded), remove staging. */
  async close(): Promise<void> {
    this.closed = true
    for (const j of this.jobs.values()) if (!j.cancelling) this.requestCancel(j, 0)
    if (this.cancelTimer) clearTimeout(this.cancelTimer)
    await this.flushCancel() // everything still queued, in one scancel
    const wait = this.o.cancelWaitMs ?? 5000
    await Promise.race([Promise.all([...this.settled]), sleep(wait + 500)])
    this.stop()
    rmSync(this.stagingDir, { recursive: true, force: true })
    dropRun(this.o.root, this.runId)
  }

  // ── watching ─────────────────────────────────────────────────────────────────────────

  private watch(id: string, target: string, ctx: RecipeContext, f: { log: string; exit: string }): Promise<{ state: string; error?: string }> {
    return new Promise((resolve) => {
      const job: Job = {
        id, target, ctx, log: f.log, exit: f.exit, state: 'SUBMITTED', reason: '', offset: 0, partial: '', lastLine: '',
        progress: '', missing: 0, sawMarker: false, cancelling: false,
        finish: (r) => {
          if (!this.jobs.has(id)) return
          this.jobs.delete(id)
          ctx.signal.removeEventListener('abort', onAbort)
          this.readLog(job, true)
          if (this.jobs.size === 0) this.stop()
          resolve(r)
        },
      }
      const onAbort = () => this.requestCancel(job)
      this.jobs.set(id, job)
      ctx.signal.addEventListener('abort', onAbort, { once: true })
      if (ctx.signal.aborted) this.requestCancel(job)
      this.schedule(this.min) // a new job is a change
      this.logTimer ??= setInterval(() => this.tailLogs(), 1000)
    })
  }

  private schedule(ms: number): void {
    if (this.timer) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
    if (this.jobs.size === 0) return
    this.delay = ms
    this.timer = setTimeout(() => void this.tick(), ms)
  }

  /** One squeue for every job of the run; update states, finish the ones that are over. */
  private async tick(): Promise<void> {
    this.timer = undefined
    if (this.jobs.size === 0) return
    if (this.querying) return this.schedule(this.min) // never two squeue calls at once
    this.queries++
    this.querying = true
    const q = await this.command('squeue', ['-h', '--states=all', `--name=${this.jobName}`, '-o', '%i|%T|%r'], this.clientExtras())
    this.querying = false
    if (q.code !== 0) {
      this.failures++
      const msg = q.stderr.trim() || `squeue exited with ${q.code}`
      if (this.failures >= 20) {
        for (const j of [...this.jobs.values()]) j.finish({ state: 'UNKNOWN', error: `slurm job ${j.id}: lost contact with the controller (${msg})` })
        return
      }
      this.o.emit?.({ type: 'warning', message: `squeue failed (${this.failures}x), retrying: ${msg}`, at: Date.now() })
      this.schedule(Math.min(this.o.pollMaxMs ?? 30_000, this.delay * 2))
      return
    }
    this.failures = 0
    const rows = new Map<string, { state: string; reason: string }>()
    for (const line of q.stdout.split('\n')) {
      const [id, state, reason] = line.trim().split('|')
      if (id && state) rows.set(id, { state: state.replace(/\+$/, ''), reason: reason ?? '' })
    }
    let changed = false
    for (const j of [...this.jobs.values()]) {
      const row = rows.get(j.id)
      if (!row) {
        // purged (MinJobAge) between two ticks, or not yet visible: the marker decides
        if (++j.missing >= 3 || j.sawMarker) {
          const status = readMarker(j.exit, j.id)
          j.finish({ state: status === 0 ? 'COMPLETED' : 'FAILED' })
          changed = true
        }
        continue
      }
      j.missing = 0
      if (row.state !== j.state || row.reason !== j.reason) {
        changed = true
        j.state = row.state
        j.reason = row.reason
        j.ctx.log(`# slurm: job ${j.id} ${row.state}${row.reason && row.reason !== 'None' ? ` (${row.reason})` : ''}\n`)
        this.showProgress(j)
      }
      if (TERMINAL.has(row.state)) {
        j.finish({ state: row.state })
      } else if (row.state === 'PENDING' && NEVER.test(row.reason) && !j.cancelling) {
        this.requestCancel(j)
        j.finish({ state: row.state, error: `slurm job ${j.id} for '${j.target}' can never start: SLURM says ${row.reason} (cancelled it; check the target's resources and [executors.${this.name}])` })
      }
    }
    this.schedule(changed ? this.min : Math.min(this.o.pollMaxMs ?? 30_000, Math.round(this.delay * 1.5)))
  }

  /** Every second: append new job output to each target's log; a marker means "query soon". */
  private tailLogs(): void {
    for (const j of this.jobs.values()) {
      this.readLog(j, false)
      if (!j.sawMarker && existsSync(j.exit)) {
        j.sawMarker = true
        this.schedule(200) // the recipe is over: SLURM will say so in a moment
      }
    }
  }

  private readLog(j: Job, last: boolean): void {
    let fd: number
    try {
      fd = openSync(j.log, 'r')
    } catch {
      return
    }
    try {
      const size = fstatSync(fd).size
      if (size <= j.offset) return
      const buf = Buffer.alloc(Math.min(size - j.offset, 1 << 20))
      const got = readSync(fd, buf, 0, buf.length, j.offset)
      j.offset += got
      const text = buf.subarray(0, got).toString('utf8')
      j.ctx.log(text)
      j.partial += text
      const lines = j.partial.split('\n')
      j.partial = last ? '' : lines.pop()!
      for (const l of lines) {
        if (l.startsWith('auton:progress ')) j.progress = formatProgress(l.slice('auton:progress '.length))
        else if (l.trim()) j.lastLine = l.trim()
      }
      if (lines.length) this.showProgress(j)
    } finally {
      closeSync(fd)
    }
  }

  private showProgress(j: Job): void {
    const detail = j.progress || (j.lastLine.length > 80 ? j.lastLine.slice(0, 79) + '…' : j.lastLine)
    j.ctx.progress(`slurm job ${j.id} ${j.state}${j.state === 'PENDING' && j.reason ? ` (${j.reason})` : ''}${detail ? ` · ${detail}` : ''}`)
  }

  private stop(): void {
    if (this.timer) clearTimeout(this.timer)
    if (this.logTimer) clearInterval(this.logTimer)
    this.timer = this.logTimer = undefined
  }

  // ── cancelling ───────────────────────────────────────────────────────────────────────

  /** Queue a job for the next scancel; cancellations within `debounceMs` share one call. */
  private requestCancel(j: Job, debounceMs = 25): void {
    if (j.cancelling) return
    j.cancelling = true
    this.toCancel.add(j.id)
    if (debounceMs === 0) return // close() flushes at once
    this.cancelTimer ??= setTimeout(() => void this.flushCancel(), debounceMs)
  }

  private async flushCancel(): Promise<void> {
    this.cancelTimer = undefined
    const ids = [...this.toCancel]
    this.toCancel.clear()
    if (ids.length === 0) return
    const r = await this.command('scancel', ids, this.clientExtras())
    if (r.code !== 0) this.o.emit?.({ type: 'warning', message: `scancel ${ids.join(' ')} failed: ${r.stderr.trim()}`, at: Date.now() })
    const wait = this.o.cancelWaitMs ?? 5000
    for (const id of ids) {
      const j = this.jobs.get(id)
      if (!j) continue
      j.ctx.log(`# slurm: cancelled job ${id}\n`)
      setTimeout(() => j.finish({ state: 'CANCELLED', error: 'cancelled' }), wait).unref()
    }
    // the job is being killed: its half-made outputs go now, its log stays for the tail
    for (const id of ids) {
      const j = this.jobs.get(id)
      if (j) rmSync(j.log.replace(/\.out$/, ''), { recursive: true, force: true })
    }
    this.schedule(300)
  }

  // ── helpers ──────────────────────────────────────────────────────────────────────────

  private placement(): string[] {
    const s = this.o.settings
    return [
      ...(s.partition ? [`--partition=${s.partition}`] : []),
      ...(s.account ? [`--account=${s.account}`] : []),
      ...(s.qos ? [`--qos=${s.qos}`] : []),
    ]
  }

  /** What sbatch and squeue need to find the cluster, from the environment auton runs in. */
  private clientExtras(): Record<string, string> {
    const src = this.o.clientEnv ?? process.env
    const out: Record<string, string> = { PATH: src.PATH ?? '/usr/local/bin:/usr/bin:/bin' }
    for (const [k, v] of Object.entries(src)) {
      if (v !== undefined && (k === 'SLURM_CONF' || k.startsWith('SBATCH_') || k === 'SLURM_CLUSTERS')) out[k] = v
    }
    return out
  }

  private async failure(id: string, target: string, state: string, status: number | undefined, log: string): Promise<string> {
    let code = status !== undefined ? `the recipe exited with ${status}` : ''
    if (status === undefined) {
      const s = await this.command('scontrol', ['show', 'job', '-o', id], this.clientExtras())
      const m = /ExitCode=(\d+:\d+)/.exec(s.stdout)
      code = state === 'COMPLETED'
        ? `SLURM says COMPLETED${m ? ` ${m[1]}` : ''} but the job never recorded the recipe's exit status: not trusting it`
        : `no exit status recorded${m ? `, SLURM exit code ${m[1]}` : ''}`
    }
    const why = WHY[state] ? `: ${WHY[state]}` : ''
    return `slurm job ${id} for '${target}' ${state}${why}; ${code}${tailOf(log)}`
  }

  private command(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(cmd, args, { env, timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 127) : 0
        resolve({ code, stdout: String(stdout), stderr: String(stderr) || (err && code === 127 ? `${cmd}: ${err.message}` : '') })
      })
    })
  }
}

/** resources → sbatch flags; throws on a value SLURM would misread. */
export function resourceArgs(r: Resources): string[] {
  const out: string[] = []
  if (r.cpus !== undefined) {
    if (!Number.isInteger(r.cpus) || r.cpus < 1) throw new Error(`resources.cpus must be a positive integer, got ${r.cpus}`)
    out.push(`--cpus-per-task=${r.cpus}`)
  }
  if (r.mem !== undefined) {
    const m = /^(\d+)\s*([KMGT])?i?B?$/i.exec(String(r.mem).trim())
    if (!m) throw new Error(`resources.mem must look like '500M' or '32G', got '${r.mem}'`)
    out.push(`--mem=${m[1]}${(m[2] ?? 'M').toUpperCase()}`)
  }
  if (r.gpus !== undefined) {
    if (!Number.isInteger(r.gpus) || r.gpus < 0) throw new Error(`resources.gpus must be a non-negative integer, got ${r.gpus}`)
    if (r.gpus > 0) out.push(`--gpus=${r.gpus}`)
  }
  if (r.time !== undefined) out.push(`--time=${slurmTime(r.time)}`)
  return out
}

/** '2h' → '120', '30m' → '30', '90s' → '2', '1d' → '1440'; SLURM's own forms pass through. */
export function slurmTime(t: string): string {
  const s = String(t).trim()
  if (/^(\d+-)?\d+(:\d+){0,2}$/.test(s)) return s
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|min|h|d)$/.exec(s)
  if (!m) throw new Error(`resources.time must look like '30m', '2h', '1d' or SLURM's '01:30:00', got '${t}'`)
  const minutes = Number(m[1]) * { s: 1 / 60, m: 1, min: 1, h: 60, d: 1440 }[m[2] as 's' | 'm' | 'min' | 'h' | 'd']
  return String(Math.max(1, Math.ceil(minutes)))
}

/** What the job sources: the `sh` command's text, or auton re-entered for a function recipe. */
function recipeText(n: Node, ctx: RecipeContext, f: { farm: string; result: string }, autonfile: string): string {
  const r = n.decl.recipe!
  const km = r.keyMaterial()
  if (r.kind === 'sh' && km.startsWith('sh:')) return km.slice(3)
  return `exec ${q(process.execPath)} ${q(AUTON_BIN)} exec-target ${q(n.name)} -f ${q(autonfile)} --cwd ${q(f.farm)} --result ${q(f.result)}`
}

/**
 * The batch script. It names the variables the recipe may see (values come from sbatch's
 * environment), runs the recipe in the farm as `sh` recipes run locally, masks secrets in what
 * it prints, and writes "<job id> <exit status>" to the marker after the recipe.
 */
function jobScript(n: Node, f: { farm: string; recipe: string; exit: string }, keep: string[], secrets: string[]): string {
  const valid = (v: string) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(v)
  const names = keep.filter(valid)
  const mask = secrets.filter(valid).length
    ? ` | awk -v names=${q(secrets.filter(valid).join(' '))} '${MASK_AWK}'`
    : ''
  return `#!/bin/bash
# auton: target ${JSON.stringify(n.name)}, written by lib/executors/slurm.ts. No value is in this file.
keep=' ${names.join(' ')} '
(
  for v in $(compgen -e); do
    case "$v" in SLURM_*|CUDA_VISIBLE_DEVICES|GPU_DEVICE_ORDINAL|ROCR_VISIBLE_DEVICES|HIP_VISIBLE_DEVICES) continue ;; esac
    case "$keep" in *" $v "*) ;; *) unset "$v" ;; esac
  done
  unset v keep
  # OpenMP programs use the CPUs the job was given, not every core of the node
  if [ -n "\${SLURM_CPUS_PER_TASK:-}" ] && [ -z "\${OMP_NUM_THREADS+x}" ]; then export OMP_NUM_THREADS=$SLURM_CPUS_PER_TASK; fi
  cd -- ${q(f.farm)} || exit 126
  set -euo pipefail
  . ${q(f.recipe)}
) </dev/null 2>&1${mask}
status=\${PIPESTATUS[0]}
printf '%s %s\\n' "$SLURM_JOB_ID" "$status" > ${q(f.exit + '.tmp')} && mv -f ${q(f.exit + '.tmp')} ${q(f.exit)}
exit "$status"
`
}

/** Replace each secret's value (read from the environment, never from a file) by ***. */
const MASK_AWK = `BEGIN { n = split(names, k, " "); m = 0; for (i = 1; i <= n; i++) if (ENVIRON[k[i]] != "") s[++m] = ENVIRON[k[i]] }
{ line = $0; for (i = 1; i <= m; i++) { out = ""; while ((p = index(line, s[i])) > 0) { out = out substr(line, 1, p - 1) "***"; line = substr(line, p + length(s[i])) } line = out line } print line; fflush() }`

/** The recipe's exit status from the marker, if the marker is this job's. */
function readMarker(file: string, id: string): number | undefined {
  try {
    const [jid, status] = readFileSync(file, 'utf8').trim().split(/\s+/)
    return jid === id && /^\d+$/.test(status) ? Number(status) : undefined
  } catch {
    return undefined
  }
}

function tailOf(log: string): string {
  const t = logTail(log, 15)
  return t ? `\n--- last lines of the job's output:\n${t}` : ''
}

function slug(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_')
}

function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref())
}
