// pricing.ts — USD per million tokens for each model, overridable in auton.toml.
//
// The table is what the budget and the build summary use; it is not a bill. A dated model id
// ("claude-sonnet-4-5-20250929") takes the price of the longest listed prefix. An Anthropic
// model the table does not know is priced like the most expensive one, so a budget is never
// under-estimated; local Ollama models cost nothing.

import type { AutonConfig } from '../../config.js'

export interface Price {
  /** USD per million input tokens. */
  input: number
  /** USD per million output tokens. */
  output: number
}

/** Anthropic list prices (USD / Mtok), longest prefix wins. */
const ANTHROPIC: Record<string, Price> = {
  'claude-opus-4-5': { input: 5, output: 25 },
  'claude-opus-4-1': { input: 15, output: 75 },
  'claude-opus-4': { input: 15, output: 75 },
  'claude-sonnet-4-5': { input: 3, output: 15 },
  'claude-sonnet-4': { input: 3, output: 15 },
  'claude-3-7-sonnet': { input: 3, output: 15 },
  'claude-3-5-sonnet': { input: 3, output: 15 },
  'claude-haiku-4-5': { input: 1, output: 5 },
  'claude-3-5-haiku': { input: 0.8, output: 4 },
  'claude-3-haiku': { input: 0.25, output: 1.25 },
  'claude-3-opus': { input: 15, output: 75 },
}

const MOST_EXPENSIVE: Price = { input: 15, output: 75 }
const FREE: Price = { input: 0, output: 0 }

export interface PriceLookup {
  price: Price
  /** Where the price came from, for the log: "auton.toml", "table", "unknown model: assumed …". */
  source: string
}

export function priceOf(provider: string, model: string, prices: AutonConfig['agents']['prices'] = {}): PriceLookup {
  const own = prices[`${provider}:${model}`] ?? prices[model]
  if (own) return { price: own, source: 'auton.toml [agents.prices]' }
  if (provider === 'ollama') return { price: FREE, source: 'local model' }
  const prefix = Object.keys(ANTHROPIC)
    .filter((p) => model === p || model.startsWith(p + '-'))
    .sort((a, b) => b.length - a.length)[0]
  if (prefix) return { price: ANTHROPIC[prefix], source: `price table (${prefix})` }
  return {
    price: MOST_EXPENSIVE,
    source: `unknown model ${model}: assumed $${MOST_EXPENSIVE.input}/$${MOST_EXPENSIVE.output} per Mtok; set [agents.prices] in auton.toml`,
  }
}

export function costUsd(price: Price, inputTokens: number, outputTokens: number): number {
  return (inputTokens * price.input + outputTokens * price.output) / 1e6
}
