// shape.ts — the synthetic graph every tool builds: N targets in layers.
//
// The N targets are split into `blocks` independent blocks; each block has LAYERS layers
// of `width` targets. Layer 0 reads one source file per target; a target in layer k reads
// two outputs of layer k-1 in its block, (i) and (i + 2^(k-1)) mod width, so the set an
// edit reaches doubles per layer until it covers the block. With one block an edit of
// source 0 reaches ~10% (N = 10,000) to ~40% (N = 1,000) of the graph ("wide"); with 100
// blocks it stays inside its block: ~1% of the graph, as an edit does in a real project.
// An aggregate `all` reads the last layer. Every target runs `cat <inputs> > <output>`.

export const LAYERS = 10

export interface Shape {
  name: string
  n: number
  blocks: number
  width: number
  /** Per target, in dependency order: its output and inputs (sources or outputs). */
  targets: { id: string; out: string; inputs: string[] }[]
  sources: string[]
  /** Outputs of the last layer (what `all` reads). */
  finals: string[]
  /** How many targets an edit of sources[0] reaches (computed, not assumed). */
  reach: number
}

export function makeShape(name: 'wide' | '1%', n: number): Shape {
  const blocks = name === 'wide' ? 1 : Math.min(100, Math.max(1, Math.round(n / LAYERS)))
  const width = Math.max(1, Math.round(n / (blocks * LAYERS)))
  const targets: Shape['targets'] = []
  const sources: string[] = []
  const finals: string[] = []
  const id = (b: number, k: number, i: number) => `t${b}_${k}_${i}`
  for (let b = 0; b < blocks; b++) {
    for (let k = 0; k < LAYERS; k++) {
      for (let i = 0; i < width; i++) {
        let inputs: string[]
        if (k === 0) {
          const src = `src/s${b}_${i}.txt`
          sources.push(src)
          inputs = [src]
        } else {
          const j = (i + (1 << Math.min(k - 1, 20))) % width
          inputs = [...new Set([i, j])].map((x) => `out/${id(b, k - 1, x)}.txt`)
        }
        const out = `out/${id(b, k, i)}.txt`
        targets.push({ id: id(b, k, i), out, inputs })
        if (k === LAYERS - 1) finals.push(out)
      }
    }
  }
  // reach of sources[0]: forward closure over "reads"
  const dirty = new Set<string>([sources[0]])
  let reach = 0
  for (const t of targets) {
    if (t.inputs.some((x) => dirty.has(x))) {
      dirty.add(t.out)
      reach++
    }
  }
  return { name, n: targets.length, blocks, width, targets, sources, finals, reach }
}
