// shell-pool.ts — long-lived workers that run `sh` recipes: bash workers, and spawners for
// plain simple commands.
//
// Why: child_process.spawn forks the Node process, and once auton holds a large graph that
// costs several milliseconds per command (the fork copies a 100+ MB address space's page
// tables); a small bash forks its subshell for a fraction of that, and a spawner (spawner.ts)
// starts a plain simple command (`cat a b > out`: simple-command.ts) without any fork.
// Both kinds are detached — each its own process group — and answer on stdout with the
// command's output, then "\1AUTON_EXIT <status>\n".
//
// A bash worker runs LOOP (below): per command it reads a 17-byte header (the byte counts of
// setup and text, and whether both are ASCII), then exactly that many bytes of each: the setup
// (umask, cd and exports, made here, quoted) and the command text, with `read -N` (one read(2)
// each; bash reads a script from a pipe one byte per syscall, which cost more than the
// command), and runs
//   ( eval SETUP && { set -euo pipefail; eval TEXT; } ) </dev/null 2>&1; printf '\1AUTON_EXIT %d\n' $?
// The text is a counted payload, never parsed as part of the protocol: no command text (quotes,
// heredocs, a syntax error, a fake sentinel) can desynchronise the worker; </dev/null keeps
// recipes off the worker's stdin. A payload that is not ASCII is read with LC_ALL=C so that -N
// counts bytes whatever the worker's locale; a NUL byte cannot be passed to bash at all and is refused.
// A plain simple command that bash runs (no spawner on this machine) is run as `exec TEXT`,
// so the subshell becomes the program instead of forking once more for it.
// Environment: nothing of auton's own environment leaks into a command, and no command's
// variables outlive its subshell. A worker starts with PATH and the locale variables (LANG,
// LC_*) of the first command it runs; each command's subshell exports the rest of its
// recipe's environment (env.ts), and sets or unsets a locale variable only where it differs
// from the worker's. Why: assigning LANG or LC_* makes bash call setlocale(3), which in a
// freshly forked subshell cost ~0.5 ms per command (measured: half of what running `cat` costs).
// A spawner gets each command's environment whole in its request, plus the PWD and SHLVL bash
// would have added, so a command sees the same variables whichever kind runs it.
// The values travel over the workers' stdin pipes, never through a file (they may be secrets).
// Cancelling kills the worker's whole process group — the command and everything it
// started — and that worker is never reused.

import { spawn, type ChildProcess } from 'node:child_process'
import { request, spawnerBinary } from './spawner.js'
import { simpleCommand } from './simple-command.js'

const SENTINEL = '\x01AUTON_EXIT '

/**
 * The worker's program (bash -c), on one line so that bash's messages number the recipe's
 * lines from 1. Its own variables are unset before the recipe's text runs.
 */
const LOOP =
  `while IFS= read -r -N 17 __h; do ` +
  `if [[ \${__h:16} == A ]]; then IFS= read -r -N $((\${__h:0:8})) __s; IFS= read -r -N $((\${__h:8:8})) __c; ` +
  `else LC_ALL=C IFS= read -r -N $((\${__h:0:8})) __s; LC_ALL=C IFS= read -r -N $((\${__h:8:8})) __c; fi; ` +
  `( eval "$__s" && { unset __h __s; set -euo pipefail; eval "$__c"; } ) </dev/null 2>&1; ` +
  `printf '\\001AUTON_EXIT %d\\n' "$?"; done`

/** A name bash can export. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** The variables that make bash change its locale when assigned. */
const isLocale = (k: string) => k === 'LANG' || k.startsWith('LC_')

interface Worker {
  child: ChildProcess
  alive: boolean
  /** The locale variables the worker was started with (its subshells inherit them); none for a spawner. */
  locale: Record<string, string>
  /** `locale` as one string, to find a worker that needs no locale change; '' for a spawner. */
  localeId: string
  /** The running command's handlers; undefined while idle. */
  job?: { onOutput: (s: string) => void; onExit: (code: number) => void }
  buffer: string
}

const idle: Worker[] = []
const idleSpawners: Worker[] = []

/** The spawner's answer for a program it cannot run itself (a file without #!): bash runs the command. */
const AGAIN = -1

export interface ShellRun {
  /** Exit status (128 + n when killed by signal n). */
  done: Promise<number>
  /** Kill the command's whole process tree (SIGTERM, then SIGKILL). */
  kill(): void
}

/**
 * Run `text` in `cwd` as bash would; output (stdout and stderr merged) goes to `onOutput`.
 * A plain simple command goes to a spawner (spawner.ts), anything else to a bash worker.
 */
export function runCommand(cwd: string, text: string, onOutput: (s: string) => void, env: Record<string, string>): ShellRun {
  if (text.includes('\0')) throw new Error('a command cannot contain a NUL byte (bash cannot read one)')
  const simple = simpleCommand(text)
  const w = simple && spawnerBinary() ? (idleSpawners.pop() ?? startSpawner()) : undefined
  if (!simple || !w) return runInBash(cwd, text, simple !== undefined, onOutput, env)
  // what bash adds to a command's environment: PWD and SHLVL (the worker is a shell of level 1)
  const vars: Record<string, string> = {}
  for (const [k, v] of Object.entries(env)) if (NAME.test(k)) vars[k] = v
  Object.assign(vars, { PWD: cwd, SHLVL: '1' })
  let current = dispatch(w, idleSpawners, request(cwd, process.umask(), simple, vars), onOutput)
  const done = current.done.then((code) => (code === AGAIN ? (current = runInBash(cwd, text, true, onOutput, env)).done : code))
  return { done, kill: () => current.kill() }
}

/** `simple`: a plain simple command (simple-command.ts), run as `exec TEXT`. */
function runInBash(cwd: string, text: string, simple: boolean, onOutput: (s: string) => void, env: Record<string, string>): ShellRun {
  const locale = localeOf(env)
  const id = JSON.stringify(locale)
  let i = idle.length - 1
  while (i >= 0 && idle[i].localeId !== id) i--
  const w = (i >= 0 ? idle.splice(i, 1)[0] : idle.pop()) ?? startWorker(env.PATH, locale, id)
  // the worker's own environment is PATH and its locale (startWorker), so exporting the
  // recipe's set, less the locale values the worker already has, and unsetting the locale
  // variables the recipe lacks gives exactly that set (plus PWD and SHLVL, which bash maintains;
  // OLDPWD, which cd sets to wherever the worker started, is unset)
  const exports = Object.entries(env)
    .filter(([k, v]) => NAME.test(k) && !(isLocale(k) && w.locale[k] === v))
    .map(([k, v]) => `${k}=${quote(v)}`)
  const unsets = ['OLDPWD', ...Object.keys(w.locale).filter((k) => !(k in env))]
  // the umask too: a worker started earlier may have inherited another (the build server's clients')
  const setup =
    `umask ${process.umask().toString(8)} && cd -- ${quote(cwd)} && unset ${unsets.join(' ')}` +
    (exports.length ? ` && export ${exports.join(' ')}` : '')
  const body = simple ? `exec ${text}` : text
  return dispatch(w, idle, header(setup, body) + setup + body, onOutput)
}

/** Hand one request to an idle worker; it goes back to `pool` when the command is done. */
function dispatch(w: Worker, pool: Worker[], req: string | Buffer, onOutput: (s: string) => void): ShellRun {
  setRef(w, true)
  const done = new Promise<number>((resolve) => {
    w.job = {
      onOutput,
      onExit: (code) => {
        w.job = undefined
        if (w.alive) {
          setRef(w, false)
          pool.push(w)
        }
        resolve(code)
      },
    }
  })
  w.child.stdin!.write(req)
  return {
    done,
    kill: () => {
      w.alive = false // a killed worker is never reused
      const pid = w.child.pid
      if (pid === undefined) return
      signalGroup(pid, 'SIGTERM')
      setTimeout(() => signalGroup(pid, 'SIGKILL'), 300).unref()
    },
  }
}

function localeOf(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const k of Object.keys(env).sort()) if (isLocale(k) && NAME.test(k)) out[k] = env[k]
  return out
}

/**
 * Two byte counts, 8 digits each, and 'A' when both payloads are ASCII: 17 bytes that the
 * worker reads with one read(2). An ASCII payload has as many characters as bytes in every
 * locale (POSIX keeps its characters single-byte), so the worker reads it without LC_ALL=C;
 * a temporary LC_ALL makes bash call setlocale(3) twice per read, which cost the worker 0.07 ms
 * of CPU per command (measured: 3,000 commands, 0.38 s of user time with it, 0.16 s without).
 */
function header(setup: string, text: string): string {
  const s = Buffer.byteLength(setup)
  const t = Buffer.byteLength(text)
  if (s + t > 99_999_999) throw new Error('a command of 100 MB or more cannot be run')
  const ascii = s === setup.length && t === text.length
  return String(s).padStart(8) + String(t).padStart(8) + (ascii ? 'A' : 'B')
}

function startWorker(path: string | undefined, locale: Record<string, string>, localeId: string): Worker {
  // PATH to find bash, the locale for its subshells; each command gets its own environment (above)
  const env = { PATH: path ?? process.env.PATH ?? '/usr/bin:/bin', ...locale }
  const child = spawn('bash', ['--noprofile', '--norc', '-c', LOOP], { stdio: ['pipe', 'pipe', 'pipe'], detached: true, env })
  return watch({ child, alive: true, buffer: '', locale, localeId }, idle)
}

/**
 * A spawner needs no environment of its own: each request carries the command's. Undefined
 * when the binary is gone and cannot be built again (bash then runs the command).
 */
function startSpawner(): Worker | undefined {
  const bin = spawnerBinary(true)
  if (!bin) return undefined
  const child = spawn(bin, [], { stdio: ['pipe', 'pipe', 'pipe'], detached: true, env: {} })
  return watch({ child, alive: true, buffer: '', locale: {}, localeId: '' }, idleSpawners)
}

function watch(w: Worker, pool: Worker[]): Worker {
  const { child } = w
  child.stdout!.setEncoding('utf8')
  child.stderr!.setEncoding('utf8')
  child.stdout!.on('data', (s: string) => onStdout(w, s))
  // the worker's own complaints (outside the command) belong to the job
  child.stderr!.on('data', (s: string) => w.job?.onOutput(s))
  child.stdin!.on('error', () => {}) // a dead worker's pipe: reported through 'exit'
  const gone = (status: number) => {
    w.alive = false
    const i = pool.indexOf(w)
    if (i >= 0) pool.splice(i, 1)
    if (w.job) {
      if (w.buffer) w.job.onOutput(w.buffer)
      w.job.onExit(status)
    }
  }
  child.on('exit', (code, signal) => gone(signal ? 128 + (signalNumber[signal] ?? 9) : (code ?? 1) || 1))
  child.on('error', (e) => {
    w.job?.onOutput(`auton: cannot start ${child.spawnfile}: ${e.message}\n`)
    gone(127)
  })
  return w
}

function onStdout(w: Worker, s: string): void {
  w.buffer += s
  for (;;) {
    const at = w.buffer.indexOf(SENTINEL)
    if (at < 0) {
      // keep a possible partial sentinel at the end for the next chunk
      const keep = Math.min(w.buffer.length, SENTINEL.length + 4)
      const out = w.buffer.slice(0, w.buffer.length - keep)
      if (out) w.job?.onOutput(out)
      w.buffer = w.buffer.slice(w.buffer.length - keep)
      return
    }
    const nl = w.buffer.indexOf('\n', at)
    if (nl < 0) return // the status digits are still coming
    if (at > 0) w.job?.onOutput(w.buffer.slice(0, at))
    const status = w.buffer.slice(at + SENTINEL.length, nl)
    const code = status.endsWith(' again') ? AGAIN : Number(status)
    w.buffer = w.buffer.slice(nl + 1)
    w.job?.onExit(code)
  }
}

/** Idle workers must not keep the process alive; busy ones must. */
function setRef(w: Worker, on: boolean): void {
  for (const h of [w.child, w.child.stdin, w.child.stdout, w.child.stderr] as unknown as { ref(): void; unref(): void }[]) {
    if (on) h.ref()
    else h.unref()
  }
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig)
  } catch {
    // already gone
  }
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

const signalNumber: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15, SIGPIPE: 13 }
