// slm.ts — rule factories for the model half of the AUTON pipeline:
// dataset → tokenizer → tokens → config → checkpoint → eval, and the GGUF exports.
//
// Function recipes call the stage code in SLM/tools in-process; each target lists the
// tool files it runs as inputs, so editing a stage's code rebuilds that stage.

import { target, sh, type TargetHandle } from 'auton'

const DATA = 'SLM/datasets'
const MODELS = 'SLM/models'

/** The corpus: train/val split by device id, probes, stats (SLM/tools/dataset*.ts). */
export function dataset(opts: { seed?: number; maxBytes?: number } = {}): TargetHandle {
  const dir = `${DATA}/corpus`
  return target('dataset', {
    inputs: ['SLM/tools/dataset*.ts', '/usr/share/misc/pci.ids'],
    outputs: [`${dir}/train.txt`, `${dir}/val.txt`, `${dir}/probes.jsonl`, `${dir}/stats.json`],
    params: { seed: opts.seed ?? 1337, maxBytes: opts.maxBytes ?? 3_000_000 },
    description: 'OS/hardware corpus from pci.ids, usb.ids and man pages',
    run: async ({ cwd, params }) => {
      const { buildDataset } = await import('../SLM/tools/dataset.js')
      await buildDataset({ outDir: `${cwd}/${dir}`, seed: params.seed as number, maxBytes: params.maxBytes as number })
    },
  })
}

/** Byte-level BPE trained on the training split, written as HF tokenizer.json. */
export function tokenizer(corpus: TargetHandle, vocabSize: number): TargetHandle {
  const out = `${DATA}/tokenizer-${vocabSize}/tokenizer.json`
  return target('tokenizer', {
    inputs: [corpus, 'SLM/tools/bpe*.ts'],
    outputs: [out],
    params: { vocabSize },
    description: 'byte-level BPE (Hugging Face tokenizer.json)',
    run: async ({ cwd, params }) => {
      const { trainTokenizer } = await import('../SLM/tools/bpe.js')
      await trainTokenizer({ trainFile: `${cwd}/${corpus.outputs[0]}`, vocabSize: params.vocabSize as number, outFile: `${cwd}/${out}` })
    },
  })
}

/** train.bin / val.bin: the splits as uint16 token ids. */
export function tokens(corpus: TargetHandle, tok: TargetHandle): TargetHandle {
  const dir = tok.outputs[0].replace(/\/tokenizer\.json$/, '')
  return target('tokens', {
    inputs: [corpus, tok, 'SLM/tools/tokenize.ts', 'SLM/tools/bpe*.ts'],
    outputs: [`${dir}/train.bin`, `${dir}/val.bin`, `${dir}/token-stats.json`],
    description: 'the splits encoded as uint16 token ids',
    run: async ({ cwd }) => {
      const { tokenizeSplits } = await import('../SLM/tools/tokenize.js')
      await tokenizeSplits({
        tokenizerFile: `${cwd}/${tok.outputs[0]}`,
        trainFile: `${cwd}/${corpus.outputs[0]}`,
        valFile: `${cwd}/${corpus.outputs[1]}`,
        outDir: `${cwd}/${dir}`,
      })
    },
  })
}

export { DATA, MODELS, sh }
