// Man pages (Debian `manpages`, `manpages-dev`) as plain prose paragraphs.
// We strip the man(7) roff macros ourselves instead of running `man`/groff: it is fast, needs
// no extra tools, and the output does not change with the groff version installed.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** Path of page `name` ("tcp.7"); a missing page is an error naming the package to install. */
export function manPagePath(manDir: string, name: string): string {
  const section = name.slice(name.lastIndexOf('.') + 1);
  for (const file of [join(manDir, `man${section}`, `${name}.gz`), join(manDir, `man${section}`, name)]) {
    if (existsSync(file)) return file;
  }
  const pkg = section === '2' || section === '3' ? 'manpages-dev' : 'manpages';
  throw new Error(
    `dataset: man page ${name} not found under ${join(manDir, `man${section}`)}. It comes from ` +
      `the Debian package \`${pkg}\`: run \`apt-get install -y ${pkg}\` (or pass manDir/manPages).`,
  );
}

/** Paragraphs of a page, or null when the page is only a `.so` redirect to another page. */
export function readManPage(file: string): string[] | null {
  const raw = readFileSync(file);
  const text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  return roffToParagraphs(text);
}

// Sections whose content is code, cross references or boilerplate, not prose.
const SKIP_SECTIONS = new Set(['SYNOPSIS', 'SEE ALSO', 'COLOPHON', 'AUTHORS', 'AUTHOR', 'COPYRIGHT',
  'REPORTING BUGS', 'EXAMPLES', 'EXAMPLE']);
// Macros that end the current paragraph.
const BREAKS = new Set(['PP', 'P', 'LP', 'sp', 'br', 'TP', 'TQ', 'IP', 'HP', 'RS', 'RE', 'in', 'ti',
  'SH', 'SS', 'PD', 'bp']);
// Font macros: B/I join their words with spaces, the two-font forms alternate with no space.
const FONT_SPACED = new Set(['B', 'I', 'SM', 'SB']);
const FONT_ALTERNATING = new Set(['BR', 'RB', 'IR', 'RI', 'BI', 'IB']);

export function roffToParagraphs(text: string): string[] | null {
  const paragraphs: string[] = [];
  let current: string[] = [];
  let section = '';
  let skipUntil: RegExp | null = null; // inside .nf/.EX/.TS/.de/.ig blocks
  const flush = () => {
    const p = current.join(' ').replace(/\s+/g, ' ').trim();
    current = [];
    if (!SKIP_SECTIONS.has(section) && p.length >= 20 && /[a-zA-Z]{3}/.test(p)) paragraphs.push(p);
  };
  for (const line of text.split('\n')) {
    if (skipUntil) {
      if (skipUntil.test(line)) skipUntil = null;
      continue;
    }
    if (line.startsWith('.') || line.startsWith("'")) {
      const { name, args } = parseRequest(line);
      if (name === 'so') return null;
      if (name === '\\"' || name === '') continue;
      if (name === 'nf' || name === 'EX') { flush(); skipUntil = /^\.(fi|EE)\b/; continue; }
      if (name === 'TS') { flush(); skipUntil = /^\.TE\b/; continue; }
      if (name === 'de' || name === 'ig') { skipUntil = /^\.\.\s*$/; continue; }
      if (BREAKS.has(name)) {
        flush();
        if (name === 'SH') section = args.map(inline).join(' ').trim().toUpperCase();
        // `.IP tag` keeps a word tag ("EINVAL"), drops bullets and numbers.
        if (name === 'IP' && args[0] && /[a-zA-Z]{2}/.test(inline(args[0]))) current.push(inline(args[0]));
        continue;
      }
      if (FONT_SPACED.has(name)) current.push(args.map(inline).join(' '));
      else if (FONT_ALTERNATING.has(name)) current.push(args.map(inline).join(''));
      continue; // every other request (.TH, .ad, .if, .UR ...) carries no prose
    }
    const cut = line.indexOf('\\"');
    current.push(inline(cut >= 0 ? line.slice(0, cut) : line));
  }
  flush();
  return paragraphs;
}

/** Splits `.BR "foo bar" baz` into its macro name and (de-quoted) arguments. */
function parseRequest(line: string): { name: string; args: string[] } {
  const body = line.slice(1).trimStart();
  if (body.startsWith('\\"')) return { name: '\\"', args: [] };
  const m = /^(\S*)\s*(.*)$/.exec(body)!;
  const args: string[] = [];
  const re = /"((?:[^"]|"")*)"|(\S+)/g;
  let a: RegExpExecArray | null;
  const rest = m[2].replace(/\\".*$/, '');
  while ((a = re.exec(rest))) args.push(a[1] !== undefined ? a[1].replace(/""/g, '"') : a[2]);
  return { name: m[1], args };
}

// Named glyphs as ASCII, so a small byte-level vocabulary is not spent on rare symbols.
const GLYPHS: Record<string, string> = {
  aq: "'", dq: '"', lq: '"', rq: '"', oq: "'", cq: "'", em: '--', en: '-', hy: '-', bu: '*',
  co: '(c)', rg: '(R)', tm: '(TM)', mu: 'x', ti: '~', ha: '^', ga: '`', rs: '\\', '>=': '>=',
  '<=': '<=', '->': '->', '<-': '<-', '+-': '+-', 'if': 'inf', pl: '+', mi: '-', eq: '=',
  sl: '/', ba: '|', at: '@', sh: '#', Do: '$', lB: '[', rB: ']', lC: '{', rC: '}', 'r!': '!',
  'r?': '?', '**': '*', fm: "'", sd: '"', de: ' degrees', ss: 'ss', 'e\'': 'e', 'u"': 'u',
};

/** Resolves inline escapes: fonts, glyphs, spacing and interpolations. */
export function inline(s: string): string {
  return s.replace(
    /\\(?:f(?:\[[^\]]*\]|\(..|.)|\((..)|\[([^\]]*)\]|\*(?:\(..|\[[^\]]*\]|.)|s[-+]?\d+|n(?:\(..|\[[^\]]*\]|.)|[hvwlLNoDbxkz]'[^']*'|(.))/g,
    (all, two?: string, bracket?: string, single?: string) => {
      const glyph = two ?? bracket;
      if (glyph !== undefined) return GLYPHS[glyph] ?? '';
      if (single === undefined) return ''; // font, string, size, register, motion escapes
      switch (single) {
        case 'e': case '\\': return '\\';
        case '-': return '-';
        case ' ': case '~': case '0': return ' ';
        case "'": return "'";
        case '`': return '`';
        case '.': return '.';
        default: return ''; // \& \: \% \| \^ \c and anything unknown
      }
    },
  );
}
