// retry.ts — provider calls survive rate limits, overloads and slow answers.
//
// One loop for every provider (the SDKs' own retries are switched off, so there is one
// policy, one log line per retry, and tests that prove it): 408/409/429/5xx (Anthropic's 529
// "overloaded" included) and attempts that outlive their timeout are retried with exponential
// backoff and jitter. A server's `retry-after-ms` / `retry-after` (seconds or HTTP date) wins
// over the backoff. Cancellation (the build's signal) is never retried.

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number
  /** First backoff delay; doubles per retry. */
  baseMs: number
  /** Cap on one backoff delay. */
  maxMs: number
  /** A retry-after longer than this is not waited for: the call fails instead. */
  maxRetryAfterMs: number
  /** Per-attempt timeout. */
  timeoutMs: number
}

export const DEFAULT_RETRY: RetryPolicy = {
  retries: 5,
  baseMs: 1000,
  maxMs: 30_000,
  maxRetryAfterMs: 120_000,
  timeoutMs: 600_000,
}

/** How a provider describes a failed attempt. */
export interface Fault {
  retryable: boolean
  /** What went wrong, without secrets: "HTTP 529 overloaded_error: Overloaded". */
  reason: string
  /** The server's retry-after, if it sent one. */
  afterMs?: number
}

export class Cancelled extends Error {
  constructor(what: string) {
    super(`${what}: cancelled`)
    this.name = 'Cancelled'
  }
}

export interface RetryOptions {
  /** "anthropic claude-sonnet-4-5 call 2", for messages. */
  what: string
  policy: RetryPolicy
  /** The build's signal: aborting it ends the call and the waiting at once. */
  signal: AbortSignal
  classify(err: unknown): Fault
  log(line: string): void
}

/** Run `attempt(signal)` until it succeeds, a fault is not retryable, or retries run out. */
export async function withRetry<T>(attempt: (signal: AbortSignal) => Promise<T>, o: RetryOptions): Promise<T> {
  for (let n = 0; ; n++) {
    if (o.signal.aborted) throw new Cancelled(o.what)
    const timer = AbortSignal.timeout(o.policy.timeoutMs)
    try {
      return await attempt(AbortSignal.any([o.signal, timer]))
    } catch (err) {
      if (o.signal.aborted) throw new Cancelled(o.what)
      const fault: Fault = timer.aborted
        ? { retryable: true, reason: `no answer within ${o.policy.timeoutMs < 10_000 ? `${o.policy.timeoutMs} ms` : `${Math.round(o.policy.timeoutMs / 1000)} s`}` }
        : o.classify(err)
      if (fault.afterMs !== undefined && fault.afterMs > o.policy.maxRetryAfterMs) {
        throw new Error(`${o.what} failed: ${fault.reason}; the server asked to wait ${Math.ceil(fault.afterMs / 1000)}s, more than auton waits`)
      }
      if (!fault.retryable) throw new Error(`${o.what} failed: ${fault.reason}`)
      if (n >= o.policy.retries) throw new Error(`${o.what} failed after ${n + 1} attempts: ${fault.reason}`)
      const delay = fault.afterMs ?? backoffMs(n, o.policy)
      o.log(`${o.what}: ${fault.reason}; retry ${n + 1}/${o.policy.retries} in ${(delay / 1000).toFixed(1)}s\n`)
      await sleep(delay, o.signal, o.what)
    }
  }
}

/** Exponential with "equal jitter": half the delay fixed, half random, so clients spread out. */
export function backoffMs(retry: number, p: RetryPolicy): number {
  const d = Math.min(p.maxMs, p.baseMs * 2 ** retry)
  return Math.round(d / 2 + (Math.random() * d) / 2)
}

export function retryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500
}

/** retry-after-ms (ms), else retry-after (seconds or an HTTP date); undefined when absent or unparsable. */
export function retryAfterMs(get: (name: string) => string | null | undefined): number | undefined {
  const ms = parseFloat(get('retry-after-ms') ?? '')
  if (Number.isFinite(ms) && ms >= 0) return ms
  const v = get('retry-after')
  if (!v) return undefined
  const s = Number(v)
  if (v.trim() !== '' && Number.isFinite(s) && s >= 0) return s * 1000
  const date = Date.parse(v)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}

function sleep(ms: number, signal: AbortSignal, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }
    const t = setTimeout(done, ms)
    const onAbort = () => {
      clearTimeout(t)
      reject(new Cancelled(what))
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** The errno code (ECONNREFUSED, …) somewhere down an error's cause chain. */
export function networkCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 6; e = e.cause as typeof e, i++) {
    if (typeof e.code === 'string' && /^E[A-Z_]+$/.test(e.code)) return e.code
    const inner = (e as { errors?: unknown[] }).errors
    if (Array.isArray(inner)) for (const x of inner) {
      const c = networkCode(x)
      if (c) return c
    }
  }
  return undefined
}
