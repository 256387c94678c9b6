// execute.ts — run one target's recipe on its executor, check what it made, record it.
//
// Invariants (what a later build may trust):
//   - before the recipe runs, its record is dropped (State.forget) and its declared outputs
//     are deleted, so an interrupted or failed run leaves nothing a later build trusts;
//   - a record is written only after every declared output exists and has been hashed;
//   - mutation guard: the inputs (and code) hashed for the key are hashed again after the
//     recipe; if one changed while it ran, the outputs may come from the new content under
//     the old content's key, so nothing is recorded or cached (the next build reruns it);
//   - secrets are masked in everything the recipe prints (mask.ts), and never recorded.
// Once the recipe has succeeded and its outputs are there, its -j slot is given back
// (RunRequest.release, from scheduler.ts) and the next ready target starts while this one is recorded.

import { appendFileSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { Node } from './graph.js'
import type { State, TargetRecord } from './state.js'
import type { AutonConfig } from './config.js'
import type { Emit } from './events.js'
import type { Budget, RecipeContext, Usage } from './recipe.js'
import type { Executor } from './executor.js'
import { fullKeyOf, hashedFiles, type Parts } from './key.js'
import { readDepfile } from './depfile.js'
import { createMasker, type Masker } from './mask.js'

export class OutputMissing extends Error {}

export interface RunRequest {
  root: string
  key: string
  parts: Parts
  reasons: string[]
  state: State
  executor: Executor
  env: Record<string, string>
  config: AutonConfig
  budget: Budget
  signal: AbortSignal
  emit: Emit
  /** Give the -j slot back once the recipe is done (scheduler.ts): the bookkeeping after it needs none. */
  release?: () => void
}

export interface RunResult {
  /** Undefined when the mutation guard refused to record the result. */
  rec?: TargetRecord
  usage?: Usage
  /** Inputs that changed while the recipe ran. */
  mutated: string[]
  /** Whether anything was written to the target's log. */
  logged?: boolean
}

/**
 * The target's log, .auton/logs/<target>.log: replaced by each run, created on the first line
 * written (most recipes of a large graph print nothing: no file per target for them).
 */
class Log {
  opened = false
  constructor(readonly path: string, private readonly header: string) {
    removeFile(path)
  }
  write(text: string): void {
    if (!text) return
    if (!this.opened) {
      mkdirSync(dirname(this.path), { recursive: true })
      writeFileSync(this.path, this.header + text)
      this.opened = true
    } else appendFileSync(this.path, text)
  }
}

export async function runTarget(n: Node, r: RunRequest): Promise<RunResult> {
  const release = r.release
  const usage: Usage = { inputTokens: 0, outputTokens: 0, costUsd: 0, calls: 0 }
  const attempts = n.decl.retries + 1
  const masker = createMasker(n.decl.secrets.map((s) => r.env[s]).filter((v): v is string => v !== undefined))
  const log = new Log(r.state.logPath(n.name), masker.mask(`# ${n.name}: ${n.decl.recipe!.describe()}\n# why: ${r.reasons.join('; ')}\n`))
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await runOnce(n, r, log, masker, release)
      if (res.usage) addUsage(usage, res.usage)
      return { ...res, usage, logged: log.opened }
    } catch (e) {
      const spent = (e as { usage?: Usage }).usage // a paid step that failed still spent money
      if (spent) addUsage(usage, spent)
      if (attempt >= attempts || r.signal.aborted) throw Object.assign(e as Error, { usage })
      const msg = `attempt ${attempt} of ${attempts} failed: ${(e as Error).message}; retrying`
      log.write(`\n# ${masker.mask(msg)}\n`)
      r.emit({ type: 'progress', name: n.name, message: msg, at: Date.now() })
    }
  }
}

export function addUsage(to: Usage, u: Usage): void {
  to.inputTokens += u.inputTokens
  to.outputTokens += u.outputTokens
  to.costUsd += u.costUsd
  to.calls += u.calls
}

async function runOnce(n: Node, r: RunRequest, log: Log, masker: Masker, release?: () => void): Promise<Omit<RunResult, 'usage'> & { usage?: Usage }> {
  const { root, state } = r
  const d = n.decl
  const recipe = d.recipe!
  state.forget(n.name)
  removeOutputs(n, r)
  for (const o of d.outputs) ensureDir(dirname(join(root, o)))
  r.emit({ type: 'start', name: n.name, kind: recipe.kind, describe: masker.mask(recipe.describe()), pool: d.pool, at: Date.now() })
  const began = Date.now()
  const ctx: RecipeContext = {
    name: n.name,
    cwd: root,
    inputs: [...n.sources, ...n.upstreamFiles],
    outputs: [...d.outputs],
    params: d.params,
    env: r.env,
    config: r.config,
    signal: r.signal,
    log: (text) => log.write(masker.write(text)),
    progress: (message) => r.emit({ type: 'progress', name: n.name, message: masker.mask(message), at: Date.now() }),
    budget: r.budget,
  }
  // a recipe may read the journal (provenance of its inputs: the GGUF export, `auton
  // provenance` in a command, a cluster job): it sees every record made before it started
  state.flush()
  try {
    const result = (await r.executor.run(n, ctx)) ?? {}
    log.write(masker.flush())
    if (r.signal.aborted) throw new Error('cancelled')
    const outputs: Record<string, string> = {}
    const missing: string[] = []
    for (const o of d.outputs) {
      state.stat.invalidate(join(root, o))
      const h = state.stat.hash(join(root, o)) // undefined: not there
      if (h === undefined) missing.push(o)
      else outputs[o] = h
    }
    if (missing.length) {
      throw new OutputMissing(`the recipe succeeded but did not produce ${missing.map((m) => `'${m}'`).join(', ')}`)
    }
    release?.() // the recipe is done and cannot fail any more (no retry follows): the rest is bookkeeping
    const mutated = changedInputs(r.parts, root, state)
    if (mutated.length) return { mutated, usage: result.usage }
    const found = new Set<string>(result.discoveredInputs ?? [])
    if (d.depfile && existsSync(join(root, d.depfile))) for (const p of readDepfile(join(root, d.depfile), root)) found.add(p)
    const declared = new Set(ctx.inputs)
    const discovered: Record<string, string> = {}
    for (const p of [...found].sort()) {
      if (declared.has(p)) continue
      const h = state.stat.hash(p.startsWith('/') ? p : join(root, p))
      if (h !== undefined) discovered[p] = h
    }
    const rec: TargetRecord = {
      name: n.name, key: r.key, fullKey: fullKeyOf(r.key, discovered), parts: r.parts, outputs, discovered,
      ms: Date.now() - began, via: 'ran', at: Date.now(),
    }
    state.record(rec)
    return { rec, mutated: [], usage: result.usage }
  } catch (e) {
    log.write(masker.flush())
    removeOutputs(n, r) // leave nothing half-made behind
    const err = e as Error
    err.message = masker.mask(err.message)
    log.write(`\n# failed: ${err.message}\n`)
    throw err
  }
}

function removeOutputs(n: Node, r: RunRequest): void {
  for (const o of n.decl.outputs) {
    const p = join(r.root, o)
    if (!removeFile(p)) rmSync(p, { recursive: true, force: true }) // a directory output
    r.state.stat.invalidate(p)
  }
}

/**
 * Remove a file or a symlink; true when nothing is left at `p`, false when it is a directory
 * (left to rmSync). A missing path, the usual case, costs one lstat and no exception (rmSync
 * costs three syscalls, and a failed unlinkSync builds an Error with its stack).
 */
function removeFile(p: string): boolean {
  const st = lstatSync(p, { throwIfNoEntry: false })
  if (!st) return true
  if (st.isDirectory()) return false
  try {
    unlinkSync(p)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e // gone meanwhile: fine
  }
  return true
}

/**
 * Before the first recipe of a build: create the output directories of targets that have no
 * record (they will run or be restored) and look each of their outputs up once, while no
 * recipe is creating files. Why: removeOutputs' lookup of a name that is not there yet (the
 * usual case in a fresh build) waits for its directory's lock while other recipes create files
 * in it; once looked up, the kernel remembers the name is absent (a negative dentry) and later
 * lookups answer without the lock. Nothing is removed here: removeOutputs still looks before
 * each recipe. Measured on a 10,000-target fresh build: 1.3 s less wall time (3 runs each).
 */
export function lookUpOutputs(nodes: Iterable<Node>, root: string): void {
  const dirs = new Set<string>()
  for (const n of nodes) {
    for (const o of n.decl.outputs) {
      const p = join(root, o)
      const dir = dirname(p)
      try {
        if (!dirs.has(dir)) {
          dirs.add(dir)
          ensureDir(dir)
        }
        lstatSync(p, { throwIfNoEntry: false })
      } catch {
        // a file where a directory should be: the target's own run reports it
      }
    }
  }
}

/** mkdir -p, with one stat when the directory is already there (the usual case). */
function ensureDir(dir: string): void {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) mkdirSync(dir, { recursive: true })
}

/** The key's inputs and code whose content is not what the key was computed from any more. */
function changedInputs(parts: Parts, root: string, state: State): string[] {
  const changed: string[] = []
  for (const [p, h] of hashedFiles(parts)) {
    const abs = p.startsWith('/') ? p : join(root, p)
    if ((state.stat.rehash(abs) ?? '(missing)') !== h) changed.push(p)
  }
  return changed
}

export function logTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return ''
  }
}
