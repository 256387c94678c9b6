// key.ts — what makes a target dirty, in one place.
//
// keyParts() walks everything a target's result can depend on and lists it as ordered
// parts, `kind:name → value`:
//   recipe:<kind>   hash of the recipe's key material (command text after interpolation,
//                   function source, agent provider/model/prompts/schema)
//   input:<path>    content hash of each declared input (sources and upstream outputs)
//   code:<module>   content hash of each module a function recipe can run (code-deps.ts),
//                   or '' for a package `code:pkg:<name>@<version>`
//   output:<path>   the declared outputs (the list itself is part of what a recipe does)
//   param:<name>    each param as canonical JSON
//   env:<name>      each declared variable's value, as a salted hash (see below)
//   tool:<command>  identity of each declared tool (hash of what `gcc --version` prints)
// The key is the hash of those parts. The same parts, recorded with the target, are what
// `explain`, `build -n` and `build` compare (rebuilder.ts): the reasons and the decision come
// from one walk, so they cannot disagree (n2's hash.rs drives two sinks the same way).
//
// Env values: the key must be the same on every machine (a shared cache), so it covers
// sha256 of each value. What is *recorded* in .auton/ is an HMAC with a random per-checkout
// salt, so the journal does not reveal a short value to an offline guess. Secrets never
// enter either (they are not parts).
//
// fullKey additionally covers the inputs discovered by the last run (gcc depfiles).
// Timestamps never enter a key: a touched file with the same content changes nothing, and
// a rebuilt upstream whose outputs hash the same leaves its dependents clean (early cutoff).

import { execSync } from 'node:child_process'
import { createHmac } from 'node:crypto'
import type { Node } from './graph.js'
import { sha256 } from './hash.js'
import type { CodeGraph } from './code-deps.js'

/** Ordered `kind:name → value`. Insertion order is declaration order and is part of the key. */
export type Parts = Record<string, string>

export class InputMissing extends Error {}

/** What keyParts() reads from the world; one per build (tool identities are measured once per build). */
export interface KeyWorld {
  root: string
  /** Content hash of an absolute path, undefined if missing. */
  hash(path: string): string | undefined
  /** A variable's value as the recipe would see it. */
  envValue(name: string): string | undefined
  /** Per-checkout salt for recorded env hashes. */
  salt: string
  code: CodeGraph
  tools: ToolIds
}

/** Tool identities, measured at most once per build (a new build measures again: watch mode). */
export class ToolIds {
  private ids = new Map<string, string>()
  constructor(private readonly cwd: string, private readonly env: NodeJS.ProcessEnv = process.env) {}
  get(cmd: string): string {
    let id = this.ids.get(cmd)
    if (id === undefined) {
      try {
        id = sha256(execSync(cmd, { cwd: this.cwd, env: this.env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 }))
      } catch (e) {
        throw new Error(`tool '${cmd}' failed: ${(e as Error).message.split('\n')[0]} — is it installed?`)
      }
      this.ids.set(cmd, id)
    }
    return id
  }
}

const KEY_FORMAT = 'auton-key-2'

export function keyParts(n: Node, w: KeyWorld): Parts {
  const d = n.decl
  const p: Parts = {}
  p[`recipe:${d.recipe?.kind ?? 'aggregate'}`] = sha256(d.recipe ? d.recipe.keyMaterial() : '(aggregate)')
  for (const f of n.sources) p[`input:${f}`] = inputHash(n, f, w)
  for (const f of n.upstreamFiles) p[`input:${f}`] = inputHash(n, f, w)
  const code = d.recipe?.code
  if (code) for (const [m, h] of w.code.codeOf(code.module, code.body)) p[`code:${m}`] = h
  for (const o of d.outputs) p[`output:${o}`] = ''
  for (const k of Object.keys(d.params).sort()) p[`param:${k}`] = canonicalJSON(d.params[k])
  for (const v of d.env) {
    const val = w.envValue(v)
    p[`env:${v}`] = val === undefined ? '(unset)' : createHmac('sha256', w.salt).update(val).digest('hex').slice(0, 32)
  }
  for (const t of d.tools) p[`tool:${t}`] = w.tools.get(t)
  return p
}

function inputHash(n: Node, f: string, w: KeyWorld): string {
  const h = w.hash(f.startsWith('/') ? f : `${w.root}/${f}`) // absolute: a system file such as pci.ids
  if (h === undefined) throw new InputMissing(`input '${f}' of target '${n.name}' is missing`)
  return h
}

/**
 * The key: machine-independent, so env parts count by sha256 of the value, not the salted hash.
 * (An aggregate's parts say `recipe:aggregate`; the rebuilder never needs its key.)
 */
export function keyOf(parts: Parts, envValue: (name: string) => string | undefined): string {
  const items: [string, string][] = []
  for (const [k, v] of Object.entries(parts)) {
    if (k.startsWith('env:')) {
      const val = envValue(k.slice(4))
      items.push([k, val === undefined ? '(unset)' : sha256(`env\0${val}`)])
    } else items.push([k, v])
  }
  return sha256(JSON.stringify([KEY_FORMAT, items]))
}

/**
 * The files a key hashed, as its parts name them (relative to the root, or absolute) with the
 * hash recorded: the inputs and the local code modules (a package counts by name@version).
 */
export function hashedFiles(parts: Parts): [path: string, hash: string][] {
  const files: [string, string][] = []
  for (const [k, h] of Object.entries(parts)) {
    if (k.startsWith('input:')) files.push([k.slice(6), h])
    else if (k.startsWith('code:') && !k.startsWith('code:pkg:')) files.push([k.slice(5), h])
  }
  return files
}

export function fullKeyOf(key: string, discovered: Record<string, string>): string {
  const names = Object.keys(discovered)
  if (names.length === 0) return key
  return sha256(key + JSON.stringify(names.sort().map((k) => [k, discovered[k]])))
}

/** JSON with sorted object keys, so `{a,b}` and `{b,a}` hash the same. */
export function canonicalJSON(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) => {
    if (val && typeof val === 'object' && !Array.isArray(val)) {
      return Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
    }
    return val
  }) ?? 'undefined'
}

const LABEL: Record<string, string> = {
  recipe: 'recipe', input: 'input', code: 'code', output: 'output', param: 'param', env: 'env var', tool: 'tool',
}

/** Same parts in the same order: the key is the same (the no-op path: no strings built, nothing hashed). */
export function sameParts(now: Parts, was: Parts): boolean {
  let n = 0
  for (const k in now) if (was[k] !== now[k]) return false; else n++
  let m = 0
  for (const _ in was) m++
  if (m !== n) return false
  // order: both iterate in insertion order
  const a = Object.keys(now)
  const b = Object.keys(was)
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * Every difference between the recorded parts and now, as reasons a person reads:
 * "input 'src/a.txt' changed", "param seed: 1 → 2", "env var FOO was added". Empty means
 * the key is the same (parts equal, in the same order).
 */
export function diffParts(now: Parts, was: Parts): string[] {
  const why: string[] = []
  for (const [k, v] of Object.entries(now)) {
    const i = k.indexOf(':')
    const kind = k.slice(0, i)
    const name = k.slice(i + 1)
    const label = LABEL[kind] ?? kind
    if (!(k in was)) {
      if (kind === 'recipe') why.push(`the recipe is now a ${name} recipe`)
      else if (kind === 'output') why.push(`output '${name}' was added to its outputs`)
      else if (kind === 'param') why.push(`param ${name} was added: ${v}`)
      else if (kind === 'code') why.push(`it now runs code from '${name}'`)
      else why.push(`${label} ${kind === 'env' ? name : `'${name}'`} was added`)
    } else if (was[k] !== v) {
      if (kind === 'recipe') why.push(`the recipe (${name}) changed`)
      else if (kind === 'param') why.push(`param ${name} changed: ${was[k]} → ${v}`)
      else if (kind === 'env') why.push(`env var ${name} changed${v === '(unset)' ? ' (now unset)' : was[k] === '(unset)' ? ' (now set)' : ''}`)
      else if (kind === 'code') why.push(`code '${name}' changed`)
      else why.push(`${label} '${name}' changed`)
    }
  }
  for (const k of Object.keys(was)) {
    if (k in now) continue
    const i = k.indexOf(':')
    const kind = k.slice(0, i)
    const name = k.slice(i + 1)
    if (kind === 'recipe') continue // reported as the new kind above
    if (kind === 'output') why.push(`output '${name}' was removed from its outputs`)
    else if (kind === 'param') why.push(`param ${name} was removed (was ${was[k]})`)
    else if (kind === 'env') why.push(`env var ${name} was removed`)
    else if (kind === 'code') why.push(`it no longer runs code from '${name}'`)
    else why.push(`${LABEL[kind] ?? kind} '${name}' was removed`)
  }
  if (why.length === 0 && JSON.stringify(Object.keys(now)) !== JSON.stringify(Object.keys(was))) {
    why.push('the order of its inputs changed')
  }
  return why
}
