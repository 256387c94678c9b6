// scheduler.test.ts — the build state machine with fake hooks: no disk, no processes.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Scheduler, type Hooks, type Task } from '../../lib/scheduler.js'
import type { TargetStatus } from '../../lib/events.js'

const test = suite('scheduler')

interface Trace { running: number; maxRunning: number; maxPool: Map<string, number>; started: string[]; checked: string[]; skipped: [string, string | undefined][] }

function hooks(tasks: Task[], behave: (name: string) => { check?: TargetStatus | 'run'; run?: TargetStatus; ms?: number }, t: Trace): Hooks {
  const pool = new Map<string, number>()
  const poolOf = new Map(tasks.map((x) => [x.name, x.pool]))
  return {
    check: (name) => {
      t.checked.push(name)
      return behave(name).check ?? 'run'
    },
    run: async (name) => {
      t.started.push(name)
      t.running++
      t.maxRunning = Math.max(t.maxRunning, t.running)
      const p = poolOf.get(name)
      if (p) {
        pool.set(p, (pool.get(p) ?? 0) + 1)
        t.maxPool.set(p, Math.max(t.maxPool.get(p) ?? 0, pool.get(p)!))
      }
      await new Promise((r) => setTimeout(r, behave(name).ms ?? 5))
      t.running--
      if (p) pool.set(p, pool.get(p)! - 1)
      return behave(name).run ?? 'ran'
    },
    skipped: (name, because) => t.skipped.push([name, because]),
  }
}
const trace = (): Trace => ({ running: 0, maxRunning: 0, maxPool: new Map(), started: [], checked: [], skipped: [] })

test('-j and pool limits hold; every task runs once, after its dependencies', async () => {
  const tasks: Task[] = [
    ...Array.from({ length: 8 }, (_, i) => ({ name: `a${i}`, deps: [], prio: 1, pool: i % 2 ? 'solo' : undefined })),
    { name: 'top', deps: ['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7'], prio: 0 },
  ]
  const t = trace()
  const s = new Scheduler(tasks, hooks(tasks, () => ({}), t), { jobs: 3, pools: { solo: 1 }, abort: new AbortController() })
  const status = await s.run()
  assert.is(t.maxRunning, 3)
  assert.is(t.maxPool.get('solo'), 1)
  assert.is(t.started.length, 9)
  assert.is(t.started.at(-1), 'top')
  assert.ok([...status.values()].every((x) => x === 'ran'))
  assert.ok([...s.state.values()].every((x) => x === 'done'))
})

test('higher priority starts first; settled-at-check tasks never take a slot', async () => {
  const tasks: Task[] = [
    { name: 'low', deps: [], prio: 1 }, { name: 'high', deps: [], prio: 9 }, { name: 'fresh', deps: [], prio: 5 },
  ]
  const t = trace()
  await new Scheduler(tasks, hooks(tasks, (n) => (n === 'fresh' ? { check: 'up-to-date' } : {}), t), { jobs: 1, pools: {}, abort: new AbortController() }).run()
  assert.equal(t.started, ['high', 'low'])
})

test('a failure skips its dependents and, without keepGoing, everything not yet started', async () => {
  const tasks: Task[] = [
    { name: 'bad', deps: [], prio: 9 }, { name: 'after-bad', deps: ['bad'], prio: 8 },
    { name: 'other', deps: [], prio: 1 }, { name: 'after-other', deps: ['other'], prio: 0 },
  ]
  const behave = (n: string) => (n === 'bad' ? { run: 'failed' as const } : {})
  let t = trace()
  let s = new Scheduler(tasks, hooks(tasks, behave, t), { jobs: 1, pools: {}, abort: new AbortController() })
  let st = await s.run()
  assert.is(st.get('bad'), 'failed')
  assert.is(st.get('after-bad'), 'skipped')
  assert.is(st.get('other'), 'skipped')
  assert.ok(t.skipped.some(([n, b]) => n === 'after-bad' && b === 'bad'))
  t = trace()
  s = new Scheduler(tasks, hooks(tasks, behave, t), { jobs: 1, pools: {}, keepGoing: true, abort: new AbortController() })
  st = await s.run()
  assert.is(st.get('after-bad'), 'skipped')
  assert.is(st.get('other'), 'ran')
  assert.is(st.get('after-other'), 'ran')
})

test('remote tasks (cluster jobs) take no -j slot; their pool still limits them', async () => {
  const tasks: Task[] = [
    ...Array.from({ length: 4 }, (_, i) => ({ name: `job${i}`, deps: [], prio: 1, remote: true })),
    ...Array.from({ length: 3 }, (_, i) => ({ name: `pooled${i}`, deps: [], prio: 1, remote: true, pool: 'gpu' })),
    { name: 'here', deps: [], prio: 1 },
  ]
  const t = trace()
  await new Scheduler(tasks, hooks(tasks, () => ({ ms: 30 }), t), { jobs: 1, pools: { gpu: 2 }, abort: new AbortController() }).run()
  assert.is(t.maxRunning, 7) // 4 free jobs + 2 of the pool + the one local slot
  assert.is(t.maxPool.get('gpu'), 2)
})

test('a check that throws fails the task instead of hanging the build', async () => {
  const tasks: Task[] = [{ name: 'x', deps: [], prio: 1 }, { name: 'y', deps: ['x'], prio: 0 }]
  const h: Hooks = { check: () => { throw new Error('boom') }, run: async () => 'ran', skipped: () => {} }
  const st = await new Scheduler(tasks, h, { jobs: 1, pools: {}, keepGoing: true, abort: new AbortController() }).run()
  assert.is(st.get('x'), 'failed')
  assert.is(st.get('y'), 'skipped')
})

test('an outside abort stops what has not started', async () => {
  const tasks: Task[] = Array.from({ length: 5 }, (_, i) => ({ name: `t${i}`, deps: i ? [`t${i - 1}`] : [], prio: 5 - i }))
  const abort = new AbortController()
  const t = trace()
  const h = hooks(tasks, () => ({ ms: 20 }), t)
  const run = h.run
  h.run = async (n) => {
    if (n === 't1') abort.abort()
    return run(n)
  }
  const st = await new Scheduler(tasks, h, { jobs: 1, pools: {}, abort }).run()
  assert.equal(t.started, ['t0', 't1'])
  assert.is(st.get('t4'), 'skipped')
})

test('a task that releases its slot early lets the next start at once; its dependents still wait for it', async () => {
  // a0 and a1 release after their "recipe" (5 ms) and then do 30 ms of bookkeeping
  const tasks: Task[] = [
    { name: 'a0', deps: [], prio: 9 }, { name: 'a1', deps: [], prio: 8 }, { name: 'b', deps: [], prio: 7 },
    { name: 'after-a0', deps: ['a0'], prio: 1 },
  ]
  const log: string[] = []
  let recipes = 0
  let maxRecipes = 0
  const h: Hooks = {
    check: () => 'run',
    run: async (name, release) => {
      log.push(`start ${name}`)
      maxRecipes = Math.max(maxRecipes, ++recipes)
      await new Promise((r) => setTimeout(r, 5))
      recipes--
      if (name.startsWith('a')) {
        release()
        release() // idempotent
        await new Promise((r) => setTimeout(r, 30))
      }
      log.push(`done ${name}`)
      return 'ran'
    },
    skipped: () => {},
  }
  const st = await new Scheduler(tasks, h, { jobs: 2, pools: {}, abort: new AbortController() }).run()
  assert.ok([...st.values()].every((x) => x === 'ran'))
  assert.is(maxRecipes, 2, '-j 2 holds for what still holds a slot')
  assert.ok(log.indexOf('start b') < log.indexOf('done a0'), 'b started during the bookkeeping of a0')
  assert.ok(log.indexOf('start after-a0') > log.indexOf('done a0'), 'a dependent waits for the whole task')
})

test.run()
