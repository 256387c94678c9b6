// engine-schedule.test.ts — the scheduler: -j, pools, critical-path order.
// Overlap is judged from start/end times the recipes record themselves, never from wall clock.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Project, show } from '../helpers/project.js'

const AUTONFILE = `import { target, sh } from 'auton'
// each recipe writes its start and end time (ns) into its output
const stamp = (name: string) => sh\`date +%s%N > out/\${name}.txt; sleep 0.3; date +%s%N >> out/\${name}.txt\`
target('x', { outputs: ['out/x.txt'], run: stamp('x') })
target('y', { outputs: ['out/y.txt'], run: stamp('y') })
target('px', { outputs: ['out/px.txt'], run: stamp('px'), pool: 'solo' })
target('py', { outputs: ['out/py.txt'], run: stamp('py'), pool: 'solo' })

// order: 'b' is declared first, but a1 -> a2 -> a3 is the longer path
const log = (name: string) => sh\`echo \${name} >> order.log; echo \${name} > out/\${name}.txt\`
target('b', { outputs: ['out/b.txt'], run: log('b') })
const a1 = target('a1', { outputs: ['out/a1.txt'], run: log('a1') })
const a2 = target('a2', { inputs: [a1], outputs: ['out/a2.txt'], run: log('a2') })
target('a3', { inputs: [a2], outputs: ['out/a3.txt'], run: log('a3') })
`

const test = suite('scheduler')
let p: Project

test.before(() => {
  p = new Project({ 'autonfile.ts': AUTONFILE, 'auton.toml': '[pools]\nsolo = 1\n' })
})
test.after(() => p.remove())

function span(name: string): [bigint, bigint] {
  const [start, end] = p.read(`out/${name}.txt`).trim().split('\n').map(BigInt)
  return [start, end]
}
const overlap = (a: [bigint, bigint], b: [bigint, bigint]) => a[0] < b[1] && b[0] < a[1]

test('-j2 runs two independent targets at the same time', async () => {
  const r = await p.build('-j2', 'x', 'y')
  assert.is(r.code, 0, show(r))
  assert.ok(overlap(span('x'), span('y')), `x ${span('x')} and y ${span('y')} should overlap`)
})

test('a pool with limit 1 never runs two of its targets at once, even with -j2', async () => {
  const r = await p.build('-j2', 'px', 'py')
  assert.is(r.code, 0, show(r))
  assert.equal(r.with('ran'), ['px', 'py'])
  assert.not.ok(overlap(span('px'), span('py')), `px ${span('px')} and py ${span('py')} overlap`)
})

test('-j1 starts the longest remaining path first', async () => {
  const r = await p.build('-j1', 'b', 'a3')
  assert.is(r.code, 0, show(r))
  // first-come order would start 'b'; a1 (path 3) and a2 (path 2) beat it; a3 and b tie at 1
  const order = p.read('order.log').trim().split('\n')
  assert.equal(order.slice(0, 2), ['a1', 'a2'])
  assert.equal([...order].sort(), ['a1', 'a2', 'a3', 'b'])
})

test.run()
