// make-seeds.ts — a seed corpus for gguf_fuzz: three small valid GGUFs (F32, Q8_0, Q4_0)
// of a 1-layer, dim-32, 260-token llama, ~18–95 KB each, so libFuzzer starts from files
// that pass every check and mutates its way into the corners.
//
//   npx tsx kernels/fuzz/make-seeds.ts build/fuzz-corpus

import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { buildGguf, type ModelConfig } from '../../SLM/tools/export.js'
import { writeGguf } from '../../SLM/tools/gguf-write.js'
import { BYTE_TO_CHAR, EOT } from '../../SLM/tools/bpe-bytes.js'
import { tinyTensors } from '../../test/helpers/tiny-model.js'

const outDir = process.argv[2]
if (!outDir) throw new Error('usage: make-seeds.ts OUT_DIR')
mkdirSync(outDir, { recursive: true })

const vocab: Record<string, number> = {}
for (let b = 0; b < 256; b++) vocab[BYTE_TO_CHAR[b]] = b
const merges = [['Ġ', 't'], ['h', 'e'], ['i', 'n']].map(([a, b]) => {
  vocab[a + b] = Object.keys(vocab).length
  return `${a} ${b}`
})
const tokenizer = { added_tokens: [{ id: 259, content: EOT, special: true }], model: { type: 'BPE', vocab, merges } }
const cfg: ModelConfig = { name: 'seed', vocab_size: 260, dim: 32, n_layers: 1, n_heads: 2, n_kv_heads: 1, ffn_dim: 32, seq_len: 16, rope_theta: 10000, norm_eps: 1e-5 }
for (const type of ['f32', 'q8_0', 'q4_0'] as const) {
  await writeGguf(join(outDir, `seed-${type}.gguf`), buildGguf(cfg, tokenizer, tinyTensors(cfg, 7), type))
}
