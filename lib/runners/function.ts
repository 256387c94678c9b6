// function.ts — a plain async TS function as a recipe.
//
// Its key is the function's source text (plus an optional salt) and, through `code`, the
// module that defines it and every module reachable from there (code-deps.ts): editing the
// function, a helper it calls or a module it imports rebuilds the target.

import type { Recipe, RecipeContext, RecipeResult } from '../recipe.js'

type Fn = (ctx: RecipeContext) => Promise<RecipeResult | void> | RecipeResult | void

/** `module`: the absolute path of the file that defines `f` (undefined: only its text is keyed). */
export function functionRecipe(f: Fn, salt = '', module?: string): Recipe {
  const body = f.toString()
  return {
    kind: 'fn',
    keyMaterial: () => `fn:${body}\n${salt}`,
    describe: () => `function ${f.name || '(anonymous)'}`,
    code: module ? { module, body } : undefined,
    run: async (ctx) => (await f(ctx)) ?? undefined,
  }
}
