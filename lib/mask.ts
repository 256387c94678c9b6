// mask.ts — secrets never reach a log, the terminal or a trace: every value of a target's
// `secrets` is replaced by *** in what its recipe prints, as CI systems mask theirs.
// Output arrives in chunks, so a secret can be split across two: the masker holds back the
// last (longest secret − 1) characters until the next chunk or flush().
// Values shorter than MIN_SECRET are not masked (masking "a" would mask every a): they are
// also too short to be a credential.

export const MIN_SECRET = 4

export interface Masker {
  /** Mask a whole string (messages, progress lines). */
  mask(s: string): string
  /** Stream: returns what can be written now. */
  write(chunk: string): string
  /** End of stream: what was held back. */
  flush(): string
}

export function createMasker(values: string[]): Masker {
  const secrets = [...new Set(values.filter((v) => v.length >= MIN_SECRET))].sort((a, b) => b.length - a.length)
  const hold = secrets.length ? secrets[0].length - 1 : 0
  const mask = (s: string) => {
    for (const v of secrets) if (s.includes(v)) s = s.split(v).join('***')
    return s
  }
  let pending = ''
  return {
    mask,
    write(chunk) {
      if (!secrets.length) return chunk
      const s = mask(pending + chunk)
      // keep a tail that could be the start of a secret
      let keep = 0
      for (let n = Math.min(hold, s.length); n > 0; n--) {
        const tail = s.slice(s.length - n)
        if (secrets.some((v) => v.startsWith(tail))) {
          keep = n
          break
        }
      }
      pending = s.slice(s.length - keep)
      return s.slice(0, s.length - keep)
    },
    flush() {
      const s = pending
      pending = ''
      return s
    },
  }
}
