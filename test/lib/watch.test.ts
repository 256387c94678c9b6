// watch.test.ts — `auton build --watch` driven for real: a child process, a temp project,
// edits on disk, and the builds they cause read back from the --json stream.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { type ChildProcess } from 'node:child_process'
import { renameSync, writeFileSync, existsSync, readFileSync, rmSync } from 'node:fs'
import { Project, waitFor, alive, type JsonEvent } from '../helpers/project.js'

/** A running `auton build --watch --json`: the builds it has finished so far. */
class Watching {
  readonly child: ChildProcess
  out = ''
  err = ''
  /** Events of each finished build, in order (a build ends with its summary). */
  builds: JsonEvent[][] = []
  private current: JsonEvent[] = []

  constructor(readonly p: Project, args: string[] = []) {
    this.child = p.spawn(['build', '--watch', '--json', ...args])
    let partial = ''
    this.child.stdout!.on('data', (d: Buffer) => {
      this.out += d
      const lines = (partial + d).split('\n')
      partial = lines.pop()!
      for (const l of lines) {
        if (!l.startsWith('{')) continue
        const e = JSON.parse(l) as JsonEvent
        this.current.push(e)
        if (e.type === 'summary') {
          this.builds.push(this.current)
          this.current = []
        }
      }
    })
    this.child.stderr!.on('data', (d: Buffer) => (this.err += d))
  }

  /** Wait until the n-th build (1-based) is done and the watcher has said so; its events. */
  async build(n: number, ms = 30_000): Promise<JsonEvent[]> {
    await this.until(() => this.builds.length >= n && this.ended() >= n, ms, `build #${n}`)
    return this.builds[n - 1]
  }

  /** Builds the watcher has reported as over (ok, failed or cancelled). */
  ended(): number {
    return (this.err.match(/^watch: build (ok|FAILED|cancelled)/gm) ?? []).length
  }

  /** waitFor, with this watcher's output as it is at the timeout in the error. */
  async until(cond: () => boolean, ms: number, what: string): Promise<void> {
    try {
      await waitFor(cond, ms, what)
    } catch (e) {
      throw new Error(`${(e as Error).message}\nstderr:\n${this.err}\nstdout:\n${this.out}`)
    }
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode
    const exited = new Promise<number | null>((r) => this.child.once('exit', (code) => r(code)))
    this.child.kill('SIGINT')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000)
    const code = await exited
    clearTimeout(timer)
    return code
  }

  log(): string {
    return `stderr:\n${this.err}\nstdout:\n${this.out}`
  }
}

const names = (events: JsonEvent[], status: string) =>
  events.filter((e) => e.type === 'target' && e.status === status).map((e) => e.name!).sort()
const summary = (events: JsonEvent[]) => events[events.length - 1]
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const DIAMOND = `import { target, sh } from 'auton'
const A = target('A', { inputs: ['src/a.txt'], outputs: ['out/A.txt'], run: sh\`cat src/a.txt > out/A.txt\` })
const B = target('B', { inputs: ['src/b.txt'], outputs: ['out/B.txt'], run: sh\`cat src/b.txt > out/B.txt\` })
target('AB', { inputs: [A, B], outputs: ['out/AB.txt'], default: true, run: sh\`cat \${A} \${B} > out/AB.txt\` })
target('other', { inputs: ['src/other.txt'], outputs: ['out/other.txt'], run: sh\`cat src/other.txt > out/other.txt\` })
`

const t = suite('build --watch')

t('an edit rebuilds exactly its dependents; atomic saves count; outputs and .auton never trigger', async () => {
  const p = new Project({ 'autonfile.ts': DIAMOND, 'src/a.txt': 'a\n', 'src/b.txt': 'b\n', 'src/other.txt': 'o\n' })
  const w = new Watching(p)
  try {
    const first = await w.build(1)
    assert.equal(names(first, 'ran'), ['A', 'AB', 'B'], w.log())

    p.write('src/a.txt', 'a2\n')
    const second = await w.build(2)
    assert.equal(names(second, 'ran'), ['A', 'AB'], w.log())
    assert.equal(names(second, 'up-to-date'), ['B'])
    assert.is(p.read('out/AB.txt'), 'a2\nb\n')
    assert.match(w.err, /watch: src\/a\.txt changed → building AB/)

    // an editor's atomic save: write a temp file beside it, rename it over the source
    writeFileSync(p.path('src/.b.txt.swp'), 'b2\n')
    renameSync(p.path('src/.b.txt.swp'), p.path('src/b.txt'))
    const third = await w.build(3)
    assert.equal(names(third, 'ran'), ['AB', 'B'], w.log())
    assert.is(p.read('out/AB.txt'), 'a2\nb2\n')

    // none of these may start a build: an output, build state, the cache, a file outside the closure
    p.write('out/A.txt', 'tampered\n')
    p.write('.auton/scratch.txt', 'x')
    p.write('cache/scratch.txt', 'x')
    p.write('src/other.txt', 'o2\n')
    await sleep(800)
    assert.is(w.builds.length, 3, w.log())

    // a deleted source fails the build; re-created, it is still watched
    rmSync(p.path('src/b.txt'))
    const fourth = await w.build(4)
    assert.is(summary(fourth).ok, false, w.log())
    p.write('src/b.txt', 'b3\n')
    const fifth = await w.build(5)
    assert.is(summary(fifth).ok, true, w.log())
    assert.ok(names(fifth, 'ran').includes('B'))
    assert.is(p.read('out/AB.txt'), 'a2\nb3\n')
    assert.is(p.read('out/A.txt'), 'a2\n', 'the tampered output was put right')
  } finally {
    await w.stop()
    p.remove()
  }
})

t('a file the autonfile reads while loading (also an input) reloads the graph, so params follow it', async () => {
  const p = new Project({
    'autonfile.ts': `import { target, sh } from 'auton'
import { readFileSync } from 'node:fs'
const size = JSON.parse(readFileSync('settings.json', 'utf8')).size
target('sized', { inputs: ['settings.json'], outputs: ['out/sized.txt'], params: { size }, default: true, run: sh\`echo \${size} > out/sized.txt\` })
`,
    'settings.json': '{"size": 3}\n',
  })
  const w = new Watching(p)
  try {
    await w.build(1)
    assert.is(p.read('out/sized.txt'), '3\n', w.log())
    p.write('settings.json', '{"size": 4}\n')
    const second = await w.build(2)
    assert.equal(names(second, 'ran'), ['sized'], w.log())
    assert.is(p.read('out/sized.txt'), '4\n', 'the param comes from the file as it is now')
  } finally {
    await w.stop()
    p.remove()
  }
})

t('an edit during a long recipe cancels it (process killed) and the build starts again', async () => {
  const p = new Project({
    'autonfile.ts': `import { target, sh } from 'auton'
target('slow', { inputs: ['src/delay.txt'], outputs: ['out/slow.txt'], default: true,
  run: sh\`echo start >> runs.log; d=$(cat src/delay.txt); sleep $d & echo $! > sleep.pid; wait $!; cp src/delay.txt out/slow.txt\` })
`,
    'src/delay.txt': '30\n',
  })
  const w = new Watching(p)
  try {
    await w.until(() => p.exists('sleep.pid') && p.read('sleep.pid').trim() !== '', 20_000, 'the first run to start')
    const firstSleep = Number(p.read('sleep.pid'))
    const t0 = Date.now()
    p.write('src/delay.txt', '0\n')
    const cancelled = await w.until(() => w.builds.length >= 1, 15_000, 'the first build to stop').then(() => w.builds[0])
    assert.is(summary(cancelled).ok, false, w.log())
    assert.match(String(cancelled.find((e) => e.name === 'slow' && e.status === 'failed')?.error), /cancelled/)
    const again = await w.build(2)
    assert.equal(names(again, 'ran'), ['slow'], w.log())
    assert.ok(Date.now() - t0 < 15_000, 'the 30 s sleep did not run to its end')
    assert.is(p.read('out/slow.txt'), '0\n')
    assert.is(p.read('runs.log'), 'start\nstart\n')
    assert.not.ok(alive(firstSleep), 'the cancelled recipe\'s sleep was killed')
    assert.match(w.err, /build cancelled/)
  } finally {
    await w.stop()
    p.remove()
  }
})

t('an edit that does not touch the running recipe lets it finish; the next build picks the edit up', async () => {
  const p = new Project({
    'autonfile.ts': `import { target, sh } from 'auton'
const slow = target('slow', { inputs: ['src/delay.txt'], outputs: ['out/slow.txt'],
  run: sh\`echo start >> runs.log; d=$(cat src/delay.txt); sleep $d & echo $! > sleep.pid; wait $!; cp src/delay.txt out/slow.txt\` })
const fast = target('fast', { inputs: ['src/f.txt'], outputs: ['out/f.txt'], run: sh\`cp src/f.txt out/f.txt\` })
target('all', { inputs: [slow, fast], default: true })
`,
    'src/delay.txt': '2\n',
    'src/f.txt': 'f1\n',
  })
  const w = new Watching(p, ['-j', '2'])
  try {
    await w.until(() => p.exists('out/f.txt') && p.exists('sleep.pid') && p.read('sleep.pid').trim() !== '', 20_000, 'both recipes to start')
    p.write('src/f.txt', 'f2\n')
    const first = await w.build(1)
    assert.is(summary(first).ok, true, w.log())
    assert.equal(names(first, 'ran'), ['fast', 'slow'])
    assert.match(w.err, /letting the running recipes \(slow\) finish first/)
    const second = await w.build(2)
    assert.equal(names(second, 'ran'), ['fast'], w.log())
    assert.equal(names(second, 'up-to-date').filter((n) => n !== 'all'), ['slow'])
    assert.is(p.read('out/f.txt'), 'f2\n')
    assert.is(p.read('runs.log'), 'start\n', 'slow ran once, uninterrupted')
  } finally {
    await w.stop()
    p.remove()
  }
})

const MODULAR = (body: string) => `import { target, sh } from 'auton'
import { MSG } from './build/msg.ts'
${body}
`
const GOOD = MODULAR(`target('msg', { inputs: ['src/a.txt'], outputs: ['out/msg.txt'], default: true, run: sh\`(echo \${MSG}; cat src/a.txt) > out/msg.txt\` })`)

t('a broken autonfile keeps the last good graph; fixing it, or editing an imported module, reloads', async () => {
  const p = new Project({ 'autonfile.ts': GOOD, 'build/msg.ts': `export const MSG = 'one'\n`, 'src/a.txt': 'a\n' })
  const w = new Watching(p)
  try {
    await w.build(1)
    assert.is(p.read('out/msg.txt'), 'one\na\n')

    p.write('autonfile.ts', GOOD + '\ntarget(\n') // a syntax error
    await w.until(() => /keeping the last good graph/.test(w.err), 15_000, 'the load error')
    assert.match(w.err, /autonfile/)
    await sleep(300)
    assert.is(w.builds.length, 1, 'a graph that does not load builds nothing')

    // sources still build with the last good graph
    p.write('src/a.txt', 'a2\n')
    await w.build(2)
    assert.is(p.read('out/msg.txt'), 'one\na2\n')

    // fixed: a new recipe
    p.write('autonfile.ts', GOOD.replace('cat src/a.txt)', 'cat src/a.txt; echo fixed)'))
    const fixed = await w.build(3)
    assert.equal(names(fixed, 'ran'), ['msg'], w.log())
    assert.is(p.read('out/msg.txt'), 'one\na2\nfixed\n')
    assert.match(w.err, /reloaded autonfile\.ts/)

    // a module the autonfile imports is watched too
    p.write('build/msg.ts', `export const MSG = 'two'\n`)
    await w.build(4)
    assert.is(p.read('out/msg.txt'), 'two\na2\nfixed\n')
  } finally {
    await w.stop()
    p.remove()
  }
})

t('a failing build keeps watching; Ctrl-C exits cleanly and releases the lock', async () => {
  const p = new Project({
    'autonfile.ts': `import { target, sh } from 'auton'
target('check', { inputs: ['src/n.txt'], outputs: ['out/n.txt'], default: true, run: sh\`grep -q ok src/n.txt && cp src/n.txt out/n.txt\` })
`,
    'src/n.txt': 'bad\n',
  })
  const w = new Watching(p)
  try {
    const first = await w.build(1)
    assert.equal(names(first, 'failed'), ['check'])
    assert.match(w.err, /watch: build FAILED/)
    p.write('src/n.txt', 'ok\n')
    const second = await w.build(2)
    assert.equal(names(second, 'ran'), ['check'])
    assert.ok(existsSync(p.path('.auton/lock')), 'the watcher holds the build lock')
    const code = await w.stop()
    assert.is(code, 130, w.log())
    assert.match(w.err, /watch: stopped/)
    assert.not.ok(existsSync(p.path('.auton/lock')), 'lock released')
    assert.is(readFileSync(p.path('out/n.txt'), 'utf8'), 'ok\n')
  } finally {
    await w.stop()
    p.remove()
  }
})

t.run()
