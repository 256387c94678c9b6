// watch.test.ts — `auton build --watch` driven for real: a child process, a temp project,
// edits on disk, and the builds they cause read back from the --json stream.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { type ChildProcess, execSync, spawn } from 'node:child_process'
import { renameSync, writeFileSync, existsSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
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
    if (process.env.AUTON_DBG) { rmSync(p.path('node_modules/auton')); symlinkSync('/tmp/adbg', p.path('node_modules/auton')) }
    this.child = process.env.AUTON_DBG ? spawn(process.execPath, ['/tmp/adbg/bin/auton.js', 'build', '--watch', '--json', ...args], { cwd: p.dir, env: { ...process.env, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] }) : p.spawn(['build', '--watch', '--json', ...args])
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
    this.child.stderr!.on('data', (d: Buffer) => {
      this.err += d
      for (const m of String(d).matchAll(/DBG spawned pid=(\d+)/g)) {
        const pid = m[1]
        let last = ''
        const iv = setInterval(() => {
          let st = 'gone'
          try { const s = readFileSync(`/proc/${pid}/stat`, 'utf8'); st = s.slice(s.lastIndexOf(')') + 2).split(' ').slice(0, 4).join(' ') + ' wchan=' + readFileSync(`/proc/${pid}/wchan`, 'utf8') + ' kids=' + execSync(`cat /proc/${pid}/task/*/children 2>/dev/null || true`).toString().trim() } catch {}
          if (st !== last) { this.trace.push(`${Date.now() % 100000} ${pid}: ${st}`); last = st }
          if (st === 'gone') clearInterval(iv)
        }, 30)
        iv.unref()
      }
    })
  }
  trace: string[] = []
  gaps: string[] = []
  hb = (() => { let last = Date.now(); const iv = setInterval(() => { const now = Date.now(); if (now - last > 200) this.gaps.push(`${now % 100000}: gap ${now - last}`); last = now }, 10); iv.unref(); return iv })()

  /** Wait until the n-th build (1-based) is done and the watcher is idle again; its events. */
  async build(n: number, ms = 30_000): Promise<JsonEvent[]> {
    await waitFor(() => this.builds.length >= n && this.idleCount() >= n, ms, `build #${n}\n${this.log()}`)
    return this.builds[n - 1]
  }

  idleCount(): number {
    return (this.err.match(/^watch: build (ok|FAILED)/gm) ?? []).length
  }

  log(): string {
    const files = ['.auton/logs/slow.log', 'runs.log'].filter((f) => this.p.exists(f)).map((f) => `${f}:\n${this.p.read(f)}`)
    let ps = ''
    try {
      ps = execSync('ps -eo pid,pgid,ppid,stat,etimes,cmd').toString().split('\n').filter((l) => /sleep|bash|auton/.test(l)).join('\n')
      ps += '\nCHILDREN of ' + this.child.pid + ': ' + execSync(`for c in $(cat /proc/${this.child.pid}/task/*/children); do echo "== $c"; grep -E 'State|Sig' /proc/$c/status; cat /proc/$c/wchan; echo; ps -o pid,stat,etimes,cmd --ppid $c; for g in $(cat /proc/$c/task/*/children); do echo "  grandchild $g"; grep -E 'State|Sig' /proc/$g/status; cat /proc/$g/cmdline; done; done`).toString()
    } catch {}
    return `GAPS:\n${this.gaps.join('\n')}\nTRACE:\n${this.trace.join('\n')}\nstderr:\n${this.err}\nstdout:\n${this.out}\n${files.join('\n')}\nps:\n${ps}`
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode
    const exited = new Promise<number | null>((r) => this.child.once('exit', (code) => r(code)))
    this.child.kill('SIGINT')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000)
    const code = await exited
    clearTimeout(timer)
    return code
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
    await waitFor(() => p.exists('sleep.pid') && p.read('sleep.pid').trim() !== '', 20_000, `the first run to start\n${w.log()}`)
    const firstSleep = Number(p.read('sleep.pid'))
    const t0 = Date.now()
    p.write('src/delay.txt', '0\n')
    const cancelled = await waitFor(() => w.builds.length >= 1, 15_000, `the first build to stop\n${w.log()}`).then(() => w.builds[0])
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

t.run()
