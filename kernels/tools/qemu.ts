// qemu.ts — drive a kernel's serial console under QEMU.
//
// `QemuSession.start()` spawns QEMU with `-serial stdio` (console on our stdin/stdout),
// `waitFor(regex)` waits for output with a hard timeout, `send(line)` types a line,
// `command(line)` types one and returns what it printed before the next prompt,
// `poweroff()` asks the guest to stop and waits for QEMU to exit. `bootScript()` runs a
// whole scripted conversation and returns transcript + timings (the qemu-boot-report).
//
// Invariant: QEMU never outlives the session. It is SIGKILLed on timeout, on a failed
// wait, on the abort signal, when poweroff does not end it, and when this Node process
// exits (an 'exit' hook, and SIGINT/SIGTERM/SIGHUP hooks, kill every QEMU still running).

import { spawn, type ChildProcess } from 'node:child_process'

export interface QemuOptions {
  /** e.g. 'qemu-system-x86_64' */
  binary: string
  /** machine arguments (kbuild's archBuild(arch).qemu.args); serial/monitor are added here */
  args: string[]
  /** kernel image passed with -kernel */
  kernel: string
  cwd?: string
  /** Cancels everything (QEMU is killed, pending waits reject). */
  signal?: AbortSignal
  /** Called with every chunk of console output as it arrives (live logs). */
  onOutput?: (text: string) => void
}

export interface Mark {
  /** what was matched or sent */
  label: string
  /** milliseconds since QEMU was spawned */
  ms: number
}

export class QemuError extends Error {
  constructor(message: string, readonly transcript: string) {
    super(`${message}\n--- last console output ---\n${transcript.slice(-1500)}`)
  }
}

const live = new Set<ChildProcess>()
let exitHookInstalled = false
function killAll(): void { for (const c of live) c.kill('SIGKILL') }
function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', killAll)
  // A fatal signal skips 'exit'. Kill QEMU, then, if nobody else handles the signal,
  // re-raise it so Node still dies the way it would have without us.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      killAll()
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, onSignal)
        process.kill(process.pid, sig)
      }
    }
    process.on(sig, onSignal)
  }
}

interface Waiter { re: RegExp; resolve: (m: RegExpExecArray) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }

export class QemuSession {
  /** Console output so far, with '\r' removed (the kernel sends "\r\n"). */
  transcript = ''
  readonly marks: Mark[] = []
  exitCode: number | null = null
  exitSignal: NodeJS.Signals | null = null
  stderr = ''

  private readonly child: ChildProcess
  private readonly t0 = Date.now()
  private cursor = 0 // waitFor searches the transcript from here
  private waiter: Waiter | null = null
  private readonly exited: Promise<void>
  private readonly onAbort = () => this.fail(new QemuError('aborted', this.transcript))

  private constructor(readonly opts: QemuOptions) {
    installExitHook()
    const argv = [...opts.args, '-serial', 'stdio', '-monitor', 'none', '-kernel', opts.kernel]
    this.child = spawn(opts.binary, argv, { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] })
    live.add(this.child)
    this.child.stdout!.setEncoding('utf8')
    this.child.stdout!.on('data', (d: string) => {
      const text = d.replace(/\r/g, '')
      this.transcript += text
      opts.onOutput?.(text)
      this.check()
    })
    this.child.stderr!.setEncoding('utf8')
    this.child.stderr!.on('data', (d: string) => (this.stderr += d))
    this.child.stdin!.on('error', () => {}) // EPIPE after QEMU exits: reported through 'exit'
    this.exited = new Promise((resolve) => {
      this.child.on('error', (e) => {
        this.stderr += `spawn failed: ${e.message}`
        this.exitCode = -1
        live.delete(this.child)
        this.fail(new QemuError(`cannot run ${opts.binary}: ${e.message} (is QEMU installed? apt-get install qemu-system-x86)`, this.transcript))
        resolve()
      })
      // 'close', not 'exit': by then stdout and stderr are fully read
      this.child.on('close', (code, sig) => {
        this.exitCode = code
        this.exitSignal = sig
        live.delete(this.child)
        this.mark(`exit ${code ?? sig}`)
        this.fail(new QemuError(`QEMU exited (${code ?? sig}) while waiting${this.stderr ? `; stderr: ${this.stderr.trim()}` : ''}`, this.transcript))
        resolve()
      })
    })
    opts.signal?.addEventListener('abort', this.onAbort, { once: true })
  }

  static start(opts: QemuOptions): QemuSession {
    if (opts.signal?.aborted) throw new Error('qemu: aborted before start')
    return new QemuSession(opts)
  }

  get running(): boolean { return this.exitCode === null && this.exitSignal === null }

  /** Milliseconds since spawn. */
  elapsed(): number { return Date.now() - this.t0 }

  private mark(label: string): void { this.marks.push({ label, ms: this.elapsed() }) }

  private check(): void {
    const w = this.waiter
    if (!w) return
    const rest = this.transcript.slice(this.cursor)
    const m = w.re.exec(rest)
    if (!m) return
    this.cursor += m.index + m[0].length
    clearTimeout(w.timer)
    this.waiter = null
    this.mark(`matched ${w.re}`)
    w.resolve(m)
  }

  private fail(err: Error): void {
    const w = this.waiter
    if (!w) return
    clearTimeout(w.timer)
    this.waiter = null
    w.reject(err)
  }

  /** Waits until `re` matches output after the previous match. On timeout QEMU is killed. */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    if (this.waiter) return Promise.reject(new Error('qemu: one waitFor at a time'))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null
        this.kill()
        reject(new QemuError(`timed out after ${timeoutMs} ms waiting for ${re}`, this.transcript))
      }, timeoutMs)
      this.waiter = { re, resolve, reject, timer }
      this.check()
      if (this.waiter && !this.running) this.fail(new QemuError(`QEMU already exited (${this.exitCode ?? this.exitSignal}); ${re} never appeared`, this.transcript))
    }).catch((e) => { this.kill(); throw e }) as Promise<RegExpExecArray>
  }

  /** Types `line` and Enter (CR, as a terminal sends it). */
  send(line: string): void {
    this.mark(`send ${JSON.stringify(line)}`)
    this.child.stdin!.write(line + '\r')
  }

  /** Sends a shell command and resolves with its output (echo line removed) once the
   *  next prompt appears. */
  async command(line: string, opts: { prompt?: RegExp; timeoutMs?: number } = {}): Promise<string> {
    const prompt = opts.prompt ?? /auton> /
    const start = this.transcript.length
    this.send(line)
    await this.waitFor(prompt, opts.timeoutMs ?? 10_000)
    const out = this.transcript.slice(start, this.cursor).replace(prompt, '')
    const nl = out.indexOf('\n')
    return nl < 0 ? '' : out.slice(nl + 1)
  }

  /** Sends `command` (default 'poweroff') and waits up to timeoutMs for QEMU to exit;
   *  kills it otherwise. Resolves with the exit code (null if it had to be killed). */
  async poweroff(command = 'poweroff', timeoutMs = 5000): Promise<number | null> {
    if (this.running) {
      this.send(command)
      const timer = setTimeout(() => this.kill(), timeoutMs)
      await this.exited
      clearTimeout(timer)
    }
    this.dispose()
    return this.exitSignal ? null : this.exitCode
  }

  /** SIGKILLs QEMU (idempotent) and waits for it to be gone. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL')
    await this.exited
    this.dispose()
  }

  private dispose(): void {
    this.opts.signal?.removeEventListener('abort', this.onAbort)
  }
}

export interface ScriptStep {
  /** line to type (omit for a pure wait, e.g. the first prompt) */
  send?: string
  /** output to wait for after sending */
  expect: RegExp
  timeoutMs?: number
}

export interface BootReport {
  transcript: string
  marks: Mark[]
  /** ms from spawn to the first match of each step's expect, in order */
  stepMs: number[]
  exitCode: number | null
  totalMs: number
  stderr: string
}

/** Boots, runs the steps in order, powers off. Always leaves QEMU dead, also when a step
 *  fails (the error carries the transcript). */
export async function bootScript(opts: QemuOptions & { steps: ScriptStep[]; poweroffCommand?: string }): Promise<BootReport> {
  const s = QemuSession.start(opts)
  const stepMs: number[] = []
  try {
    for (const step of opts.steps) {
      if (step.send !== undefined) s.send(step.send)
      await s.waitFor(step.expect, step.timeoutMs ?? 10_000)
      stepMs.push(s.elapsed())
    }
    const exitCode = await s.poweroff(opts.poweroffCommand ?? 'poweroff')
    return { transcript: s.transcript, marks: s.marks, stepMs, exitCode, totalMs: s.elapsed(), stderr: s.stderr }
  } finally {
    await s.kill()
  }
}
