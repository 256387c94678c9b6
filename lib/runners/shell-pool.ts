// shell-pool.ts — long-lived bash workers that run `sh` recipes.
//
// Why: child_process.spawn forks the Node process, and once auton holds a large graph that
// costs several milliseconds per command (the fork copies a 100+ MB address space's page
// tables); a small bash forks its subshell for a fraction of that. Each worker is a detached
// bash — its own process group — running LOOP (below): per command it reads a 16-byte header
// (the byte counts of setup and text), then exactly that many bytes: the setup (umask, cd and
// exports, made here, quoted) and the command text, with `read -N` (one read(2) each; bash
// reads a script from a pipe one byte per syscall, which cost more than the command), and runs
//   ( eval SETUP && { set -euo pipefail; eval TEXT; } ) </dev/null 2>&1; printf '\1AUTON_EXIT %d\n' $?
// The text is a counted payload, never parsed as part of the protocol: no command text (quotes,
// heredocs, a syntax error, a fake sentinel) can desynchronise the worker; </dev/null keeps
// recipes off the worker's stdin. Byte counts hold because the worker runs in the C locale
// (its environment is PATH alone); a NUL byte cannot be passed to bash at all and is refused.
// A command that is one plain simple command (`cat a b > out`: see execable) is run as
// `exec TEXT`, so the subshell becomes the program instead of forking once more for it.
// Environment: the worker starts with PATH alone and each command's subshell exports exactly
// the recipe's environment (env.ts), so nothing of auton's own environment leaks into a command
// (and no command's variables outlive its subshell).
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
  `while IFS= read -r -N 16 __h; do __a=$((\${__h:0:8})); IFS= read -r -N $((__a + \${__h:8:8})) __p; ` +
  `__s=\${__p:0:__a}; __c=\${__p:__a}; ` +
  `( eval "$__s" && { unset __h __a __p __s; set -euo pipefail; eval "$__c"; } ) </dev/null 2>&1; ` +
  `printf '\\001AUTON_EXIT %d\\n' "$?"; done`

interface Worker {
  child: ChildProcess
  alive: boolean
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
  const w = idle.pop() ?? startWorker()
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
  const exports = Object.entries(env).filter(([k]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k)).map(([k, v]) => `${k}=${quote(v)}`)
  // the worker's own environment is only PATH (startWorker), so exporting the recipe's set
  // gives exactly that set (plus PWD and SHLVL, which bash maintains itself)
  // the umask too: a worker started earlier may have inherited another (the build server's clients')
  const setup = `umask ${process.umask().toString(8)} && cd -- ${quote(cwd)}${exports.length ? ` && export ${exports.join(' ')}` : ''}`
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

/** Two byte counts, 8 digits each: 16 bytes that the worker reads with one read(2). */
function header(setup: number, text: number): string {
  if (setup + text > 99_999_999) throw new Error('a command of 100 MB or more cannot be run')
  return String(setup).padStart(8) + String(text).padStart(8)
}

function startWorker(): Worker {
  // the worker itself needs only PATH; each command gets its own environment (above)
  const child = spawn('bash', ['--noprofile', '--norc', '-c', LOOP], { stdio: ['pipe', 'pipe', 'pipe'], detached: true, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } })
  const w: Worker = { child, alive: true, buffer: '' }
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
