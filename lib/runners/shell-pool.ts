// shell-pool.ts — long-lived bash workers that run `sh` recipes.
//
// Why: child_process.spawn forks the Node process, and once auton holds a large graph that
// costs several milliseconds per command (the fork copies a 100+ MB address space's page
// tables); a small bash forks its subshell for a fraction of that. Each worker is a detached
// bash — its own process group — running LOOP (below): per command it reads a 16-byte header
// (the byte counts of setup and text), then exactly that many bytes of each: the setup (umask,
// cd and exports, made here, quoted) and the command text, with `read -N` (one read(2) each;
// bash reads a script from a pipe one byte per syscall, which cost more than the command), and runs
//   ( eval SETUP && { set -euo pipefail; eval TEXT; } ) </dev/null 2>&1; printf '\1AUTON_EXIT %d\n' $?
// The text is a counted payload, never parsed as part of the protocol: no command text (quotes,
// heredocs, a syntax error, a fake sentinel) can desynchronise the worker; </dev/null keeps
// recipes off the worker's stdin. The reads run with LC_ALL=C so that -N counts bytes whatever
// the worker's locale; a NUL byte cannot be passed to bash at all and is refused.
// A command that is one plain simple command (`cat a b > out`: see execable) is run as
// `exec TEXT`, so the subshell becomes the program instead of forking once more for it.
// Environment: nothing of auton's own environment leaks into a command, and no command's
// variables outlive its subshell. A worker starts with PATH and the locale variables (LANG,
// LC_*) of the first command it runs; each command's subshell exports the rest of its
// recipe's environment (env.ts), and sets or unsets a locale variable only where it differs
// from the worker's. Why: assigning LANG or LC_* makes bash call setlocale(3), which in a
// freshly forked subshell cost ~0.5 ms per command (measured: half of what running `cat` costs).
// The values travel over the worker's stdin pipe, never through a file (they may be secrets).
// Cancelling kills the worker's whole process group — the command and everything it
// started — and that worker is never reused.

import { spawn, type ChildProcess } from 'node:child_process'

const SENTINEL = '\x01AUTON_EXIT '

/**
 * The worker's program (bash -c), on one line so that bash's messages number the recipe's
 * lines from 1. Its own variables are unset before the recipe's text runs.
 */
const LOOP =
  `while LC_ALL=C IFS= read -r -N 16 __h; do ` +
  `LC_ALL=C IFS= read -r -N $((\${__h:0:8})) __s; LC_ALL=C IFS= read -r -N $((\${__h:8:8})) __c; ` +
  `( eval "$__s" && { unset __h __s; set -euo pipefail; eval "$__c"; } ) </dev/null 2>&1; ` +
  `printf '\\001AUTON_EXIT %d\\n' "$?"; done`

/** A name bash can export. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** The variables that make bash change its locale when assigned. */
const isLocale = (k: string) => k === 'LANG' || k.startsWith('LC_')

interface Worker {
  child: ChildProcess
  alive: boolean
  /** The locale variables the worker was started with (its subshells inherit them). */
  locale: Record<string, string>
  /** `locale` as one string, to find a worker that needs no locale change. */
  localeId: string
  /** The running command's handlers; undefined while idle. */
  job?: { onOutput: (s: string) => void; onExit: (code: number) => void }
  buffer: string
}

const idle: Worker[] = []

export interface ShellRun {
  /** Exit status (128 + n when killed by signal n). */
  done: Promise<number>
  /** Kill the command's whole process tree (SIGTERM, then SIGKILL). */
  kill(): void
}

/** Run `text` with bash in `cwd`; output (stdout and stderr merged) goes to `onOutput`. */
export function runCommand(cwd: string, text: string, onOutput: (s: string) => void, env: Record<string, string>): ShellRun {
  if (text.includes('\0')) throw new Error('a command cannot contain a NUL byte (bash cannot read one)')
  const locale = localeOf(env)
  const id = JSON.stringify(locale)
  let i = idle.length - 1
  while (i >= 0 && idle[i].localeId !== id) i--
  const w = (i >= 0 ? idle.splice(i, 1)[0] : idle.pop()) ?? startWorker(env.PATH, locale, id)
  setRef(w, true)
  const done = new Promise<number>((resolve) => {
    w.job = {
      onOutput,
      onExit: (code) => {
        w.job = undefined
        if (w.alive) {
          setRef(w, false)
          idle.push(w)
        }
        resolve(code)
      },
    }
  })
  // the worker's own environment is PATH and its locale (startWorker), so exporting the
  // recipe's set, less the locale values the worker already has, and unsetting the locale
  // variables the recipe lacks gives exactly that set (plus PWD and SHLVL, which bash maintains)
  const exports = Object.entries(env)
    .filter(([k, v]) => NAME.test(k) && !(isLocale(k) && w.locale[k] === v))
    .map(([k, v]) => `${k}=${quote(v)}`)
  const unsets = Object.keys(w.locale).filter((k) => !(k in env))
  // the umask too: a worker started earlier may have inherited another (the build server's clients')
  const setup =
    `umask ${process.umask().toString(8)} && cd -- ${quote(cwd)}` +
    (unsets.length ? ` && unset ${unsets.join(' ')}` : '') +
    (exports.length ? ` && export ${exports.join(' ')}` : '')
  const body = execable(text) ? `exec ${text}` : text
  w.child.stdin!.write(header(Buffer.byteLength(setup), Buffer.byteLength(body)) + setup + body)
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

/** Two byte counts, 8 digits each: 16 bytes that the worker reads with one read(2). */
function header(setup: number, text: number): string {
  if (setup + text > 99_999_999) throw new Error('a command of 100 MB or more cannot be run')
  return String(setup).padStart(8) + String(text).padStart(8)
}

function startWorker(path: string | undefined, locale: Record<string, string>, localeId: string): Worker {
  // PATH to find bash, the locale for its subshells; each command gets its own environment (above)
  const env = { PATH: path ?? process.env.PATH ?? '/usr/bin:/bin', ...locale }
  const child = spawn('bash', ['--noprofile', '--norc', '-c', LOOP], { stdio: ['pipe', 'pipe', 'pipe'], detached: true, env })
  const w: Worker = { child, alive: true, buffer: '', locale, localeId }
  child.stdout!.setEncoding('utf8')
  child.stderr!.setEncoding('utf8')
  child.stdout!.on('data', (s: string) => onStdout(w, s))
  // bash's own complaints (outside the subshell) belong to the job
  child.stderr!.on('data', (s: string) => w.job?.onOutput(s))
  child.stdin!.on('error', () => {}) // a dead worker's pipe: reported through 'exit'
  child.on('exit', (code, signal) => {
    w.alive = false
    const i = idle.indexOf(w)
    if (i >= 0) idle.splice(i, 1)
    if (w.job) {
      if (w.buffer) w.job.onOutput(w.buffer)
      w.job.onExit(signal ? 128 + (signalNumber[signal] ?? 9) : (code ?? 1) || 1)
    }
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
    const code = Number(w.buffer.slice(at + SENTINEL.length, nl))
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

/**
 * True when `text` is provably one simple command running a program: plain words (no
 * expansions, globs, operators or double quotes; single-quoted parts allowed), simple
 * redirections, and a first word that is not a builtin, keyword or assignment. Then
 * `exec TEXT` does what TEXT does, one fork sooner. Anything else (`a && b`, `echo x`, `$CC`)
 * runs as written.
 */
export function execable(text: string): boolean {
  const t = text.trim()
  if (!t || t.length > 4096) return false
  if (!/^(?:[A-Za-z0-9_/.,:=+@%-]|'[^']*'|[ \t]+|[0-2]?>>?(?:&[0-2])?|<(?!<))+$/.test(t)) return false
  const first = /^[A-Za-z0-9_/.+][A-Za-z0-9_/.,:+@%-]*(?=[ \t]|$)/.exec(t)
  return first !== null && !NOT_A_PROGRAM.has(first[0])
}

/** bash 5.2's `compgen -b -k` (words that a shell runs itself), and `exec` itself. */
const NOT_A_PROGRAM = new Set(
  ('. : [ alias bg bind break builtin caller cd command compgen complete compopt continue declare dirs disown echo ' +
    'enable eval exec exit export false fc fg getopts hash help history jobs kill let local logout mapfile popd printf ' +
    'pushd pwd read readarray readonly return set shift shopt source suspend test times trap true type typeset ulimit ' +
    'umask unalias unset wait if then else elif fi case esac for select while until do done in function time coproc').split(' '),
)

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

const signalNumber: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15, SIGPIPE: 13 }
