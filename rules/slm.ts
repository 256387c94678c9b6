// slm.ts — rule factories for the model half of the AUTON pipeline:
// dataset → tokenizer → tokens → config → checkpoint → eval, and the GGUF exports.
//
// Function recipes call the stage code in SLM/tools in-process (dynamic imports, so each
// recipe's key covers exactly the modules it runs: editing a stage's code reruns that stage).

import { target, sh, type TargetHandle, type Resources, provenanceOf } from 'auton'
import { packageFile, packageFiles, packagePrefix } from './sources.js'

const DATA = 'SLM/datasets'
const MODELS = 'SLM/models'

export interface DatasetOptions {
  /** Seeds every shuffle and the probe sample (default 1337). */
  seed?: number
  /** Size of train.txt in bytes (default 3 MB). */
  maxBytes?: number
  /**
   * Your own text for the corpus: project paths or globs ('notes/**\/*.md'). Each paragraph
   * goes in once (train or val by a stable hash), up to half the byte budget; the files'
   * content is part of the key. Default: none (the corpus is pci.ids, usb.ids, man pages).
   */
  extraFiles?: string[]
}

/** The corpus: train/val split by device id, probes, stats (SLM/tools/dataset*.ts). */
export function dataset(opts: DatasetOptions = {}): TargetHandle {
  const dir = `${DATA}/corpus`
  const extraFiles = opts.extraFiles ?? []
  return target('dataset', {
    inputs: [PCI_IDS, ...extraFiles],
    outputs: [`${dir}/train.txt`, `${dir}/val.txt`, `${dir}/probes.jsonl`, `${dir}/stats.json`],
    // extraFiles only when given: the default corpus keeps the key it always had
    params: { seed: opts.seed ?? 1337, maxBytes: opts.maxBytes ?? 3_000_000, ...(extraFiles.length ? { extraFiles } : {}) },
    description: 'OS/hardware corpus from pci.ids, usb.ids and man pages',
    run: async ({ cwd, params, inputs }) => {
      const { buildDataset } = await import('../SLM/tools/dataset.js')
      const extra = await readExtra(cwd, (params.extraFiles as string[] | undefined) ?? [], inputs.filter((f) => f !== PCI_IDS))
      await buildDataset({ outDir: `${cwd}/${dir}`, seed: params.seed as number, maxBytes: params.maxBytes as number, ...(extra.length ? { extra } : {}) })
    },
  })
}

const PCI_IDS = '/usr/share/misc/pci.ids'

/**
 * The files `extraFiles` resolved to, in sorted order, with their text: exactly the inputs the
 * graph expanded the patterns into (and hashed into the key), never a second glob of our own.
 */
async function readExtra(cwd: string, patterns: string[], files: string[]): Promise<{ name: string; text: string }[]> {
  if (patterns.length === 0) return []
  const { readFileSync } = await import('node:fs')
  const names = [...files].sort()
  if (names.length === 0) throw new Error(`dataset: extraFiles ${patterns.join(', ')} match no file`)
  return names.map((name) => ({ name, text: readFileSync(name.startsWith('/') ? name : `${cwd}/${name}`, 'utf8') }))
}

/** Byte-level BPE trained on the training split, written as HF tokenizer.json. */
export function tokenizer(corpus: TargetHandle, vocabSize: number): TargetHandle {
  const out = `${DATA}/tokenizer-${vocabSize}/tokenizer.json`
  return target('tokenizer', {
    inputs: [corpus],
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
    inputs: [corpus, tok],
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

/**
 * config.json for a preset: a name from auton's SLM/configs (micro, smoke, tiny_10M,
 * small_50M), a path to your own YAML/JSON preset in the project ('my-model.yaml', same
 * schema), or a proposal another target wrote (the architect agent's preset.json);
 * validated, with estimates beside it.
 */
export function modelConfig(preset: string | TargetHandle): TargetHandle {
  const fromTarget = typeof preset !== 'string'
  const isPath = !fromTarget && isPresetPath(preset)
  const name = fromTarget ? 'agent' : isPath ? preset.replace(/^.*[\\/]/, '').replace(/\.(ya?ml|json)$/, '') : preset
  const out = `${MODELS}/${name}/config.json`
  return target('config', {
    inputs: [fromTarget || isPath ? preset : packageFile(`SLM/configs/${preset}.yaml`)],
    outputs: [out],
    params: { preset: fromTarget ? preset.outputs[0] : preset, fromTarget },
    description: `model config (${name}) with parameter, FLOP and memory estimates`,
    run: async ({ cwd, params }) => {
      const { writeConfig } = await import('../SLM/tools/config.js')
      const p = params.preset as string
      const inProject = params.fromTarget || isPresetPath(p)
      await writeConfig(inProject && !p.startsWith('/') ? `${cwd}/${p}` : p, `${cwd}/${out}`)
    },
  })
}

/** A preset named by a path to the user's own file ('my-model.yaml'), not one of auton's names. */
function isPresetPath(p: string): boolean {
  return /[\\/]/.test(p) || /\.(ya?ml|json)$/.test(p)
}

/**
 * The C trainer, built for this CPU (-march=native). The CPU's identity is part of the key,
 * so a binary restored from a shared cache always comes from the same kind of CPU.
 */
export function trainer(): TargetHandle {
  // In auton's checkout the shell expands the glob (the command text every key so far has);
  // elsewhere the package's sources are listed (sources.ts).
  const at = packagePrefix()
  return target('slm-train', {
    inputs: [...packageFiles('SLM/train/*.c'), ...packageFiles('SLM/train/*.h')],
    outputs: ['build/bin/slm-train'],
    tools: ['gcc --version', "grep -m1 -E '^(model name|flags)' /proc/cpuinfo; grep -m1 '^flags' /proc/cpuinfo"],
    description: 'the C trainer (gcc -O3 -march=native -fopenmp)',
    run: at === ''
      ? sh`gcc -O3 -march=native -fopenmp -o build/bin/slm-train SLM/train/*.c -lm`
      : sh`gcc -O3 -march=native -fopenmp -o build/bin/slm-train ${packageFiles('SLM/train/*.c')} -lm`,
  })
}

/**
 * Train from scratch; progress (step, loss, tokens/s) shows in auton's live status.
 * `executor`/`resources`: where it trains (e.g. a SLURM cluster, `[slm] executor`); not in the key.
 */
export function checkpoint(
  cfg: TargetHandle, bins: TargetHandle, bin: TargetHandle, on: { executor?: string; resources?: Resources } = {},
): TargetHandle {
  const dir = cfg.outputs[0].replace(/\/config\.json$/, '')
  const [train, val] = bins.outputs
  return target('checkpoint', {
    inputs: [cfg, bins, bin],
    outputs: [`${dir}/model.safetensors`, `${dir}/train_log.jsonl`],
    pool: 'train',
    executor: on.executor,
    resources: on.resources,
    description: 'train the llama-style model from scratch (AdamW, cosine schedule)',
    run: sh`${bin} --config ${cfg} --train ${train} --val ${val} --out ${dir}`,
  })
}

/** Validation perplexity, probe accuracy (vendor / exact) and the loss curve. */
export function evaluation(ckpt: TargetHandle, tok: TargetHandle, bins: TargetHandle, corpus: TargetHandle, bin: TargetHandle): TargetHandle {
  const dir = ckpt.outputs[0].replace(/\/model\.safetensors$/, '')
  return target('eval', {
    inputs: [ckpt, tok, bins, corpus, bin],
    outputs: [`${dir}/metrics.json`, `${dir}/loss.svg`],
    description: 'validation perplexity, probe accuracy, loss curve',
    run: async ({ cwd }) => {
      const { evaluate } = await import('../SLM/tools/eval.js')
      const m = await evaluate({
        trainer: `${cwd}/${bin.outputs[0]}`,
        ckpt: `${cwd}/${ckpt.outputs[0]}`,
        tokenizer: `${cwd}/${tok.outputs[0]}`,
        valBin: `${cwd}/${bins.outputs[1]}`,
        probes: `${cwd}/${corpus.outputs[2]}`,
        outDir: `${cwd}/${dir}`,
        trainLog: `${cwd}/${ckpt.outputs[1]}`,
      })
      return void m
    },
  })
}

export type QuantType = 'f32' | 'q8_0' | 'q4_0'

/** A GGUF v3 file (llama architecture, tokenizer embedded) for one weight type. */
export function gguf(type: QuantType, ckpt: TargetHandle, tok: TargetHandle, cfg: TargetHandle): TargetHandle {
  const dir = ckpt.outputs[0].replace(/\/model\.safetensors$/, '')
  const out = `${dir}/model-${type}.gguf`
  return target(`gguf-${type}`, {
    inputs: [ckpt, tok, cfg],
    outputs: [out],
    params: { type },
    description: `export ${type.toUpperCase()} GGUF`,
    run: async ({ cwd, params }) => {
      const { exportGguf } = await import('../SLM/tools/export.js')
      const { readGguf } = await import('../SLM/tools/gguf-read.js')
      // the digest of the checkpoint's provenance statement, from the journal (specs/export.md)
      const provenance = { sha256: provenanceOf(cwd, ckpt.outputs[0]).digest, subject: ckpt.outputs[0] }
      await exportGguf({
        checkpoint: `${cwd}/${ckpt.outputs[0]}`,
        tokenizer: `${cwd}/${tok.outputs[0]}`,
        config: `${cwd}/${cfg.outputs[0]}`,
        type: params.type as QuantType,
        out: `${cwd}/${out}`,
        provenance,
      })
      await readGguf(`${cwd}/${out}`) // never hand on a file our own validator refuses
    },
  })
}

/** model.onnx: the checkpoint as a standard ONNX decoder graph (opset 17; specs/export.md). */
export function onnx(ckpt: TargetHandle, cfg: TargetHandle): TargetHandle {
  const out = ckpt.outputs[0].replace(/model\.safetensors$/, 'model.onnx')
  return target('onnx', {
    inputs: [ckpt, cfg],
    outputs: [out],
    description: 'export ONNX (input_ids, attention_mask → logits)',
    run: async ({ cwd }) => {
      const { exportOnnx } = await import('../SLM/tools/onnx-export.js')
      await exportOnnx({ checkpoint: `${cwd}/${ckpt.outputs[0]}`, config: `${cwd}/${cfg.outputs[0]}`, out: `${cwd}/${out}` })
    },
  })
}

/**
 * Validation perplexity of each GGUF through the kernels' own inference core (slm-run),
 * and each quantization's delta against F32, into quantization.json.
 */
export function quantized(files: TargetHandle[], corpus: TargetHandle, slmRun: TargetHandle, maxTokens = 20_000): TargetHandle {
  const dir = files[0].outputs[0].replace(/\/[^/]+$/, '')
  const out = `${dir}/quantization.json`
  return target('quantized', {
    inputs: [...files, corpus, slmRun],
    outputs: [out],
    params: { maxTokens },
    description: 'perplexity of F32, Q8_0 and Q4_0 through the inference core',
    run: async ({ cwd, params, log }) => {
      const { spawnSync } = await import('node:child_process')
      const { writeFileSync, statSync } = await import('node:fs')
      const rows: Record<string, { ppl: number; bytes: number; deltaPct?: number }> = {}
      for (const f of files) {
        const file = f.outputs[0]
        const type = /model-(.+)\.gguf$/.exec(file)![1]
        const r = spawnSync(`${cwd}/${slmRun.outputs[0]}`, [`${cwd}/${file}`, '--ppl', `${cwd}/${corpus.outputs[1]}`, '--max-tokens', String(params.maxTokens)], { encoding: 'utf8' })
        if (r.status !== 0) throw new Error(`slm-run --ppl ${file} failed: ${r.stderr}`)
        log(r.stdout + r.stderr)
        rows[type] = { ppl: JSON.parse(r.stdout).ppl, bytes: statSync(`${cwd}/${file}`).size }
      }
      const base = rows.f32?.ppl
      for (const row of Object.values(rows)) if (base) row.deltaPct = Math.round(((row.ppl - base) / base) * 1e4) / 100
      writeFileSync(`${cwd}/${out}`, JSON.stringify({ maxTokens: params.maxTokens, types: rows }, null, 2) + '\n')
    },
  })
}

export { DATA, MODELS }
