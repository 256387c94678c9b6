// llamacpp.ts — run a GGUF through real llama.cpp (node-llama-cpp's CPU prebuilt) and
// return its greedy continuation as token ids: the reference the inference core is
// compared against token for token.
//
// Never downloads or builds anything: `build: 'never'` + `skipDownload` make a missing
// prebuilt an error instead of a compile or a network fetch; `gpu: false` keeps it on the CPU.

import type { Llama } from 'node-llama-cpp'

let llama: Promise<Llama> | undefined

/**
 * One shared llama.cpp instance per process (loading the backend costs ~100 ms).
 * node-llama-cpp is ESM with top-level await, which uvu's require hook cannot load, so
 * it is imported dynamically.
 */
export function getCpuLlama(): Promise<Llama> {
  llama ??= import('node-llama-cpp').then(({ getLlama, LlamaLogLevel }) => getLlama({
    gpu: false,
    build: 'never',
    skipDownload: true,
    usePrebuiltBinaries: true,
    progressLogs: false,
    logLevel: LlamaLogLevel.error,
    maxThreads: 1, // tiny models: one thread; more only spin against the other tests on a shared CPU
  }))
  return llama
}

export interface GreedyOptions {
  /** Prepend the model's BOS token (here <|endoftext|>, the document separator). Default false. */
  bos?: boolean
}

/**
 * Load `ggufPath` in llama.cpp, feed `prompt` (text, tokenized by llama.cpp's own
 * tokenizer from the GGUF, or token ids as they are) and return the ids of the next
 * `nTokens` tokens chosen greedily (temperature 0, no penalties; EOS is returned like any
 * other token and generation goes on).
 */
export async function llamaCppGreedy(ggufPath: string, prompt: string | number[], nTokens: number, opts: GreedyOptions = {}): Promise<number[]> {
  const l = await getCpuLlama()
  const model = await l.loadModel({ modelPath: ggufPath, gpuLayers: 0, checkTensors: true })
  try {
    let ids = typeof prompt === 'string' ? [...model.tokenize(prompt, false)] : [...prompt]
    if (opts.bos) {
      const bos = model.tokens.bos
      if (bos == null) throw new Error(`${ggufPath}: model has no BOS token`)
      ids = [bos, ...ids]
    }
    const context = await model.createContext({ contextSize: Math.max(64, ids.length + nTokens + 8), batchSize: 64, threads: 1 })
    try {
      const seq = context.getSequence()
      const out: number[] = []
      if (nTokens <= 0) return out
      for await (const tok of seq.evaluate(ids as never, { temperature: 0, yieldEogToken: true })) {
        out.push(tok as number)
        if (out.length >= nTokens) break
      }
      return out
    } finally {
      await context.dispose()
    }
  } finally {
    await model.dispose()
  }
}

/** llama.cpp's tokenization of `text` with the GGUF's vocabulary (no BOS). */
export async function llamaCppTokenize(ggufPath: string, text: string): Promise<number[]> {
  const l = await getCpuLlama()
  const model = await l.loadModel({ modelPath: ggufPath, gpuLayers: 0, vocabOnly: true })
  try {
    return [...model.tokenize(text, false)] as number[]
  } finally {
    await model.dispose()
  }
}
