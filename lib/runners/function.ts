// function.ts — a plain async TS function as a recipe.
//
// Its key is the function's source text (plus an optional salt): editing the
// function rebuilds the target. Code it calls in other files is not seen, so list
// those files as inputs.

import type { Recipe, RecipeContext, RecipeResult } from '../recipe.js'

type Fn = (ctx: RecipeContext) => Promise<RecipeResult | void> | RecipeResult | void

export function functionRecipe(f: Fn, salt = ''): Recipe {
  return {
    kind: 'fn',
    keyMaterial: () => `fn:${f.toString()}\n${salt}`,
    describe: () => `function ${f.name || '(anonymous)'}`,
    run: async (ctx) => (await f(ctx)) ?? undefined,
  }
}
