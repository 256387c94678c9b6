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
  if (files.length !== 1) {
    console.error('usage: auton provenance <output path> [--digest]')
    return 2
  }
  try {
    const p = provenanceOf(root, recordedPath(root, files[0]))
    console.log(opts.digest ? p.digest : JSON.stringify(p.statement, null, 2))
    return 0
  } catch (e) {
    if (e instanceof ProvenanceError) {
      console.error(`auton provenance: ${e.message}`)
      return 1
    }
    throw e
  }
}

export function whyCommand(root: string, files: string[]): number {
  if (files.length !== 1) {
    console.error('usage: auton why <output path>')
    return 2
  }
  try {
    console.log(tree(lineageOf(root, recordedPath(root, files[0]))))
    return 0
  } catch (e) {
    if (e instanceof ProvenanceError) {
      console.error(`auton why: ${e.message}`)
      return 1
    }
    throw e
  }
}
