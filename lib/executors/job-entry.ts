// job-entry.ts — `auton exec-target <name> --cwd DIR`: one recipe, inside a cluster job.
//
// A function recipe cannot be shipped to a node as text, so the job re-enters auton (as
// Snakemake's SLURM plugin does): load the autonfile, find the target, run its declared
// recipe with a RecipeContext rooted at DIR (the job's staging farm). No engine, no state, no
// cache, no key: the outer auton decided that this runs, and it checks, hashes and stores the
// outputs. Output goes to stdout (the job's log, which the outer auton tails); progress as
// "auton:progress <text>" lines; the RecipeResult (usage, discovered inputs) as JSON to
// --result. Hidden from `auton --help`: only the SLURM executor calls it.

import { parseArgs } from 'node:util'
import { writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { loadConfig } from '../config.js'
import { loadAutonfile } from '../load.js'
import { createBudget } from '../budget.js'
import type { RecipeContext } from '../recipe.js'

export async function execTarget(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { file: { type: 'string', short: 'f' }, cwd: { type: 'string' }, result: { type: 'string' } },
  })
  if (positionals.length !== 1 || !values.cwd) {
    console.error('usage: auton exec-target <target> --cwd DIR [-f AUTONFILE] [--result FILE]')
    return 2
  }
  const file = resolve(values.file ?? 'autonfile.ts')
  const cfg = loadConfig(dirname(file))
  const { graph } = await loadAutonfile(file, cfg)
  const n = graph.nodes.get(positionals[0])
  if (!n?.decl.recipe) {
    console.error(`auton exec-target: ${file} declares no target '${positionals[0]}' with a recipe`)
    return 2
  }
  const cwd = resolve(values.cwd)
  process.chdir(cwd)
  const ac = new AbortController()
  process.on('SIGTERM', () => ac.abort())
  // the job's environment is already exactly the recipe's (see slurm.ts)
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v
  const ctx: RecipeContext = {
    name: n.name,
    cwd,
    inputs: [...n.sources, ...n.upstreamFiles],
    outputs: [...n.decl.outputs],
    params: n.decl.params,
    env,
    config: cfg,
    signal: ac.signal,
    log: (text) => void process.stdout.write(text),
    progress: (message) => void process.stdout.write(`auton:progress ${message}\n`),
    budget: createBudget(cfg.agents.budget_usd),
  }
  try {
    const result = (await n.decl.recipe.run(ctx)) ?? {}
    if (values.result) writeFileSync(values.result, JSON.stringify(result))
    return 0
  } catch (e) {
    console.error(`auton exec-target ${n.name}: ${(e as Error).stack ?? e}`)
    return 1
  }
}
