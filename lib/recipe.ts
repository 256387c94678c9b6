// recipe.ts — the seam between the engine and what a target runs.
//
// The engine knows one interface: a Recipe gives the text that enters the target's key
// and an async run(). `sh` commands, plain TS functions and agent steps all implement it,
// so a new kind of step never touches the scheduler.

import type { AutonConfig } from './config.js'

/** Usage reported by a recipe that spends money (agent steps). */
export interface Usage {
  inputTokens: number
  outputTokens: number
  costUsd: number
  calls: number
}

/** What a recipe may hand back to the engine. */
export interface RecipeResult {
  usage?: Usage
  /** Extra inputs discovered while running (e.g. headers from a gcc depfile). */
  discoveredInputs?: string[]
}

/** The budget shared by every paid step of one build. */
export interface Budget {
  readonly limitUsd: number | undefined
  spentUsd(): number
  /**
   * Hold back the most a call could cost before making it; throws BudgetExceeded if what is
   * spent plus what other running steps hold plus `usd` would pass the limit. Steps running in
   * parallel therefore cannot overshoot together.
   */
  reserve(usd: number, what: string): Reservation
}

export interface Reservation {
  /** The call happened: replace the hold by what it really cost. */
  settle(usage: Usage): void
  /** The call never happened (or failed without a bill): give the hold back. */
  release(): void
}

export interface RecipeContext {
  /** Target name. */
  name: string
  /** Project root; every path below is relative to it. */
  cwd: string
  /** Resolved input files (sources and upstream outputs), in declaration order. */
  inputs: string[]
  /** Declared outputs. */
  outputs: string[]
  params: Record<string, unknown>
  /**
   * The recipe's whole environment: the pass-through set (PATH, HOME, …, [build] pass_env),
   * its passEnv, its declared env and its secrets. `sh` commands see exactly this; function
   * recipes should pass it to the processes they start.
   */
  env: Record<string, string>
  config: AutonConfig
  signal: AbortSignal
  /** Append to the target's log (.auton/logs/<name>.log). */
  log(text: string): void
  /** Set the live status line of this target ("step 120/2000 loss 3.1"). */
  progress(message: string): void
  budget: Budget
}

export interface Recipe {
  /** 'sh' | 'fn' | 'agent' | … — shown in logs and `explain`. */
  readonly kind: string
  /** Everything about the recipe that must change the key when it changes. */
  keyMaterial(): string
  /** Human-readable one-liner for logs and --dry-run. */
  describe(): string
  /** Function recipes: the module that defines it and its body, whose imports enter the key (code-deps.ts). */
  readonly code?: { module: string; body: string }
  run(ctx: RecipeContext): Promise<RecipeResult | void>
}

export function isRecipe(x: unknown): x is Recipe {
  return typeof x === 'object' && x !== null && typeof (x as Recipe).run === 'function' &&
    typeof (x as Recipe).keyMaterial === 'function'
}
