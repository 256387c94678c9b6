import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { buildDataset } from '../../SLM/tools/dataset.js';
import { trainTokenizer, loadTokenizer, countPreTokens, type Tokenizer } from '../../SLM/tools/bpe.js';
import { trainBpe } from '../../SLM/tools/bpe-train.js';
import { BYTE_TO_CHAR, preTokenize, utf8Bytes } from '../../SLM/tools/bpe-bytes.js';
import { tokenizeSplits } from '../../SLM/tools/tokenize.js';

const tmp = mkdtempSync(join(tmpdir(), 'auton-bpe-'));
const data = join(tmp, 'data');
const tokFile = join(tmp, 'tok', 'tokenizer.json');
const VOCAB = 512;
let ours: Tokenizer;
let hf: HfTokenizer;

test.before(async () => {
  await buildDataset({ outDir: data, maxBytes: 200_000, usbIds: null });
  const r = await trainTokenizer({ trainFile: join(data, 'train.txt'), vocabSize: VOCAB, outFile: tokFile });
  assert.is(r.merges, VOCAB - 257);
  ours = loadTokenizer(tokFile);
  hf = new HfTokenizer(JSON.parse(readFileSync(tokFile, 'utf8')), {});
});

const EDGE_CASES = [
  '', ' ', 'a', 'PCI device 8086:10d3 is', 'PCI device 8086:10d3 is Intel Corporation 82574L Gigabit Network Connection.',
  'héllo wörld, naïve café', '日本語のテキスト、中文字符', '😀 emoji 🚀🔥 and 👨‍👩‍👧 family', 'e\u0301 combining',
  'a  b   c    d', '   leading', 'trailing   ', '\n', 'line1\nline2\r\n\n\nline5', '\t\ttabs\tand\t \tspaces',
  '12345 3.14159 0x10d3 1e-5 007', "don't you'll we've I'm she'd they're it's", 'ALL CAPS and MiXeD',
  '<|endoftext|>', 'a<|endoftext|>b', '<|endoftext|><|endoftext|>', ' <|endoftext|> ', '<|endoftext', '<|endoftext|',
  '\u0000\u0001\u007f control', '\u00a0nbsp\u2003emsp\u3000ideographic', 'ΑΒΓ αβγ кириллица עברית العربية',
  'lone \ud800 surrogate', '/proc/sys/net/ipv4/tcp_wmem SO_RCVBUF (2) [x] {y} <z> "q" `b` ~!@#$%^&*()_+',
];

test('tokenizer.json is HF byte-level BPE with all bytes and <|endoftext|> last', () => {
  const json = JSON.parse(readFileSync(tokFile, 'utf8'));
  assert.is(json.model.type, 'BPE');
  assert.equal(json.pre_tokenizer, { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true });
  assert.is(json.decoder.type, 'ByteLevel');
  assert.equal(json.added_tokens.map((t: any) => [t.id, t.content, t.special]), [[VOCAB - 1, '<|endoftext|>', true]]);
  const vocab = json.model.vocab as Record<string, number>;
  assert.is(Object.keys(vocab).length, VOCAB);
  for (let b = 0; b < 256; b++) assert.is(vocab[BYTE_TO_CHAR[b]], b);
  assert.is(vocab['<|endoftext|>'], VOCAB - 1);
  assert.is(json.model.merges.length, VOCAB - 257);
  for (const m of json.model.merges) {
    assert.type(m, 'string');
    const [a, b] = m.split(' ');
    assert.ok(vocab[a] !== undefined && vocab[b] !== undefined && vocab[a + b] !== undefined, m);
  }
  assert.is(ours.vocabSize, VOCAB);
  assert.is(ours.eotId, VOCAB - 1);
  assert.is(hf.token_to_id('<|endoftext|>'), VOCAB - 1);
});

test('encode matches @huggingface/tokenizers on the validation text', () => {
  const val = readFileSync(join(data, 'val.txt'), 'utf8');
  const mine = ours.encode(val);
  const theirs = hf.encode(val).ids;
  assert.ok(mine.length > 1000);
  assert.is(mine.length, theirs.length);
  const first = mine.findIndex((id, i) => id !== theirs[i]);
  assert.is(first, -1, `first difference at token ${first}`);
  assert.is(ours.decode(mine), val);
});

test('pre-tokenization matches the HF ByteLevel pre-tokenizer', () => {
  const hfPre = (hf as any).pre_tokenizer as (text: string) => string[];
  for (const text of EDGE_CASES) {
    if (text.includes('<|endoftext|>')) continue;
    const mine = preTokenize(text).map((p) => Array.from(utf8Bytes(p), (b) => BYTE_TO_CHAR[b]).join(''));
    assert.equal(mine, hfPre(text), JSON.stringify(text));
  }
});

test('encode and decode match @huggingface/tokenizers on edge cases', () => {
  for (const text of EDGE_CASES) {
    const mine = ours.encode(text);
    assert.equal(mine, hf.encode(text).ids, JSON.stringify(text));
    if (mine.length === 0) { assert.is(text, ''); continue; }
    const expected = hf.decode(mine, { clean_up_tokenization_spaces: false });
    assert.is(ours.decode(mine), expected, JSON.stringify(text));
    if (!text.includes('\ud800')) assert.is(ours.decode(mine), text); // byte-level BPE is lossless
  }
  assert.equal(ours.encode('<|endoftext|>'), [VOCAB - 1]);
  assert.ok(ours.encode(' Intel Corporation').length <= 3, 'frequent corpus words should be merged');
});

test('decode of a cut multi-byte character gives U+FFFD like HF', () => {
  const ids = ours.encode('é😀'); // the emoji's 4 bytes end in their own token(s)
  const cut = ids.slice(0, -1);
  assert.is(ours.decode(cut), hf.decode(cut, { clean_up_tokenization_spaces: false }));
  assert.ok(ours.decode(cut).includes('\ufffd'));
});

// Reference trainer: recount every pair before each merge (slow, obviously right).
function naiveBpe(words: Map<string, number>, numTokens: number): [number, number][] {
  const tokens = BYTE_TO_CHAR.slice();
  const ids = new Map(tokens.map((t, i) => [t, i]));
  let ws = [...words].map(([k, n]) => ({ s: [...k].map((c) => c.charCodeAt(0)), n }));
  const merges: [number, number][] = [];
  const done = new Set<string>();
  while (tokens.length < numTokens) {
    const counts = new Map<string, number>();
    for (const w of ws) for (let i = 0; i + 1 < w.s.length; i++) {
      const k = `${w.s[i]},${w.s[i + 1]}`;
      counts.set(k, (counts.get(k) ?? 0) + w.n);
    }
    let best: [number, number] | null = null;
    let bestN = 0;
    for (const [k, n] of counts) {
      const [a, b] = k.split(',').map(Number);
      if (n > bestN || (n === bestN && best && (a < best[0] || (a === best[0] && b < best[1])))) { best = [a, b]; bestN = n; }
    }
    if (!best) throw new Error('out of pairs');
    const [a, b] = best;
    const text = tokens[a] + tokens[b];
    let c = ids.get(text);
    if (c === undefined) { c = tokens.length; tokens.push(text); ids.set(text, c); }
    if (!done.has(`${a},${b}`)) { done.add(`${a},${b}`); merges.push([a, b]); }
    ws = ws.map((w) => {
      const s: number[] = [];
      for (let i = 0; i < w.s.length; ) {
        if (i + 1 < w.s.length && w.s[i] === a && w.s[i + 1] === b) { s.push(c!); i += 2; } else s.push(w.s[i++]);
      }
      return { s, n: w.n };
    });
  }
  return merges;
}

test('incremental trainer learns exactly the merges of a full recount', () => {
  const text = readFileSync(join(data, 'train.txt'), 'utf8').slice(0, 6000) + '\naaaa aaaaaa ababab 日本日本 😀😀';
  const words = countPreTokens(text);
  const fast = trainBpe(words, 256 + 150);
  assert.equal(fast.merges, naiveBpe(words, 256 + 150));
});

test('trainer errors say what to change', async () => {
  const small = join(tmp, 'small.txt');
  writeFileSync(small, 'tiny text\n');
  try {
    await trainTokenizer({ trainFile: small, vocabSize: 1024, outFile: join(tmp, 'x.json') });
    assert.unreachable('a 10-byte text cannot fill 1024 tokens');
  } catch (e) {
    assert.match((e as Error).message, /smaller vocab size/);
  }
  try {
    await trainTokenizer({ trainFile: small, vocabSize: 100, outFile: join(tmp, 'x.json') });
    assert.unreachable('vocab below 257');
  } catch (e) {
    assert.match((e as Error).message, /vocabSize=100/);
  }
});

test('tokenizeSplits writes uint16 LE streams: eot doc eot doc ... eot', async () => {
  const out = join(tmp, 'bins');
  const stats = await tokenizeSplits({ tokenizerFile: tokFile, trainFile: join(data, 'train.txt'), valFile: join(data, 'val.txt'), outDir: out });
  for (const split of ['train', 'val'] as const) {
    const buf = readFileSync(join(out, `${split}.bin`));
    assert.is(buf.length, stats[split].tokens * 2);
    const ids = Array.from({ length: buf.length / 2 }, (_, i) => buf.readUInt16LE(i * 2));
    assert.is(ids[0], VOCAB - 1);
    assert.is(ids[ids.length - 1], VOCAB - 1);
    assert.ok(ids.every((id) => id < VOCAB));
    const docs = ours.decode(ids).split('<|endoftext|>').slice(1, -1);
    const lines = readFileSync(join(data, `${split}.txt`), 'utf8').split('\n').filter(Boolean);
    assert.is(docs.length, lines.length);
    assert.ok(docs.every((d, i) => d === lines[i]));
    assert.is(stats[split].documents, lines.length);
    assert.ok(stats[split].bytesPerToken > 2 && stats[split].bytesPerToken < 5, `${stats[split].bytesPerToken} bytes/token`);
  }
  const saved = JSON.parse(readFileSync(join(out, 'token-stats.json'), 'utf8'));
  assert.is(saved.train.tokens, stats.train.tokens);
  assert.is(saved.vocabSize, VOCAB);
  assert.ok(statSync(join(out, 'train.bin')).size > statSync(join(out, 'val.bin')).size);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
