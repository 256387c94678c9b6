// sources.ts — where the rules' own sources are, as seen from the project that builds them.
//
// The rules compile and read files that ship with auton: the trainer (SLM/train), the kernels
// (kernels/*), the presets (SLM/configs). In auton's own checkout the project is the package,
// and these are plain project paths ('SLM/train/main.c'), exactly as written in the rules.
// In a project that installed auton they are paths into the package:
//   - relative to the project when the package lies inside it ('node_modules/auton/SLM/train/
//     main.c'), so command texts, and with them the keys, do not depend on where the project
//     lives;
//   - absolute when it does not (a linked or hoisted package): absolute inputs are hashed like
//     any source.
// Outputs are always the project's own paths; nothing is ever written into the package.

import { readdirSync } from 'node:fs'
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { config } from 'auton'

/** The root of the auton package these rules belong to (this file is rules/sources.ts). */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** '' when the project is the package itself, else the package's path from the project + '/'. */
export function packagePrefix(projectRoot: string = config().root): string {
  const rel = relative(resolve(projectRoot), PACKAGE_ROOT)
  if (rel === '') return ''
  if (rel.startsWith('..') || isAbsolute(rel)) return `${PACKAGE_ROOT}/`
  return `${rel.split(sep).join('/')}/`
}

/** A file of the package ('SLM/configs/micro.yaml') as the project's builds name it. */
export function packageFile(rel: string, projectRoot?: string): string {
  return packagePrefix(projectRoot) + rel
}

/**
 * The package's files matching `dir/*.ext` (one folder, one extension), sorted, as the
 * project names them. In auton's own checkout the pattern itself (the graph expands it).
 * Inside node_modules the graph's globs do not look, so the rule lists the files.
 */
export function packageFiles(pattern: string, projectRoot?: string): string[] {
  const at = packagePrefix(projectRoot)
  if (at === '') return [pattern]
  const m = /^([^*?[{]+)\/\*(\.\w+)$/.exec(pattern)
  if (!m) throw new Error(`packageFiles: '${pattern}' is not of the form dir/*.ext`)
  return readdirSync(join(PACKAGE_ROOT, m[1]))
    .filter((f) => f.endsWith(m[2]))
    .sort()
    .map((f) => `${at}${m[1]}/${f}`)
}
