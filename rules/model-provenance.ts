// model-provenance.ts — does the kernel run the model this build made? (the boot report's check)
//
// The GGUF export writes auton.provenance.sha256: the digest of the provenance statement of
// the checkpoint it was exported from (specs/export.md), and the kernel's `slm info` prints
// it. Here the printed digest is compared with
//   - the GGUF the journal records for the model target (the file's sha256 must equal its
//     record, and the digest in its metadata must equal what the kernel printed): else the
//     kernel runs another model than the build made — not trusted;
//   - the statement recomputed from the journal now: equal unless an upstream step was
//     rebuilt since with identical outputs (then the history changed, not the model: noted).

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseGguf } from '../SLM/tools/gguf-read.js'
import { lineageOf, provenanceOf } from 'auton'

export interface ModelProvenance {
  /** What the kernel's `slm info` printed (null: no provenance line). */
  kernel: string | null
  /** auton.provenance.sha256 of the GGUF the build recorded. */
  gguf: string | null
  /** The path whose statement is digested (auton.provenance.subject). */
  subject: string | null
  /** The statement of `subject` recomputed from the journal now (null: could not be). */
  journal: string | null
  /** The kernel runs the model this build made and that model says where it came from. */
  trusted: boolean
  /** Why not trusted, or why the journal's statement differs. */
  note?: string
}

const LINE = /SLM: provenance sha256:([0-9a-f]{64})/

export function modelProvenance(cwd: string, model: string, slmInfo: string): ModelProvenance {
  const kernel = LINE.exec(slmInfo)?.[1] ?? null
  const r: ModelProvenance = { kernel, gguf: null, subject: null, journal: null, trusted: false }
  try {
    lineageOf(cwd, model) // the GGUF on disk is the one its target recorded
  } catch (e) {
    r.note = `the model file is not the build's: ${(e as Error).message}`
    return r
  }
  const meta = parseGguf(readFileSync(join(cwd, model)), model).metadata
  const str = (k: string) => {
    const v = meta.get(k)?.value
    return typeof v === 'string' ? v : null
  }
  r.gguf = str('auton.provenance.sha256')
  r.subject = str('auton.provenance.subject')
  if (!r.gguf) r.note = `${model} records no auton.provenance.sha256 (exported by an older auton?)`
  else if (!kernel) r.note = "the kernel's `slm info` printed no provenance digest"
  else if (kernel !== r.gguf) r.note = `the kernel's model has provenance ${kernel.slice(0, 16)}…, the build's ${model} has ${r.gguf.slice(0, 16)}…: the kernel does not run the model this build made`
  else r.trusted = true
  if (r.subject) {
    try {
      r.journal = provenanceOf(cwd, r.subject).digest
      if (r.trusted && r.journal !== r.gguf) r.note = `the journal's statement of ${r.subject} changed since the export (an upstream step rebuilt with identical outputs); the model itself is the build's`
    } catch (e) {
      if (r.trusted) r.note = `the statement of ${r.subject} cannot be recomputed now: ${(e as Error).message}`
    }
  }
  return r
}
