// Byte-level BPE encoding and decoding with a trained vocabulary and merge list.
// Encoding a pre-token: start from its bytes, then repeatedly apply the lowest-ranked merge
// present, all of its occurrences left to right — GPT-2's algorithm, which yields the same
// ids as @huggingface/tokenizers (checked in test/SLM/bpe.test.ts).
import { EOT, preTokenize, utf8Bytes, tokenToBytes } from './bpe-bytes.js';

const SHIFT = 65536;
// Invalid sequences (ids cut mid-character) decode to U+FFFD, like HF's ByteLevel decoder.
const utf8Decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

export class BpeCodec {
  readonly vocabSize: number;
  readonly eotId: number;
  private readonly byteIds: Int32Array; // byte value → token id
  private readonly rank = new Map<number, number>(); // pair key → rank
  private readonly result: Int32Array; // rank → merged token id
  private readonly tokenBytes: Uint8Array[]; // id → bytes (empty for the special token)
  private cache = new Map<string, number[]>();

  /**
   * @param tokens id → byte-level token string (holes allowed only at `eotId`)
   * @param merges merges in rank order, as token strings
   */
  constructor(tokens: (string | undefined)[], merges: [string, string][], eotId: number) {
    this.vocabSize = tokens.length;
    this.eotId = eotId;
    const ids = new Map<string, number>();
    tokens.forEach((t, i) => { if (t !== undefined && i !== eotId) ids.set(t, i); });
    this.tokenBytes = tokens.map((t, i) => (t === undefined || i === eotId ? new Uint8Array(0) : Uint8Array.from(tokenToBytes(t))));
    this.byteIds = new Int32Array(256).fill(-1);
    ids.forEach((id, t) => {
      const bytes = this.tokenBytes[id];
      if (bytes.length === 1 && [...t].length === 1) this.byteIds[bytes[0]] = id;
    });
    const missing = [...this.byteIds].findIndex((id) => id < 0);
    if (missing >= 0) throw new Error(`tokenizer: vocabulary lacks the token for byte 0x${missing.toString(16)}; byte-level BPE needs all 256`);
    this.result = new Int32Array(merges.length);
    merges.forEach(([a, b], r) => {
      const ia = ids.get(a);
      const ib = ids.get(b);
      const ic = ids.get(a + b);
      if (ia === undefined || ib === undefined || ic === undefined) {
        throw new Error(`tokenizer: merge ${r} "${a} ${b}" uses or makes a token that is not in the vocabulary`);
      }
      const key = ia * SHIFT + ib;
      if (!this.rank.has(key)) this.rank.set(key, r); // a repeated merge keeps its first rank
      this.result[r] = ic;
    });
  }

  /** Text → ids. `<|endoftext|>` in the text becomes the eot id, as in HF tokenizers. */
  encode(text: string): number[] {
    const out: number[] = [];
    const parts = text.split(EOT);
    parts.forEach((part, i) => {
      if (i > 0) out.push(this.eotId);
      for (const piece of preTokenize(part)) {
        for (const id of this.encodePiece(piece)) out.push(id);
      }
    });
    return out;
  }

  /** Ids → text; bytes are joined before UTF-8 decoding, so split characters round-trip. */
  decode(ids: readonly number[]): string {
    let text = '';
    let bytes: number[] = [];
    const flush = () => {
      text += utf8Decoder.decode(Uint8Array.from(bytes));
      bytes = [];
    };
    for (const id of ids) {
      if (id === this.eotId) { flush(); text += EOT; continue; }
      const b = this.tokenBytes[id];
      if (b === undefined) throw new Error(`tokenizer: id ${id} is outside the vocabulary (size ${this.vocabSize})`);
      for (const x of b) bytes.push(x);
    }
    flush();
    return text;
  }

  private encodePiece(piece: string): number[] {
    const hit = this.cache.get(piece);
    if (hit) return hit;
    const bytes = utf8Bytes(piece);
    let syms = Array.from(bytes, (b) => this.byteIds[b]);
    for (;;) {
      let best = -1;
      for (let i = 0; i + 1 < syms.length; i++) {
        const r = this.rank.get(syms[i] * SHIFT + syms[i + 1]);
        if (r !== undefined && (best < 0 || r < best)) best = r;
      }
      if (best < 0) break;
      const c = this.result[best];
      const out: number[] = [];
      for (let i = 0; i < syms.length; ) {
        if (i + 1 < syms.length && this.rank.get(syms[i] * SHIFT + syms[i + 1]) === best) { out.push(c); i += 2; }
        else out.push(syms[i++]);
      }
      syms = out;
    }
    if (this.cache.size > 200_000) this.cache = new Map(); // bound memory on huge inputs
    this.cache.set(piece, syms);
    return syms;
  }
}
