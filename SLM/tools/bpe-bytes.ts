// The two fixed pieces of GPT-2 byte-level BPE, shared by trainer, encoder and decoder:
// 1. every byte has a printable stand-in character, so a token is a plain string in
//    tokenizer.json ("Ġ" is the space byte 0x20, "Ċ" is "\n");
// 2. text is first split into pre-tokens by the GPT-2 regex; merges never cross them.
// Both must agree exactly with @huggingface/tokenizers' ByteLevel pre-tokenizer and decoder.

/** Byte value → stand-in character (GPT-2's bytes_to_unicode). */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const out: string[] = new Array(256);
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    // Printable Latin-1 characters stand for themselves; the rest move up past U+0100.
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    out[b] = String.fromCharCode(printable ? b : 256 + shifted++);
  }
  return out;
})();

/** Stand-in character → byte value. */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/** The GPT-2 pre-tokenizer pattern (contractions, letter runs, digit runs, other runs, spaces). */
export const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export const EOT = '<|endoftext|>';

/** Splits text into pre-tokens (JS strings; BPE works on their UTF-8 bytes). */
export function preTokenize(text: string): string[] {
  return text.match(GPT2_PATTERN) ?? [];
}

const utf8 = new TextEncoder();

/** A pre-token's UTF-8 bytes. */
export function utf8Bytes(text: string): Uint8Array {
  return utf8.encode(text);
}

/** A token's byte-level string ("ĠIntel") → its bytes. Throws on a character outside the map. */
export function tokenToBytes(token: string): number[] {
  const out: number[] = [];
  for (const ch of token) {
    const b = CHAR_TO_BYTE.get(ch);
    if (b === undefined) throw new Error(`tokenizer: token ${JSON.stringify(token)} has character ${JSON.stringify(ch)} that is not a byte-level symbol`);
    out.push(b);
  }
  return out;
}
