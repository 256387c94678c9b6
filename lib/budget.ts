// budget.ts — the money one build may spend on model calls ([agents] budget_usd).
//
// Agent steps reserve() the most a call could cost *before* making it and settle() with
// what it did cost after. So the build stops before the call that could pass the limit,
// never after, also when several steps call models at once. Without a limit, reserve()
// never throws but spending is still counted for the summary.

import type { Budget, Reservation, Usage } from './recipe.js'

export class BudgetExceeded extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'BudgetExceeded'
  }
}

export function createBudget(limitUsd: number | undefined): Budget {
  if (limitUsd !== undefined && !(limitUsd >= 0)) throw new Error(`budget: limit must be a non-negative number of USD, got ${limitUsd}`)
  let spent = 0
  let held = 0
  return {
    limitUsd,
    spentUsd: () => spent,
    reserve(usd: number, what: string): Reservation {
      if (limitUsd !== undefined && spent + held + usd > limitUsd) {
        const others = held > 0 ? ` (and ${usdText(held)} is held by steps running now)` : ''
        throw new BudgetExceeded(
          `budget exceeded: ${what} could cost up to ${usdText(usd)}, and ${usdText(spent)} of ` +
            `[agents] budget_usd = ${usdText(limitUsd)} is already spent${others}. Raise budget_usd in auton.toml, ` +
            `lower the step's maxTokens, or build from a warm cache.`,
        )
      }
      held += usd
      let open = true
      const close = () => {
        if (open) held -= usd
        open = false
      }
      return {
        settle(usage: Usage) {
          close()
          spent += usage.costUsd
        },
        release: close,
      }
    },
  }
}

/** "$0.0123" — enough digits for single calls to cheap models. */
export function usdText(usd: number): string {
  return `$${usd < 0.01 && usd > 0 ? usd.toPrecision(3) : usd.toFixed(usd < 1 ? 4 : 2)}`
}
