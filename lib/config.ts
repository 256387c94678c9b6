// config.ts — auton.toml, parsed with smol-toml and validated with zod.
//
// Every option is documented where it is defined. Unknown top-level tables are kept
// (as `extra`) so that rules can read their own sections without the engine knowing them.
//
// Every command reads the configuration, and importing zod and smol-toml costs more than the
// rest of a no-op build's start-up. So the validated result is memoised in .auton/config.json
// under the sha256 of auton.toml's bytes and of this module's own code (a new schema or
// default invalidates it); zod and smol-toml load only when either changed.

import { readFileSync, existsSync, mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { join, resolve, sep } from 'node:path'
import { createHash } from 'node:crypto'
import type { z as Z } from 'zod'
import { writeAtomic } from './atomic.js'

const require = createRequire(import.meta.url)

function schema(z: typeof Z) {
  return z.object({
    build: z
      .object({
        /** Parallel recipes; default: number of cores. */
        jobs: z.number().int().positive().optional(),
        /**
         * Variables every recipe sees besides the fixed set (PATH, HOME, USER, LANG, LC_*, TERM,
         * TMPDIR) and its declared `env`. They do not enter keys: list only what cannot change
         * an output (a proxy, an agent socket).
         */
        pass_env: z.array(z.string()).default([]),
      })
      .prefault({}),
    /** Pool name → how many of its targets may run at once (e.g. train = 1, qemu = 1, llm = 2). */
    pools: z.record(z.string(), z.number().int().positive()).prefault({}),
    cache: z
      .object({
        /** Local content-addressed cache directory, relative to the project. */
        dir: z.string().default('cache'),
        /** Remote cache base URL (Bazel HTTP cache protocol). */
        remote: z.string().optional(),
        /** Never upload (untrusted PR builds). */
        remote_read_only: z.boolean().default(false),
        /** Name of the environment variable holding the remote's credentials ("user:pass" or a bearer token). */
        remote_auth_env: z.string().optional(),
        /** Name of the environment variable holding the team key that signs action records (HMAC-SHA256). */
        sign_key_env: z.string().optional(),
      })
      .prefault({}),
    agents: z
      .object({
        /** Stop the build before a model call that could push spending past this. */
        budget_usd: z.number().positive().optional(),
        /** Role → "provider:model", e.g. architect = "anthropic:claude-sonnet-4-5". */
        models: z.record(z.string(), z.string()).prefault({}),
        /** Model → USD per million tokens, overriding the built-in table. */
        prices: z.record(z.string(), z.object({ input: z.number(), output: z.number() })).prefault({}),
        anthropic_base_url: z.string().optional(),
        ollama_host: z.string().optional(),
      })
      .prefault({}),
    /**
     * Named executors targets can ask for with `executor: '<name>'` ('local' is built in).
     * kind = "slurm": partition, account, qos, and extra sbatch arguments.
     */
    executors: z
      .record(
        z.string().refine((n) => n !== 'local', { message: "'local' is built in; name the cluster something else" }),
        z.object({
          kind: z.enum(['slurm']),
          /** sbatch --partition (default: the cluster's default partition). */
          partition: z.string().min(1).optional(),
          /** sbatch --account */
          account: z.string().min(1).optional(),
          /** sbatch --qos */
          qos: z.string().min(1).optional(),
          /** More sbatch arguments, after auton's own (e.g. ["--constraint=a100", "--exclusive"]). */
          sbatch_args: z.array(z.string()).default([]),
        }).strict(),
      )
      .prefault({}),
    slm: z
      .object({
        /** Model preset from SLM/configs/<preset>.yaml, or "agent" to let the architect agent choose. */
        preset: z.string().default('micro'),
        /** Executor for the pipeline's heavy steps (training): 'local' or a name from [executors]. */
        executor: z.string().default('local'),
        /** What training asks of that executor (SLURM: --cpus-per-task, --mem, --gpus, --time), e.g. { cpus = 16, mem = "32G", time = "2h" }. */
        resources: z
          .object({
            cpus: z.number().int().positive().optional(),
            mem: z.string().regex(/^\d+\s*[KMGT]?i?B?$/i, 'like "500M" or "32G"').optional(),
            gpus: z.number().int().nonnegative().optional(),
            time: z.string().optional(),
          })
          .strict()
          .prefault({}),
      })
      .prefault({}),
  })
}

export type AutonConfig = Z.infer<ReturnType<typeof schema>> & { root: string }

export function loadConfig(root: string, file = join(root, 'auton.toml')): AutonConfig {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : undefined
  const id = createHash('sha256').update(SCHEMA_ID).update('\0').update(text ?? '(none)').digest('hex')
  const memo = join(root, '.auton', 'config.json')
  try {
    const m = JSON.parse(readFileSync(memo, 'utf8')) as { id: string; data: Omit<AutonConfig, 'root'> }
    if (m.id === id) return { ...m.data, root }
  } catch {
    // no memo yet, or a damaged one: validate
  }
  const data = validate(file, text)
  try {
    mkdirSync(join(root, '.auton'), { recursive: true })
    writeAtomic(memo, JSON.stringify({ id, data }))
  } catch {
    // a read-only checkout only costs validating again
  }
  return { ...data, root }
}

/** This module's code: part of the memo's identity. */
const SCHEMA_ID = (() => {
  try {
    return readFileSync(fileURLToPath(import.meta.url), 'utf8')
  } catch {
    return String(Math.random()) // cannot read ourselves: never trust a memo
  }
})()

function validate(file: string, text: string | undefined): Omit<AutonConfig, 'root'> {
  const { z } = require('zod') as { z: typeof Z }
  const Config = schema(z)
  if (text === undefined) return Config.parse({})
  let raw: unknown
  try {
    raw = (require('smol-toml') as { parse(s: string): unknown }).parse(text)
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`)
  }
  const r = Config.safeParse(raw)
  if (!r.success) {
    const issues = r.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')
    throw new Error(`${file}: invalid configuration\n${issues}`)
  }
  return r.data
}

const CURRENT = Symbol.for('auton.config')

/** The configuration of the build that is loading the autonfile (rules read it). */
export function config(): AutonConfig {
  const g = globalThis as { [CURRENT]?: AutonConfig }
  return (g[CURRENT] ??= loadConfig(process.cwd()))
}

export function setConfig(c: AutonConfig): void {
  ;(globalThis as { [CURRENT]?: AutonConfig })[CURRENT] = c
}

/**
 * Directories a change in which never makes a build stale by itself: auton's own state, git's,
 * the packages (an install is noticed another way) and the cache when it is inside the
 * checkout. Watch mode and the build server's watcher both leave them out.
 */
export function ignoredDirs(root: string, cfg: AutonConfig): string[] {
  const cache = resolve(root, cfg.cache.dir)
  return [join(root, '.auton'), join(root, '.git'), join(root, 'node_modules'), ...(cache.startsWith(root + sep) ? [cache] : [])]
}
