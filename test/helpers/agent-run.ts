// agent-run.ts — run a declared target's recipe the way the engine does (a RecipeContext
// with the project as cwd and the log under .auton/logs/), without the scheduler.

import { appendFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { createBudget } from '../../lib/budget.js'
import { loadConfig, type AutonConfig } from '../../lib/config.js'
import { isHandleLike, registry } from '../../lib/dsl.js'
import type { Budget, RecipeContext, RecipeResult } from '../../lib/recipe.js'

export interface RunOptions {
  config?: AutonConfig
  budget?: Budget
  signal?: AbortSignal
}

export async function runTarget(dir: string, name: string, o: RunOptions = {}): Promise<RecipeResult> {
  const t = registry().targets.find((d) => d.name === name)
  if (!t?.recipe) throw new Error(`no target '${name}' with a recipe was declared`)
  const inputs = t.inputs.flatMap((i) => (isHandleLike(i) ? [...i.outputs] : [i]))
  mkdirSync(join(dir, '.auton/logs'), { recursive: true })
  const ctx: RecipeContext = {
    name,
    cwd: dir,
    inputs,
    outputs: t.outputs,
    params: t.params,
    env: {},
    config: o.config ?? loadConfig(dir),
    signal: o.signal ?? new AbortController().signal,
    log: (s) => appendFileSync(join(dir, `.auton/logs/${name}.log`), s),
    progress: () => {},
    budget: o.budget ?? createBudget(undefined),
  }
  return (await t.recipe.run(ctx)) ?? {}
}
