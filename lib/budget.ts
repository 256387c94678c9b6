// budget.ts — the money one build may spend on model calls ([agents] budget_usd).
//
// Agent steps call check() with the most a call could cost *before* making it, and
// charge() with what it did cost after. So the build stops before the call that could
// pass the limit, never after. Without a limit, check() never throws but spending is
// still counted for the summary.

import type { Budget, Usage } from './recipe.js'

export class BudgetExceeded extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'BudgetExceeded'
  }
}

export function createBudget(limitUsd: number | undefined): Budget {
  if (limitUsd !== undefined && !(limitUsd >= 0)) throw new Error(`budget: limit must be a non-negative number of USD, got ${limitUsd}`)
  let spent = 0
  return {
    limitUsd,
    spentUsd: () => spent,
    check(usd: number, what: string): void {
      if (limitUsd === undefined) return
      if (spent + usd > limitUsd) {
        throw new BudgetExceeded(
          `budget exceeded: ${what} could cost up to ${usdText(usd)}, and ${usdText(spent)} of ` +
            `[agents] budget_usd = ${usdText(limitUsd)} is already spent. Raise budget_usd in auton.toml, ` +
            `lower the step's maxTokens, or build from a warm cache.`,
        )
      }
    },
    charge(usage: Usage): void {
      spent += usage.costUsd
    },
  }
}

/** "$0.0123" — enough digits for single calls to cheap models. */
export function usdText(usd: number): string {
  return `$${usd < 0.01 && usd > 0 ? usd.toPrecision(3) : usd.toFixed(usd < 1 ? 4 : 2)}`
}
