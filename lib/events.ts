// events.ts — the one stream the engine reports through. The engine never prints;
// reporters (TTY, plain, JSON lines, Chrome trace) turn these events into output.

import type { Usage } from './recipe.js'

export type TargetStatus = 'ran' | 'restored' | 'up-to-date' | 'failed' | 'skipped' | 'would-run'

export type BuildEvent =
  | { type: 'plan'; targets: string[]; jobs: number; at: number }
  | { type: 'start'; name: string; kind: string; describe: string; pool?: string; at: number }
  | { type: 'progress'; name: string; message: string; at: number }
  | {
      type: 'target'
      name: string
      status: TargetStatus
      ms: number
      at: number
      /** Where a restore came from. */
      source?: 'local' | 'remote'
      /** Why it ran (first reason from `explain`), or why it failed. */
      reason?: string
      error?: string
      /** Path of the target's log file, and its last lines on failure. */
      log?: string
      tail?: string
      usage?: Usage
    }
  /** Targets the build server knows are up to date without checking (server/session.ts): one `target` event each, up to date. */
  | { type: 'up-to-date'; names: string[]; at: number }
  | { type: 'warning'; message: string; at: number }
  | {
      type: 'summary'
      ok: boolean
      ran: number
      restored: number
      upToDate: number
      failed: number
      skipped: number
      /** Dry runs: how many targets would run. */
      wouldRun: number
      /** Targets whose inputs changed while their recipe ran: outputs kept, not recorded or cached. */
      unrecorded?: number
      /** Cache action records refused because their signature did not verify (local + remote). */
      refused?: number
      ms: number
      inputTokens: number
      outputTokens: number
      costUsd: number
      at: number
    }

export type Emit = (e: BuildEvent) => void
