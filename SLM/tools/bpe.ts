// The `tokenizer` stage: train GPT-2 style byte-level BPE on train.txt and write it as a
// Hugging Face tokenizer.json; load such a file back for encoding (tokenize, eval).
//
// Id layout of what we train: 0..255 are the bytes (id = byte value), then merged tokens in
// merge order, and the last id (vocabSize - 1) is `<|endoftext|>` (BOS/EOS/separator).
// loadTokenizer accepts any byte-level BPE tokenizer.json (e.g. GPT-2's own id order).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { EOT, preTokenize, utf8Bytes } from './bpe-bytes.js';
import { trainBpe } from './bpe-train.js';
import { BpeCodec } from './bpe-encode.js';

export interface Tokenizer {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  eotId: number;
  vocabSize: number;
}

export interface TrainTokenizerOptions {
  /** UTF-8 text, one document per line (the dataset's train.txt). */
  trainFile: string;
  /** Total ids including `<|endoftext|>`: 257 .. 65536. */
  vocabSize: number;
  /** Where tokenizer.json is written. */
  outFile: string;
}

export interface TrainTokenizerResult {
  vocabSize: number;
  merges: number;
  eotId: number;
  distinctPreTokens: number;
  seconds: number;
}

export async function trainTokenizer(opts: TrainTokenizerOptions): Promise<TrainTokenizerResult> {
  const { vocabSize } = opts;
  if (!Number.isInteger(vocabSize) || vocabSize < 257 || vocabSize > 65536) {
    throw new Error(`tokenizer: vocabSize=${vocabSize} must be an integer in [257, 65536] (256 bytes + <|endoftext|>, uint16 ids)`);
  }
  const t0 = performance.now();
  const words = countPreTokens(readFileSync(opts.trainFile, 'utf8'), opts.trainFile);
  const { tokens, merges } = trainBpe(words, vocabSize - 1);
  mkdirSync(dirname(opts.outFile), { recursive: true });
  writeFileSync(opts.outFile, tokenizerJson(tokens, merges.map(([a, b]) => [tokens[a], tokens[b]])));
  return {
    vocabSize,
    merges: merges.length,
    eotId: vocabSize - 1,
    distinctPreTokens: words.size,
    seconds: Math.round(performance.now() - t0) / 1000,
  };
}

/**
 * Distinct pre-tokens of a text with their counts, per line (lines are documents; merges
 * never cross them). Keys are the UTF-8 bytes as a latin1 string: one char per byte.
 */
export function countPreTokens(text: string, source = '<text>'): Map<string, number> {
  const words = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.includes(EOT)) throw new Error(`tokenizer: ${source} contains the special token ${EOT}; documents are lines, remove it`);
    for (const piece of preTokenize(line)) {
      const key = Buffer.from(utf8Bytes(piece)).toString('latin1');
      words.set(key, (words.get(key) ?? 0) + 1);
    }
  }
  return words;
}

/**
 * HF tokenizer.json for byte-level BPE. Written by hand so the vocab object keeps id order
 * (JSON.stringify would move integer-like keys such as "0" first). Merges use the "a b"
 * string form, read by @huggingface/tokenizers, the Rust crate, and the GGUF writer.
 */
export function tokenizerJson(tokens: string[], merges: [string, string][]): string {
  const eotId = tokens.length;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const head = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: eotId, content: EOT, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: byteLevel,
    decoder: byteLevel,
  };
  const vocab = [...tokens, EOT].map((t, i) => `${JSON.stringify(t)}:${i}`).join(',');
  const model =
    `{"type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":null,` +
    `"end_of_word_suffix":null,"fuse_unk":false,"byte_fallback":false,"ignore_merges":false,` +
    `"vocab":{${vocab}},"merges":[${merges.map(([a, b]) => JSON.stringify(`${a} ${b}`)).join(',')}]}`;
  return JSON.stringify(head).slice(0, -1) + `,"model":${model}}\n`;
}

/** Loads a byte-level BPE tokenizer.json (ours or any GPT-2 style one). */
export function loadTokenizer(file: string): Tokenizer {
  let json: any;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`tokenizer: cannot read ${file}: ${(e as Error).message}`);
  }
  const model = json?.model;
  if (model?.type !== 'BPE' || typeof model.vocab !== 'object' || !Array.isArray(model.merges)) {
    throw new Error(`tokenizer: ${file} is not a BPE tokenizer.json (need model.type "BPE" with vocab and merges)`);
  }
  if (json.pre_tokenizer?.type !== 'ByteLevel' || json.pre_tokenizer.add_prefix_space) {
    throw new Error(`tokenizer: ${file} must use the ByteLevel pre-tokenizer with add_prefix_space false`);
  }
  const tokens: (string | undefined)[] = [];
  for (const [t, id] of Object.entries(model.vocab as Record<string, number>)) tokens[id] = t;
  const eot = (json.added_tokens ?? []).find((t: any) => t.content === EOT);
  const eotId: number | undefined = eot?.id ?? model.vocab[EOT];
  if (eotId === undefined) throw new Error(`tokenizer: ${file} has no ${EOT} token`);
  tokens[eotId] = EOT;
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] === undefined) throw new Error(`tokenizer: ${file} has no token with id ${i}; ids must be dense`);
  }
  const merges: [string, string][] = model.merges.map((m: string | [string, string]) => {
    if (Array.isArray(m)) return [m[0], m[1]];
    const i = m.indexOf(' ');
    return [m.slice(0, i), m.slice(i + 1)];
  });
  const codec = new BpeCodec(tokens, merges, eotId);
  return {
    encode: (text) => codec.encode(text),
    decode: (ids) => codec.decode(ids),
    eotId,
    vocabSize: tokens.length,
  };
}
