// code-deps.ts — the code a function recipe runs, for its key.
//
// A function recipe's behaviour depends on more than its own text: the helpers of the
// module that defines it and every module those import. Its key therefore covers:
//   - the defining module's content;
//   - every local module reachable from it by `import … from`, `export … from`, `import '…'`,
//     `import('…')` and `require('…')` with a literal specifier, transitively;
//   - a package (a module under node_modules, or a bare specifier) by its name and version.
// Precision: a dynamic import that appears in the body of another recipe of the same module
// belongs to that recipe only (rules files hold many recipes, each importing its own stage
// code); every other import of the defining module counts for all of its recipes.
// The scan is textual and errs on the side of more: a specifier in a comment adds a module,
// never hides one. A computed specifier (`import(name)`) cannot be followed — list such files
// as inputs.

import { existsSync, readFileSync, statSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { dirname, join, relative, resolve, sep } from 'node:path'

const STATIC = /(?:^|[\s;}])(?:import|export)\s+(?:type\s+)?(?:[\w*${},\s]+?\s+from\s+)?['"]([^'"\n]+)['"]/g
const DYNAMIC = /(?:\bimport|\bjitiImport|\brequire)\s*\(\s*(?:['"]([^'"\n]+)['"]|`([^`$\n]+)`)\s*\)/g
const BUILTIN = new Set(builtinModules)

export function staticSpecifiers(text: string): string[] {
  return [...text.matchAll(STATIC)].map((m) => m[1])
}

export function dynamicSpecifiers(text: string): string[] {
  return [...text.matchAll(DYNAMIC)].map((m) => m[1] ?? m[2]) // '…', "…" or a `…` without ${}
}

/** A resolved import: a local file (absolute path) or a package identity ("pkg:name@version"). */
type Resolved = { file: string } | { pkg: string } | undefined

export class CodeGraph {
  /** Module → what it imports (resolved), read once per build. */
  private edges = new Map<string, Resolved[]>()
  private texts = new Map<string, string>()

  /**
   * @param hash content hash of a file (the build's stat cache)
   * @param bodiesOf the bodies of the function recipes each module defines
   */
  constructor(
    private readonly root: string,
    private readonly hash: (file: string) => string | undefined,
    private readonly bodiesOf: (module: string) => string[],
  ) {}

  private results = new Map<string, Map<string, string>>()

  /** Path (relative to the root where inside it) or package → content hash or version. */
  codeOf(module: string, body: string): Map<string, string> {
    const id = `${module}\0${body}` // a loop declares many targets with one body
    let r = this.results.get(id)
    if (!r) this.results.set(id, (r = this.compute(module, body)))
    return r
  }

  private compute(module: string, body: string): Map<string, string> {
    const out = new Map<string, string>()
    const pkg = packageOf(module)
    if (pkg) {
      out.set(pkg, '')
      return out
    }
    const text = this.text(module)
    const own = dynamicSpecifiers(body)
    // dynamic imports of the module that no recipe body accounts for (helpers, top level)
    const counts = new Map<string, number>()
    for (const s of dynamicSpecifiers(text)) counts.set(s, (counts.get(s) ?? 0) + 1)
    for (const b of new Set(this.bodiesOf(module))) for (const s of dynamicSpecifiers(b)) counts.set(s, (counts.get(s) ?? 0) - 1)
    const shared = [...counts].filter(([, n]) => n > 0).map(([s]) => s)
    const first = [...staticSpecifiers(text), ...shared, ...own].map((s) => resolveSpecifier(s, module))
    this.add(module, out)
    const seen = new Set<string>([module])
    const walk = (r: Resolved) => {
      if (!r) return
      if ('pkg' in r) {
        out.set(r.pkg, '')
        return
      }
      if (seen.has(r.file)) return
      seen.add(r.file)
      this.add(r.file, out)
      for (const next of this.importsOf(r.file)) walk(next)
    }
    for (const r of first) walk(r)
    return out
  }

  private add(file: string, out: Map<string, string>): void {
    const rel = relative(this.root, file)
    const name = rel.startsWith('..') ? file : rel
    out.set(name, this.hash(file) ?? '(missing)')
  }

  private text(file: string): string {
    let t = this.texts.get(file)
    if (t === undefined) {
      try {
        t = readFileSync(file, 'utf8')
      } catch {
        t = ''
      }
      this.texts.set(file, t)
    }
    return t
  }

  private importsOf(file: string): Resolved[] {
    let e = this.edges.get(file)
    if (!e) {
      const pkg = packageOf(file)
      if (pkg) e = [{ pkg }]
      else {
        const t = this.text(file)
        e = [...staticSpecifiers(t), ...dynamicSpecifiers(t)].map((s) => resolveSpecifier(s, file))
      }
      this.edges.set(file, e)
    }
    return e
  }
}

/** Resolve an import specifier the way Node + TypeScript sources do (./x.js may be ./x.ts). */
export function resolveSpecifier(spec: string, from: string): Resolved {
  if (spec.startsWith('node:') || BUILTIN.has(spec)) return undefined
  if (spec.startsWith('.') || spec.startsWith('/')) {
    const base = resolve(dirname(from), spec)
    const stem = base.replace(/\.(m|c)?js$/, '')
    const candidates = [base, `${stem}.ts`, `${stem}.mts`, `${stem}.cts`, `${stem}.tsx`, `${base}.ts`, `${base}.js`, join(base, 'index.ts'), join(base, 'index.js')]
    const found = candidates.find((c) => statSync(c, { throwIfNoEntry: false })?.isFile()) // './dir' is dir/index.ts
    if (found) {
      const pkg = packageOf(found)
      return pkg ? { pkg } : { file: found }
    }
    return { file: base } // missing: keyed as missing, so creating it later changes the key
  }
  const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]
  return { pkg: `pkg:${name}@${packageVersion(name, from) ?? '(not installed)'}` }
}

/** "pkg:name@version" for a file inside node_modules, else undefined. */
function packageOf(file: string): string | undefined {
  const i = file.lastIndexOf(`${sep}node_modules${sep}`)
  if (i < 0) return undefined
  const parts = file.slice(i + 14).split(sep)
  const name = parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]
  const dir = file.slice(0, i + 14) + name
  return `pkg:${name}@${readVersion(join(dir, 'package.json')) ?? '(unknown)'}`
}

/** The version of the package `name` as seen from `from`: node_modules upwards, or the package itself. */
function packageVersion(name: string, from: string): string | undefined {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const installed = readVersion(join(dir, 'node_modules', name, 'package.json'))
    if (installed) return installed
    const self = join(dir, 'package.json')
    if (existsSync(self)) {
      try {
        const pj = JSON.parse(readFileSync(self, 'utf8')) as { name?: string; version?: string }
        if (pj.name === name) return pj.version
      } catch {
        // not a package.json we can read: keep walking
      }
    }
    if (dirname(dir) === dir) return undefined
  }
}

function readVersion(file: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version
  } catch {
    return undefined
  }
}
