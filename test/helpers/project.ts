// project.ts — a real throwaway auton project for end-to-end tests.
//
// A project is a temp dir with files, an autonfile.ts and node_modules/auton linked to
// this repo, so `import { target, sh } from 'auton'` resolves exactly as it does for a
// user. `auton` runs `node bin/auton.cjs` as a real child process (the compiled engine
// in dist/: run `npx tsc -p .` after editing lib/).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const AUTON = join(REPO, 'bin', 'auton.cjs')

if (!existsSync(join(REPO, 'dist', 'lib', 'cli.js'))) {
  throw new Error(`${REPO}/dist/lib/cli.js is missing: compile the engine first with 'npx tsc -p .'`)
}

/** One `--json` line from a build. */
export interface JsonEvent {
  type: string
  name?: string
  status?: string
  [k: string]: unknown
}

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** Parsed JSON lines of stdout (when run with --json). */
  events: JsonEvent[]
  /** Target name → status, from the `target` events. */
  status: Map<string, string>
  /** Target name → the reason it ran (or would run, or failed: the error), from the `target` events. */
  reason: Map<string, string>
  /** Names of targets with the given status, sorted. */
  with(status: string): string[]
  summary: JsonEvent | undefined
}

export interface RunOptions {
  env?: Record<string, string | undefined>
  /** Kill the child (and fail) after this many ms. */
  timeoutMs?: number
}

export class Project {
  readonly dir: string

  constructor(files: Record<string, string> = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'auton-test-'))
    mkdirSync(join(this.dir, 'node_modules'))
    symlinkSync(REPO, join(this.dir, 'node_modules', 'auton'))
    for (const [rel, text] of Object.entries(files)) this.write(rel, text)
  }

  /**
   * A copy of this repository as git sees it (tracked and new files, not build outputs, no
   * tests or benchmarks), sharing its node_modules and dist/, with `toml` applied to its
   * auton.toml (the pipeline tests choose the smoke preset).
   */
  static copyOfRepo(toml: (text: string) => string = (t) => t): Project {
    const p = new Project()
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: REPO, encoding: 'utf8' })
      .split('\n').filter((f) => f && !f.startsWith('test/') && !f.startsWith('bench/'))
    for (const f of files) {
      mkdirSync(dirname(p.path(f)), { recursive: true })
      try {
        copyFileSync(join(REPO, f), p.path(f))
      } catch {
        // deleted in the work tree
      }
    }
    rmSync(p.path('node_modules'), { recursive: true })
    symlinkSync(join(REPO, 'node_modules'), p.path('node_modules'))
    symlinkSync(join(REPO, 'dist'), p.path('dist'))
    p.write('auton.toml', toml(p.read('auton.toml')))
    return p
  }

  path(rel: string): string {
    return join(this.dir, rel)
  }

  write(rel: string, text: string): void {
    const p = this.path(rel)
    mkdirSync(dirname(p), { recursive: true })
    writeFileSync(p, text)
  }

  read(rel: string): string {
    return readFileSync(this.path(rel), 'utf8')
  }

  exists(rel: string): boolean {
    return existsSync(this.path(rel))
  }

  /** A new mtime, the same content. */
  touch(rel: string, secondsAhead = 5): void {
    const t = new Date(statSync(this.path(rel)).mtimeMs + secondsAhead * 1000)
    utimesSync(this.path(rel), t, t)
  }

  /** Start `auton <args>` without waiting (for signals and concurrent builds). */
  spawn(args: string[], opts: RunOptions = {}): ChildProcess {
    return spawn(process.execPath, [AUTON, ...args], {
      cwd: this.dir,
      env: { ...process.env, CI: '1', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  }

  /** Run `auton <args>` to completion. */
  run(args: string[], opts: RunOptions = {}): Promise<RunResult> {
    return collect(this.spawn(args, opts), args, opts.timeoutMs ?? 20_000)
  }

  /** `auton build --json <args>`. */
  build(...args: string[]): Promise<RunResult> {
    return this.run(['build', '--json', ...args])
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** Wait for a spawned auton and parse what it printed. */
export function collect(child: ChildProcess, args: string[] = [], timeoutMs = 20_000): Promise<RunResult> {
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => (stdout += d))
  child.stderr!.on('data', (d: Buffer) => (stderr += d))
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`auton ${args.join(' ')} did not finish in ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`))
    }, timeoutMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const events: JsonEvent[] = []
      for (const line of stdout.split('\n')) {
        if (!line.startsWith('{')) continue
        try {
          events.push(JSON.parse(line))
        } catch {
          // not a JSON line
        }
      }
      const status = new Map<string, string>()
      for (const e of events) if (e.type === 'target') status.set(e.name!, e.status!)
      const reason = new Map<string, string>()
      for (const e of events) if (e.type === 'target' && (e.reason || e.error)) reason.set(e.name!, String(e.reason ?? e.error))
      resolvePromise({
        code, signal, stdout, stderr, events, status, reason,
        with: (s) => [...status].filter(([, v]) => v === s).map(([k]) => k).sort(),
        summary: events.find((e) => e.type === 'summary'),
      })
    })
  })
}

/** Poll until `cond()` holds (or fail after `ms`). */
export async function waitFor(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Is a process alive (zombies count as gone: nobody may reap them in a container)? */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

/** A failure message that shows what auton said. */
export function show(r: RunResult): string {
  return `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`
}
