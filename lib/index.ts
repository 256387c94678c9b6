// The public API of 'auton': what an autonfile imports.
export { target, sh, fn, TargetHandle } from './dsl.js'
export type { Input, TargetOptions, Resources } from './dsl.js'
export { config } from './config.js'
export type { AutonConfig } from './config.js'
export type { Recipe, RecipeContext, RecipeResult, Usage, Budget, Reservation } from './recipe.js'
export { agent } from './agents/agent.js'
export type { AgentOptions } from './agents/agent.js'
export { defineTool, readFileTool } from './agents/tools.js'
export type { AgentTool, ToolContext } from './agents/tools.js'
// Provenance of built files, for rules that embed or check it (the GGUF export, the boot report)
export { provenanceOf, lineageOf } from './commands/provenance.js'
