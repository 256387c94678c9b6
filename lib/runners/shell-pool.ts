// shell-pool.ts — long-lived bash workers that run `sh` recipes.
//
// Why: child_process.spawn forks the Node process, and once auton holds a large graph that
// costs several milliseconds per command (the fork copies a 100+ MB address space's page
// tables); a small bash forks its subshell for a fraction of that. Each worker is a detached
// bash — its own process group — reading commands on stdin. A command runs as
//   cd DIR && ( set -euo pipefail; . FILE ) </dev/null 2>&1; printf '\1AUTON_EXIT %d\n' $?
// Sourcing the command from a file means no command text (quotes, heredocs, a syntax error)
// can desynchronise the protocol; </dev/null keeps recipes off the worker's stdin.
// Environment: the worker starts with PATH alone and each command's subshell exports exactly
// the recipe's environment (env.ts), so nothing of auton's own environment leaks into a command
// (and no command's variables outlive its subshell).
// The values travel over the worker's stdin pipe, never through a file (they may be secrets).
// Cancelling kills the worker's whole process group — the command and everything it
// started — and that worker is never reused.

import { spawn, type ChildProcess } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const SENTINEL = '\x01AUTON_EXIT '

interface Worker {
  child: ChildProcess
  alive: boolean
  /** The running command's handlers; undefined while idle. */
  job?: { onOutput: (s: string) => void; onExit: (code: number) => void }
  buffer: string
}

const idle: Worker[] = []
let seq = 0

export interface ShellRun {
  /** Exit status (128 + n when killed by signal n). */
  done: Promise<number>
  /** Kill the command's whole process tree (SIGTERM, then SIGKILL). */
  kill(): void
}

/** Run `text` with bash in `cwd`; output (stdout and stderr merged) goes to `onOutput`. */
export function runCommand(cwd: string, text: string, onOutput: (s: string) => void, env: Record<string, string>): ShellRun {
  const w = idle.pop() ?? startWorker()
  const file = join(tmpdir(), `auton-cmd-${process.pid}-${seq++}.sh`)
  writeFileSync(file, text + '\n')
  setRef(w, true)
  const done = new Promise<number>((resolve) => {
    w.job = {
      onOutput,
      onExit: (code) => {
        w.job = undefined
        rmSync(file, { force: true })
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
  const setEnv = exports.length ? `export ${exports.join(' ')};` : ''
  w.child.stdin!.write(`cd -- ${quote(cwd)} && ( ${setEnv} set -euo pipefail; . ${quote(file)} ) </dev/null 2>&1; printf '\\001AUTON_EXIT %d\\n' "$?"\n`)
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

function startWorker(): Worker {
  // the worker itself needs only PATH; each command gets its own environment (above)
  const child = spawn('bash', ['--noprofile', '--norc'], { stdio: ['pipe', 'pipe', 'pipe'], detached: true, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } })
  const w: Worker = { child, alive: true, buffer: '' }
  child.stdout!.setEncoding('utf8')
  child.stderr!.setEncoding('utf8')
  child.stdout!.on('data', (s: string) => onStdout(w, s))
  // bash's own complaints (outside the subshell, e.g. a missing directory) belong to the job
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

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

const signalNumber: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15, SIGPIPE: 13 }
