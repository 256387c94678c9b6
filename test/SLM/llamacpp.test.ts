// Real llama.cpp (node-llama-cpp 3.21.1, CPU prebuilt) loads our F32/Q8_0/Q4_0 GGUFs,
// tokenizes like Hugging Face tokenizers, and generates greedily the same tokens as a
// plain reference forward pass over the weights read back from the file.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Tokenizer } from '@huggingface/tokenizers'
import { buildGguf, type ExportType } from '../../SLM/tools/export.js'
import { writeGguf } from '../../SLM/tools/gguf-write.js'
import { readGguf, tensorFloats } from '../../SLM/tools/gguf-read.js'
import { TINY_CONFIG, tinyTensors, tinyTokenizerJson } from '../helpers/tiny-model.js'
import { llamaCppGreedy, llamaCppTokenize } from '../helpers/llamacpp.js'
import { referenceGreedy } from '../helpers/llama-ref.js'

const dir = mkdtempSync(join(tmpdir(), 'llamacpp-test-'))
const TYPES: ExportType[] = ['f32', 'q8_0', 'q4_0']
const path = (t: ExportType) => join(dir, `tiny-${t}.gguf`)
const PROMPT = 'PCI device 8086:10d3 is'
const N = 16
/** A top-1 minus top-2 logit margin below this is a near tie, where float rounding may pick either. */
const NEAR_TIE = 0.05

/**
 * Greedy ids for PROMPT (no BOS) from tinyTensors() seed 1234, as llama.cpp produced them
 * (x86_64, AVX-512 CPU) and as the float64 reference does. The inference core should produce
 * the same ids from the same files; the near ties noted in specs/export.md are where a
 * different kernel may flip. Asserted below, so a change in the export or in llama.cpp that
 * changes the answer fails here instead of passing with a note.
 */
export const TINY_PROMPT_IDS = [80, 67, 73, 265, 101, 118, 105, 99, 101, 32, 56, 48, 56, 54, 58, 49, 48, 100, 51, 260, 115]
export const TINY_GREEDY: Record<ExportType, number[]> = {
  f32: [298, 215, 106, 141, 123, 35, 129, 101, 162, 40, 289, 179, 274, 37, 27, 76],
  q8_0: [298, 215, 106, 141, 123, 35, 129, 101, 162, 40, 289, 179, 274, 37, 27, 76],
  q4_0: [298, 160, 111, 103, 150, 161, 81, 129, 138, 292, 66, 179, 200, 284, 289, 190],
}

test.before(async () => {
  const tensors = tinyTensors()
  for (const t of TYPES) await writeGguf(path(t), buildGguf(TINY_CONFIG, tinyTokenizerJson(), tensors, t))
})
test.after(() => rmSync(dir, { recursive: true, force: true }))

test('llama.cpp tokenizes with the embedded vocab exactly like @huggingface/tokenizers on tokenizer.json', async () => {
  const hf = new Tokenizer(tinyTokenizerJson(), {})
  const texts = [PROMPT, 'the other one is the best', ' leading space and  two\nlines\t tab', "it's 100% UTF-8: é ✓ 日本"]
  for (const text of texts) {
    const want = hf.encode(text, { add_special_tokens: false }).ids
    assert.equal(await llamaCppTokenize(path('q4_0'), text), want, JSON.stringify(text))
  }
  assert.equal(await llamaCppTokenize(path('f32'), PROMPT), TINY_PROMPT_IDS)
})

for (const t of TYPES) {
  test(`llama.cpp loads the ${t} GGUF and generates greedily what the reference forward pass does`, async () => {
    const t0 = Date.now()
    const got = await llamaCppGreedy(path(t), PROMPT, N)
    const ms = Date.now() - t0
    const file = await readGguf(path(t))
    const cache = new Map<string, Float32Array>()
    const weights = (name: string) => cache.get(name) ?? cache.set(name, tensorFloats(file, name)).get(name)!
    const ref = referenceGreedy(TINY_CONFIG, weights, TINY_PROMPT_IDS, N)
    console.log(`  ${t}: ${statSync(path(t)).size} B, llama.cpp ${ms} ms, ids ${got.join(',')}`)
    assert.is(got.length, N)
    // Identical until the end, or until a near tie where float rounding may pick either.
    const diverge = got.findIndex((id, i) => id !== ref.ids[i])
    if (diverge >= 0) {
      assert.ok(diverge >= 4 && ref.margins[diverge] < NEAR_TIE,
        `${t}: llama.cpp ${got} vs reference ${ref.ids}: differ at ${diverge} where the reference margin is ${ref.margins[diverge]}`)
    }
    // The recorded ids: the reference (float64, no rounding choices) reproduces them exactly,
    // so with the check above llama.cpp gives them too, up to a near tie.
    assert.equal(ref.ids, TINY_GREEDY[t], `${t}: the reference no longer gives the recorded ids (${ref.ids}); the export or the tiny weights changed`)
    if (diverge >= 0) console.log(`  note: ${t} llama.cpp flips a near tie at ${diverge} (margin ${ref.margins[diverge].toFixed(3)})`)
  })
}

test('BOS: the helper can prepend <|endoftext|>, and llama.cpp agrees with the reference', async () => {
  const got = await llamaCppGreedy(path('f32'), PROMPT, 6, { bos: true })
  const file = await readGguf(path('f32'))
  const ref = referenceGreedy(TINY_CONFIG, n => tensorFloats(file, n), [299, ...TINY_PROMPT_IDS], 6)
  assert.equal(got, ref.ids)
})

test.run()
