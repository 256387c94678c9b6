// The public API of 'auton': what an autonfile imports.
export { target, sh, fn, TargetHandle } from './dsl.js'
export type { Input, TargetOptions } from './dsl.js'
export { config } from './config.js'
export type { AutonConfig } from './config.js'
export type { Recipe, RecipeContext, RecipeResult, Usage, Budget } from './recipe.js'
