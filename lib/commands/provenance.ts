// commands/provenance.ts — `auton provenance <output>` and `auton why <output>`: the
// journal (state.ts) read through provenance.ts, for a person or for a verifier.

import { statSync } from 'node:fs'
import { isAbsolute, join, relative, resolve } from 'node:path'
import { State } from '../state.js'
import { Journal, ProvenanceError, statement, statementDigest, tree, type LineageNode } from '../provenance.js'

/** A path as the journal records it: relative to the project root, or absolute outside it (pci.ids). */
export function recordedPath(root: string, file: string, cwd = process.cwd()): string {
  const abs = resolve(cwd, file)
  const rel = relative(root, abs)
  return rel.startsWith('..') || isAbsolute(rel) ? abs : rel
}

/** The lineage of `path` (as recorded) from the journal in `root`, checked against the file's bytes now. */
export function lineageOf(root: string, path: string): LineageNode {
  const state = new State(root).load()
  const abs = path.startsWith('/') ? path : join(root, path)
  return new Journal(state.records.values()).lineage(path, state.stat.hash(abs))
}

/** The provenance statement of an output and its digest (what a GGUF embeds, specs/export.md). */
export function provenanceOf(root: string, path: string): { statement: Record<string, unknown>; digest: string } {
  const st = statement(lineageOf(root, path), { isDir: (p) => isDir(p.startsWith('/') ? p : join(root, p)) })
  return { statement: st, digest: statementDigest(st) }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory()
  } catch {
    return false
  }
}

export function provenanceCommand(root: string, files: string[], opts: { digest?: boolean } = {}): number {
  return onBuiltFile('provenance', '[--digest]', root, files, (path) => {
    const p = provenanceOf(root, path)
    return opts.digest ? p.digest : JSON.stringify(p.statement, null, 2)
  })
}

export function whyCommand(root: string, files: string[]): number {
  return onBuiltFile('why', '', root, files, (path) => tree(lineageOf(root, path)))
}

/** `auton <command> <output path>`: print what `show` makes of it; a ProvenanceError is exit 1. */
function onBuiltFile(command: string, flags: string, root: string, files: string[], show: (path: string) => string): number {
  if (files.length !== 1) {
    console.error(`usage: auton ${command} <output path>${flags ? ` ${flags}` : ''}`)
    return 2
  }
  try {
    console.log(show(recordedPath(root, files[0])))
    return 0
  } catch (e) {
    if (e instanceof ProvenanceError) {
      console.error(`auton ${command}: ${e.message}`)
      return 1
    }
    throw e
  }
}
