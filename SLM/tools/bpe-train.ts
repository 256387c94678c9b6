// Byte-level BPE training: repeatedly merge the most frequent adjacent pair of symbols.
//
// Data layout (why it is fast): training text is reduced to its distinct pre-tokens with
// counts; each is an array of symbol ids (initially its UTF-8 bytes). We keep, for every
// adjacent pair, its total count and the list of words it occurs in, plus a max-heap of
// (count, pair). A merge rewrites only the words that contain the pair and adjusts the
// counts of the pairs it destroyed and created, instead of recounting the whole corpus.
// Heap entries are lazy: a popped entry whose count is stale is pushed back with the fresh
// count, so the first fresh entry popped is the true maximum.
//
// Ties (equal counts) go to the smaller (left id, right id): training is deterministic.
import { BYTE_TO_CHAR } from './bpe-bytes.js';

export interface BpeTrainResult {
  /** id → byte-level token string; ids 0..255 are the bytes themselves. */
  tokens: string[];
  /** Merges in rank order, as symbol ids. */
  merges: [number, number][];
}

const SHIFT = 65536; // pair key = left * SHIFT + right; ids stay below 65536 (uint16 output)

/**
 * Learns merges until there are `numTokens` tokens (bytes + merged tokens).
 * `words` maps each distinct pre-token's UTF-8 bytes (as a latin1 key) to its count.
 */
export function trainBpe(words: Map<string, number>, numTokens: number): BpeTrainResult {
  if (numTokens < 256 || numTokens > SHIFT) {
    throw new Error(`bpe: ${numTokens} tokens requested; need 256 (all bytes) to ${SHIFT} (uint16 ids)`);
  }
  const tokens = BYTE_TO_CHAR.slice();
  const tokenIds = new Map(tokens.map((t, i) => [t, i]));
  const merges: [number, number][] = [];
  const merged = new Set<number>();

  const syms: number[][] = [];
  const freq: number[] = [];
  for (const [key, count] of words) {
    const s = new Array<number>(key.length);
    for (let i = 0; i < key.length; i++) s[i] = key.charCodeAt(i);
    syms.push(s);
    freq.push(count);
  }

  const counts = new Map<number, number>();
  const where = new Map<number, number[]>();
  const add = (key: number, n: number, w: number, track: boolean) => {
    counts.set(key, (counts.get(key) ?? 0) + n);
    if (track) {
      const list = where.get(key);
      if (list) list.push(w);
      else where.set(key, [w]);
    }
  };
  for (let w = 0; w < syms.length; w++) {
    const s = syms[w];
    for (let i = 0; i + 1 < s.length; i++) add(s[i] * SHIFT + s[i + 1], freq[w], w, true);
  }
  const heap = new PairHeap();
  for (const [key, n] of counts) heap.push(n, key);

  const stamp = new Int32Array(syms.length).fill(-1);
  let step = 0;
  while (tokens.length < numTokens) {
    const top = heap.pop();
    if (!top) {
      throw new Error(
        `bpe: the training text allows only ${tokens.length} tokens but ${numTokens} were requested; ` +
          `give more text or a smaller vocab size`,
      );
    }
    const [n, key] = top;
    const fresh = counts.get(key) ?? 0;
    if (fresh !== n) {
      if (fresh > 0) heap.push(fresh, key);
      continue;
    }
    const a = Math.floor(key / SHIFT);
    const b = key % SHIFT;
    // Two merge paths can spell the same string ("a"+"bc", "ab"+"c"): one token, two merges.
    const text = tokens[a] + tokens[b];
    let c = tokenIds.get(text);
    if (c === undefined) {
      c = tokens.length;
      tokens.push(text);
      tokenIds.set(text, c);
    }
    if (!merged.has(key)) {
      merged.add(key);
      merges.push([a, b]);
    }

    const touched = new Set<number>();
    step++;
    for (const w of where.get(key) ?? []) {
      if (stamp[w] === step) continue;
      stamp[w] = step;
      const s = syms[w];
      let found = false;
      for (let i = 0; i + 1 < s.length; i++) if (s[i] === a && s[i + 1] === b) { found = true; break; }
      if (!found) continue; // stale: an earlier merge already rewrote this word
      const f = freq[w];
      for (let i = 0; i + 1 < s.length; i++) {
        const k = s[i] * SHIFT + s[i + 1];
        const left = counts.get(k)! - f;
        if (left === 0) counts.delete(k);
        else counts.set(k, left);
      }
      const out: number[] = [];
      for (let i = 0; i < s.length; ) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) { out.push(c); i += 2; }
        else out.push(s[i++]);
      }
      syms[w] = out;
      for (let i = 0; i + 1 < out.length; i++) {
        const k = out[i] * SHIFT + out[i + 1];
        const isNew = out[i] === c || out[i + 1] === c;
        add(k, f, w, isNew); // old pairs already list this word
        if (isNew) touched.add(k);
      }
    }
    where.delete(key);
    counts.delete(key);
    for (const k of touched) {
      const m = counts.get(k);
      if (m) heap.push(m, k);
    }
  }
  return { tokens, merges };
}

/** Max-heap of (count, pair key); larger count first, then smaller key. */
class PairHeap {
  private n: number[] = [];
  private k: number[] = [];

  push(count: number, key: number): void {
    this.n.push(count);
    this.k.push(key);
    let i = this.n.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  pop(): [number, number] | undefined {
    if (this.n.length === 0) return undefined;
    const top: [number, number] = [this.n[0], this.k[0]];
    const lastN = this.n.pop()!;
    const lastK = this.k.pop()!;
    if (this.n.length > 0) {
      this.n[0] = lastN;
      this.k[0] = lastK;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < this.n.length && this.before(l, best)) best = l;
        if (r < this.n.length && this.before(r, best)) best = r;
        if (best === i) break;
        this.swap(i, best);
        i = best;
      }
    }
    return top;
  }

  private before(i: number, j: number): boolean {
    return this.n[i] > this.n[j] || (this.n[i] === this.n[j] && this.k[i] < this.k[j]);
  }

  private swap(i: number, j: number): void {
    [this.n[i], this.n[j]] = [this.n[j], this.n[i]];
    [this.k[i], this.k[j]] = [this.k[j], this.k[i]];
  }
}
