// dsl.ts — what an autonfile calls: target(), sh``, fn().
//
// Declaring a target only records it in the registry; the engine builds the graph
// after the whole autonfile has run. The registry lives on globalThis so that the CLI
// and an autonfile that imports 'auton' through a different loader share one instance.

import { closest } from 'fastest-levenshtein'
import { isRecipe, type Recipe } from './recipe.js'
import { shellCommand } from './runners/command.js'
import { functionRecipe } from './runners/function.js'
import type { RecipeContext, RecipeResult } from './recipe.js'

/** What `target()` returns: pass it as another target's input to depend on it. */
export class TargetHandle {
  constructor(readonly name: string, readonly outputs: readonly string[]) {}
  /** In a `sh` command a handle stands for its output path(s). */
  toString(): string {
    return this.outputs.join(' ')
  }
}

/** An input: a file path, a glob (`src/**\/*.c`), or another target's handle. */
export type Input = string | TargetHandle

export interface TargetOptions {
  /** Files, globs and handles this target reads. Handles create the dependency edges. */
  inputs?: Input[]
  /** Files or directories the recipe must produce. Empty for an aggregate target. */
  outputs?: string[]
  /** The recipe: `sh\`...\``, an async function, or an agent step. Omit for an aggregate. */
  run?: Recipe | ((ctx: RecipeContext) => Promise<RecipeResult | void> | RecipeResult | void)
  /** Concurrency pool (limits in auton.toml `[pools]`); `-j` still caps the total. */
  pool?: string
  /** Environment variables whose values enter the key and reach the recipe. */
  env?: string[]
  /**
   * Variables that reach the recipe without entering the key (e.g. `SSH_AUTH_SOCK`): use only
   * for values that cannot change the outputs. Everything else not declared never reaches it.
   */
  passEnv?: string[]
  /**
   * Secrets (e.g. `'HF_TOKEN'`): reach the recipe, never enter the key, a log, the cache or the
   * trace, and are masked as *** in what the recipe prints.
   */
  secrets?: string[]
  /** Where the recipe runs: 'local' (default) or an executor from auton.toml `[executors.<name>]`. */
  executor?: string
  /** What the recipe needs on an executor that allocates (SLURM: --cpus-per-task, --mem, --gpus, --time). */
  resources?: Resources
  /** Run a failed recipe again up to this many times (the reason goes into the log). Default 0. */
  retries?: number
  /** JSON-serialisable parameters; they enter the key and reach the recipe as `ctx.params`. */
  params?: Record<string, unknown>
  /** Commands whose identity enters the key, e.g. `'gcc --version'`. */
  tools?: string[]
  /** A gcc-style depfile the recipe writes; the files it lists become discovered inputs. */
  depfile?: string
  /** Build this target when `auton build` names none. */
  default?: boolean
  /** One line for `auton list`. */
  description?: string
}

export interface Resources {
  cpus?: number
  /** e.g. '32G', '500M' */
  mem?: string
  gpus?: number
  /** e.g. '2h', '30m', '01:30:00' */
  time?: string
}

export interface TargetDecl {
  name: string
  inputs: Input[]
  outputs: string[]
  recipe: Recipe | undefined
  pool: string | undefined
  env: string[]
  passEnv: string[]
  secrets: string[]
  executor: string
  resources: Resources
  retries: number
  params: Record<string, unknown>
  tools: string[]
  depfile: string | undefined
  isDefault: boolean
  description: string | undefined
  /** "file:line" of the target() call, for error messages. */
  site: string
}

export interface Registry {
  targets: TargetDecl[]
}

const REGISTRY = Symbol.for('auton.registry')

export function registry(): Registry {
  const g = globalThis as { [REGISTRY]?: Registry }
  return (g[REGISTRY] ??= { targets: [] })
}

/** Empty the registry before loading an autonfile (watch mode reloads it). */
export function resetRegistry(): void {
  registry().targets = []
}

const TARGET_OPTIONS = [
  'inputs', 'outputs', 'run', 'pool', 'env', 'passEnv', 'secrets', 'executor', 'resources', 'retries', 'params', 'tools',
  'depfile', 'default', 'description',
] as const satisfies readonly (keyof TargetOptions)[]
const RESOURCES = ['cpus', 'mem', 'gpus', 'time'] as const satisfies readonly (keyof Resources)[]

/** Declare a target. Its name may be its output's name (`kernel.elf`) or a stage (`tokenizer`). */
export function target(name: string, opts: TargetOptions): TargetHandle {
  return declare(name, opts, captureCallSite())
}

/** target() for the DSL's own wrappers (agent()): `where` is their caller's site. */
export function declare(name: string, opts: TargetOptions, where: Error): TargetHandle {
  if (typeof name !== 'string' || name === '') throw new Error(`${callSite(where)}: target() needs a non-empty name`)
  checkOptions(`target '${name}'`, opts, TARGET_OPTIONS, where)
  if (opts.resources !== undefined) checkOptions(`target '${name}': resources`, opts.resources, RESOURCES, where)
  for (const k of ['env', 'passEnv', 'secrets', 'tools'] as const) {
    const v = opts[k]
    if (v !== undefined && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))) {
      throw new Error(`${callSite(where)}: target '${name}': ${k} takes a list of strings, got ${JSON.stringify(v)}`)
    }
  }
  if (opts.retries !== undefined && !(Number.isInteger(opts.retries) && opts.retries >= 0)) {
    throw new Error(`${callSite(where)}: target '${name}': retries must be a whole number ≥ 0, got ${JSON.stringify(opts.retries)}`)
  }
  const run = opts.run
  let recipe: Recipe | undefined
  if (run === undefined) recipe = undefined
  else if (isRecipe(run)) recipe = run
  else if (typeof run === 'function') recipe = functionRecipe(run, '', callerFile(where))
  else throw new Error(`${callSite(where)}: target '${name}': run must be sh\`...\`, a function or an agent step`)
  // a function has no readable one-liner of its own: logs show the target's description
  if (recipe?.kind === 'fn' && opts.description) recipe = { ...recipe, describe: () => opts.description! }
  for (const i of opts.inputs ?? []) {
    if (typeof i !== 'string' && !(i instanceof TargetHandle) && !isHandleLike(i)) {
      throw new Error(`${callSite(where)}: target '${name}': inputs take paths, globs and target handles, got ${JSON.stringify(i)}`)
    }
  }
  const outputs = (opts.outputs ?? []).map(normalise)
  registry().targets.push({
    name,
    inputs: opts.inputs ?? [],
    outputs,
    recipe,
    pool: opts.pool,
    env: opts.env ?? [],
    passEnv: opts.passEnv ?? [],
    secrets: opts.secrets ?? [],
    executor: opts.executor ?? 'local',
    resources: opts.resources ?? {},
    retries: opts.retries ?? 0,
    params: opts.params ?? {},
    tools: opts.tools ?? [],
    depfile: opts.depfile,
    isDefault: opts.default ?? false,
    description: opts.description,
    // formatted on first use: only error messages read it
    get site() {
      return callSite(where)
    },
  })
  return new TargetHandle(name, outputs)
}

/** A handle from another copy of this module (two loaders) still counts as a handle. */
export function isHandleLike(x: unknown): x is TargetHandle {
  return typeof x === 'object' && x !== null && typeof (x as TargetHandle).name === 'string' &&
    Array.isArray((x as TargetHandle).outputs)
}

/**
 * A shell command. Interpolated handles become their output paths, arrays become
 * several words; every interpolated value is shell-quoted. The command text after
 * interpolation is what enters the key.
 */
export function sh(pieces: TemplateStringsArray, ...values: unknown[]): Recipe {
  let text = pieces[0]
  values.forEach((v, i) => {
    text += interpolate(v) + pieces[i + 1]
  })
  return shellCommand(text)
}

/** Wrap an async function as a recipe; `salt` adds to its key (e.g. a version of the code it calls). */
export function fn(
  f: (ctx: RecipeContext) => Promise<RecipeResult | void> | RecipeResult | void,
  salt = '',
): Recipe {
  return functionRecipe(f, salt, callerFile(captureCallSite()))
}

/**
 * Autonfiles load without type checking, so a misspelt option would silently do nothing:
 * refuse it, naming the option, where, and the closest known one.
 */
export function checkOptions(what: string, opts: unknown, known: readonly string[], where: Error): void {
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) {
    throw new Error(`${callSite(where)}: ${what}: options must be an object, got ${JSON.stringify(opts)}`)
  }
  for (const k of Object.keys(opts)) {
    if (known.includes(k)) continue
    throw new Error(`${callSite(where)}: ${what}: unknown option '${k}' (did you mean '${closest(k, [...known])}'?)`)
  }
}

function interpolate(v: unknown): string {
  if (Array.isArray(v)) return v.map(interpolate).join(' ')
  if (isHandleLike(v)) return v.outputs.map(quote).join(' ')
  if (typeof v === 'number') return String(v)
  return quote(String(v))
}

/** Quote only when needed, so the common command text reads as typed. */
export function quote(s: string): string {
  if (/^[A-Za-z0-9_\/.,:=+@%-]+$/.test(s)) return s
  return `'${s.replace(/'/g, `'\\''`)}'`
}

function normalise(p: string): string {
  return p.replace(/^\.\//, '').replace(/\/+$/, '')
}

/**
 * The stack at a target() call. V8 formats a stack only when `.stack` is read, and with
 * 10,000 targets formatting them all was a measurable share of loading the autonfile.
 */
export function captureCallSite(): Error {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 3 // [0] captureCallSite, [1] target(), [2] the caller
  const e = new Error()
  Error.stackTraceLimit = limit
  return e
}

/** "file:line" of the caller recorded by captureCallSite(). */
export function callSite(where: Error): string {
  const m = frame(where)
  return m ? `${m.file}:${m.line}` : 'autonfile'
}

export function callerFile(where: Error): string | undefined {
  return frame(where)?.file
}

function frame(where: Error): { file: string; line: string } | undefined {
  const stack = where.stack?.split('\n') ?? []
  // [0] "Error", [1] captureCallSite, [2] target(), [3] the caller
  const m = /\(?((?:file:\/\/)?[^()\s]+):(\d+):\d+\)?$/.exec(stack[3] ?? '')
  return m ? { file: decodeURIComponent(m[1].replace(/^file:\/\//, '')), line: m[2] } : undefined
}
