// Corpus statistics written to stats.json: sizes, and how well the training text covers the
// validation text (characters and words) — a val word never seen in training is one the
// model can only spell, never recall.

export interface TextStats {
  bytes: number;
  lines: number;
  distinctChars: number;
  words: number;
  distinctWords: number;
}

export interface Coverage {
  valCharsMissingFromTrain: string[]; // distinct characters of val absent from train
  valCharCoverage: number; // fraction of val characters (occurrences) seen in train
  valWordTypeCoverage: number; // fraction of distinct val words seen in train
  valWordCoverage: number; // fraction of val word occurrences seen in train
}

const WORD = /[\p{L}\p{N}_]+/gu;

export function textStats(lines: readonly string[]): TextStats {
  const chars = new Set<string>();
  const words = new Set<string>();
  let bytes = 0;
  let wordCount = 0;
  for (const line of lines) {
    bytes += Buffer.byteLength(line, 'utf8') + 1; // + newline
    for (const c of line) chars.add(c);
    for (const w of line.match(WORD) ?? []) {
      words.add(w);
      wordCount++;
    }
  }
  return { bytes, lines: lines.length, distinctChars: chars.size, words: wordCount, distinctWords: words.size };
}

export function coverage(train: readonly string[], val: readonly string[]): Coverage {
  const trainChars = new Set<string>();
  const trainWords = new Set<string>();
  for (const line of train) {
    for (const c of line) trainChars.add(c);
    for (const w of line.match(WORD) ?? []) trainWords.add(w);
  }
  const missing = new Set<string>();
  let chars = 0, charsSeen = 0, words = 0, wordsSeen = 0;
  const valTypes = new Set<string>();
  for (const line of val) {
    for (const c of line) {
      chars++;
      if (trainChars.has(c)) charsSeen++;
      else missing.add(c);
    }
    for (const w of line.match(WORD) ?? []) {
      words++;
      valTypes.add(w);
      if (trainWords.has(w)) wordsSeen++;
    }
  }
  let typesSeen = 0;
  for (const w of valTypes) if (trainWords.has(w)) typesSeen++;
  return {
    valCharsMissingFromTrain: [...missing].sort(),
    valCharCoverage: ratio(charsSeen, chars),
    valWordTypeCoverage: ratio(typesSeen, valTypes.size),
    valWordCoverage: ratio(wordsSeen, words),
  };
}

function ratio(a: number, b: number): number {
  return b === 0 ? 1 : Math.round((a / b) * 1e6) / 1e6;
}
