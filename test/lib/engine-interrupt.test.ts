// engine-interrupt.test.ts — Ctrl-C and crashes: the process tree dies, nothing partial is trusted.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync, rmSync } from 'node:fs'
import type { ChildProcess } from 'node:child_process'
import { Project, collect, waitFor, alive, show, type RunResult } from '../helpers/project.js'

// The recipe writes a partial output first. With 'hold' present it then starts a
// grandchild (sleep) and waits for it, recording the grandchild's pid.
const AUTONFILE = `import { target, sh } from 'auton'
target('slow', {
  inputs: ['src/in.txt'],
  outputs: ['out/slow.txt'],
  run: sh\`echo partial > out/slow.txt
if [ -f hold ]; then sleep 30 & echo $! > sleep.pid; wait; fi
cat src/in.txt > out/slow.txt\`,
})
`

const test = suite('interruption')

/** Ctrl-C the build: it must exit with 130 within a second and a half. */
async function interrupt(child: ChildProcess, done: Promise<RunResult>): Promise<RunResult> {
  const t0 = Date.now()
  child.kill('SIGINT')
  const r = await done
  const ms = Date.now() - t0
  assert.is(r.code, 130, show(r))
  assert.ok(ms < 1500, `auton took ${ms} ms to exit after SIGINT`)
  return r
}

async function startHeld(p: Project) {
  p.write('src/in.txt', 'v2\n')
  p.write('hold', '')
  const child = p.spawn(['build', '--json', 'slow'])
  const done = collect(child, ['build', 'slow'], 15_000)
  await waitFor(() => p.exists('sleep.pid') && p.read('sleep.pid').trim() !== '', 10_000, 'the recipe to start its grandchild')
  return { child, done, sleepPid: Number(p.read('sleep.pid').trim()) }
}

test('Ctrl-C: exits within a second, kills the recipe tree, and the rebuild is correct', async () => {
  const p = new Project({ 'autonfile.ts': AUTONFILE, 'src/in.txt': 'v1\n' })
  try {
    assert.is((await p.build('slow')).code, 0)
    const { child, done, sleepPid } = await startHeld(p)
    assert.ok(alive(sleepPid))
    const r = await interrupt(child, done)
    await waitFor(() => !alive(sleepPid), 500, `grandchild ${sleepPid} to die`)
    assert.is(r.status.get('slow'), 'failed')
    assert.not.ok(p.exists('out/slow.txt'), 'the partial output is removed')
    assert.not.ok(p.exists('.auton/lock'), 'the lock is released')
    // back to the inputs of the last good build: the old record must not vouch for anything
    p.write('src/in.txt', 'v1\n')
    rmSync(p.path('hold'))
    const again = await p.build('slow')
    assert.is(again.code, 0, show(again))
    assert.ok(['ran', 'restored'].includes(again.status.get('slow')!), show(again))
    assert.is(p.read('out/slow.txt'), 'v1\n')
    p.write('src/in.txt', 'v3\n')
    const third = await p.build('slow')
    assert.is(third.status.get('slow'), 'ran')
    assert.is(p.read('out/slow.txt'), 'v3\n')
  } finally {
    p.remove()
  }
})

test('a crash (SIGKILL) mid-recipe: the stale lock is taken over and the partial output is not trusted', async () => {
  const p = new Project({ 'autonfile.ts': AUTONFILE, 'src/in.txt': 'v1\n' })
  try {
    assert.is((await p.build('slow')).code, 0)
    const { child, done, sleepPid } = await startHeld(p)
    child.kill('SIGKILL')
    await done
    // the recipe's process group outlives a SIGKILLed auton: kill it the way a reboot would
    const stat = readFileSync(`/proc/${sleepPid}/stat`, 'utf8')
    const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2])
    process.kill(-pgid, 'SIGKILL')
    await waitFor(() => !alive(sleepPid), 1000, 'the orphaned recipe to die')
    assert.is(p.read('out/slow.txt'), 'partial\n')
    assert.ok(p.exists('.auton/lock'), 'the dead build left its lock')
    p.write('src/in.txt', 'v1\n')
    rmSync(p.path('hold'))
    const again = await p.build('slow')
    assert.is(again.code, 0, show(again))
    assert.not.equal(again.status.get('slow'), 'up-to-date', show(again))
    assert.is(p.read('out/slow.txt'), 'v1\n')
  } finally {
    p.remove()
  }
})

test('Ctrl-C with a recipe that ignores SIGTERM: its tree is SIGKILLed, auton still exits within a second', async () => {
  const p = new Project({
    'autonfile.ts': `import { target, sh } from 'auton'
target('stubborn', { outputs: ['out/s'], run: sh\`trap '' TERM INT; sleep 30 & echo $! > sleep.pid; wait; touch out/s\` })
`,
  })
  try {
    const child = p.spawn(['build', 'stubborn'])
    const done = collect(child, ['build', 'stubborn'], 15_000)
    await waitFor(() => p.exists('sleep.pid') && p.read('sleep.pid').trim() !== '', 10_000, 'the recipe to start')
    const sleepPid = Number(p.read('sleep.pid').trim())
    const r = await interrupt(child, done)
    await waitFor(() => !alive(sleepPid), 1000, `grandchild ${sleepPid} to die`)
    assert.not.ok(p.exists('out/s'))
  } finally {
    p.remove()
  }
})

test.run()
