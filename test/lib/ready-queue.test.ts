// ready-queue.test.ts — highest priority first, ties in arrival order, refused entries stay.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ReadyQueue } from '../../lib/ready-queue.js'

test('pops by priority, equal priorities in the order they came, as a stable sort would', () => {
  const prio: Record<string, number> = { a: 1, b: 5, c: 5, d: 3, e: 9, f: 1 }
  const q = new ReadyQueue((n) => prio[n])
  for (const n of 'abcdef') q.push(n)
  const out: string[] = []
  q.take(() => true, (n) => (out.push(n), true))
  assert.equal(out, ['e', 'b', 'c', 'd', 'a', 'f'])
  assert.is(q.size, 0)
})

test('an entry refused now stays in its place; more() stops taking', () => {
  const q = new ReadyQueue((n) => Number(n.slice(1)))
  for (let i = 0; i < 200; i++) q.push(`t${(i * 37) % 200}`)
  const taken: string[] = []
  q.take(() => taken.length < 3, (n) => (n === 't199' ? false : (taken.push(n), true)))
  assert.equal(taken, ['t198', 't197', 't196'])
  assert.is(q.size, 197)
  assert.is(q.drain()[0], 't199')
})

test.run()
