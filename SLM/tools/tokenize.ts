// The tokenize step: train.txt / val.txt → train.bin / val.bin for the trainer.
//
// Format: token ids as little-endian uint16. Every line of the text is one document; each
// document is preceded by `<|endoftext|>` and the stream ends with one, so the stream reads
//   eot doc1 eot doc2 ... eot docN eot
// and eot serves both as BOS (what a prompt starts with) and EOS (where an answer stops).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadTokenizer, type Tokenizer } from './bpe.js';

export interface TokenizeOptions {
  tokenizerFile: string;
  trainFile: string;
  valFile: string;
  /** Receives train.bin, val.bin and token-stats.json. */
  outDir: string;
}

export interface SplitTokenStats {
  documents: number;
  tokens: number; // including the eot separators
  bytes: number; // UTF-8 bytes of the documents (no newlines)
  bytesPerToken: number; // bytes / tokens excluding separators: the compression of the BPE
}

export interface TokenStats {
  vocabSize: number;
  eotId: number;
  train: SplitTokenStats;
  val: SplitTokenStats;
  /** Ids that never occur in train.bin: vocabulary the model cannot learn. */
  unusedTrainIds: number;
  seconds: number;
}

export async function tokenizeSplits(opts: TokenizeOptions): Promise<TokenStats> {
  const t0 = performance.now();
  const tok = loadTokenizer(opts.tokenizerFile);
  if (tok.vocabSize > 65536) {
    throw new Error(`tokenize: vocab size ${tok.vocabSize} does not fit uint16 ids (max 65536)`);
  }
  mkdirSync(opts.outDir, { recursive: true });
  const seen = new Uint8Array(tok.vocabSize);
  const train = encodeFile(tok, opts.trainFile, join(opts.outDir, 'train.bin'), seen);
  const val = encodeFile(tok, opts.valFile, join(opts.outDir, 'val.bin'), null);
  const stats: TokenStats = {
    vocabSize: tok.vocabSize,
    eotId: tok.eotId,
    train,
    val,
    unusedTrainIds: seen.reduce((n, s) => n + (s ? 0 : 1), 0),
    seconds: Math.round(performance.now() - t0) / 1000,
  };
  writeFileSync(join(opts.outDir, 'token-stats.json'), JSON.stringify(stats, null, 2) + '\n');
  return stats;
}

function encodeFile(tok: Tokenizer, textFile: string, binFile: string, seen: Uint8Array | null): SplitTokenStats {
  const ids: number[] = [];
  let documents = 0;
  let bytes = 0;
  for (const line of readFileSync(textFile, 'utf8').split('\n')) {
    if (line === '') continue;
    ids.push(tok.eotId);
    for (const id of tok.encode(line)) ids.push(id);
    documents++;
    bytes += Buffer.byteLength(line, 'utf8');
  }
  ids.push(tok.eotId);
  const buf = Buffer.alloc(ids.length * 2);
  for (let i = 0; i < ids.length; i++) buf.writeUInt16LE(ids[i], i * 2);
  writeFileSync(binFile, buf);
  if (seen) for (const id of ids) seen[id] = 1;
  const content = ids.length - documents - 1;
  return {
    documents,
    tokens: ids.length,
    bytes,
    bytesPerToken: content > 0 ? Math.round((bytes / content) * 1000) / 1000 : 0,
  };
}
