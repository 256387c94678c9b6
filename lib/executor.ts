// executor.ts — where a recipe runs.
//
// The engine decides *whether* a target runs (rebuilder.ts) and *when* (scheduler); an
// executor decides *where*. The contract every executor keeps:
//   - run() resolves only when every declared output exists at its path under ctx.cwd;
//     the engine then checks and hashes them before anything trusts them (never the
//     executor's or a scheduler's word alone);
//   - on failure or cancellation (ctx.signal) it rejects and leaves none of the declared
//     outputs in place (staging, then a move, where the outputs are made elsewhere);
//   - ctx.env is the recipe's whole environment (declared env, the pass-through set,
//     passEnv, secrets); an executor may add its own variables (SLURM_JOB_ID), never more
//     of the caller's;
//   - output goes through ctx.log, which masks secrets.
// The key never depends on the executor: a result made on a cluster restores on a laptop.

import type { Node } from './graph.js'
import type { RecipeContext, RecipeResult } from './recipe.js'

export interface Executor {
  /** The name targets use (`executor: 'cluster'`); 'local' is the built-in one. */
  readonly name: string
  run(n: Node, ctx: RecipeContext): Promise<RecipeResult | void>
  /** The build is over (or interrupted): cancel what is still running, bounded in time. */
  close?(): Promise<void>
}

/** Recipes run in this process (functions, agent steps) or in its bash workers (`sh`). */
export const localExecutor: Executor = {
  name: 'local',
  run: async (n, ctx) => (await n.decl.recipe!.run(ctx)) ?? undefined,
}
