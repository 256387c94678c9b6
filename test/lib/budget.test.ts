import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createBudget, BudgetExceeded } from '../../lib/budget.js'

const usage = (costUsd: number) => ({ inputTokens: 1, outputTokens: 1, costUsd, calls: 1 })

test('parallel calls cannot overshoot together: holds count until settled', () => {
  const b = createBudget(1.0)
  const a = b.reserve(0.6, 'step a')
  assert.throws(() => b.reserve(0.6, 'step b'), (e: Error) => e instanceof BudgetExceeded && /held by steps running now/.test(e.message))
  a.settle(usage(0.1)) // it cost less than it could have
  const c = b.reserve(0.6, 'step b')
  c.release() // the call failed before a bill
  assert.is(b.spentUsd(), 0.1)
  b.reserve(0.9, 'step c').settle(usage(0.9))
  assert.throws(() => b.reserve(0.01, 'step d'), /budget exceeded: step d could cost up to \$0\.0100/)
})

test('without a limit nothing is refused and spending is still counted', () => {
  const b = createBudget(undefined)
  b.reserve(1e6, 'big').settle(usage(2.5))
  assert.is(b.spentUsd(), 2.5)
})

test.run()
