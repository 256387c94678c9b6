// env.ts — the environment a recipe runs in.
//
// A shared cache serves one machine's output to another, so an output may depend only on
// what its key covers. A recipe therefore sees:
//   - a fixed pass-through set: PATH, HOME, USER, LANG, LC_*, TERM, TMPDIR (what a shell
//     needs to work; tool identities cover what PATH selects);
//   - `[build] pass_env` from auton.toml and the target's `passEnv` (values that must reach
//     a command but cannot change its output, e.g. SSH_AUTH_SOCK; not keyed);
//   - its declared `env` (keyed) and its `secrets` (never keyed, stored or shown).
// Nothing else: `FOO=x auton build` does not reach a recipe that did not declare FOO.
// The cache's signing key ([cache] sign_key_env) never reaches a recipe, whatever it declares.

import type { TargetDecl } from './dsl.js'

const PASS = new Set(['PATH', 'HOME', 'USER', 'LANG', 'TERM', 'TMPDIR'])

export function passThrough(name: string, extra: readonly string[]): boolean {
  return PASS.has(name) || name.startsWith('LC_') || extra.includes(name)
}

/** The whole environment of `d`'s recipe, read from `source` (process.env). */
export function recipeEnv(
  d: Pick<TargetDecl, 'env' | 'secrets' | 'passEnv'>, passEnv: readonly string[], source: NodeJS.ProcessEnv = process.env,
  withhold: readonly string[] = [],
): Record<string, string> {
  return recipeEnvs(passEnv, source, withhold)(d)
}

/**
 * recipeEnv for many targets of one build: the pass-through part is read from `source` once
 * (a build of 10,000 targets would otherwise walk the whole environment 10,000 times).
 */
export function recipeEnvs(
  passEnv: readonly string[], source: NodeJS.ProcessEnv = process.env, withhold: readonly string[] = [],
): (d: Pick<TargetDecl, 'env' | 'secrets' | 'passEnv'>) => Record<string, string> {
  const base: Record<string, string> = {}
  for (const [k, v] of Object.entries(source)) if (v !== undefined && passThrough(k, passEnv)) base[k] = v
  return (d) => {
    const env = { ...base }
    for (const k of [...d.passEnv, ...d.env, ...d.secrets]) {
      const v = source[k]
      if (v !== undefined) env[k] = v
    }
    for (const k of withhold) delete env[k]
    return env
  }
}
