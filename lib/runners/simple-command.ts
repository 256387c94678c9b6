// simple-command.ts — whether a command text is one plain simple command, and if so its argv
// and redirections: exactly what bash would run, with exactly these files open.
//
// Plain means nothing bash would expand or interpret: words of [A-Za-z0-9_/.,:=+@%-] and
// single-quoted parts, blanks between them, and the redirections <, >, >>, n>&m (n, m in
// 0–2), each to a plain word. The first word must name a program (not a builtin, a keyword
// or an assignment). Such a command runs as `exec TEXT` in bash (one fork fewer) or in the
// spawner (spawner.ts, no fork of bash at all). Anything this does not fully understand is
// not simple: bash runs it as written, and says what it thinks of it.

export interface Redirect {
  fd: number
  op: '<' | '>' | '>>' | '>&'
  /** A path, or for '>&' the fd copied. */
  target: string
}

export interface SimpleCommand {
  argv: string[]
  redirects: Redirect[]
}

const WORD_CHAR = /[A-Za-z0-9_/.,:=+@%-]/

/** argv and redirections of a plain simple command; undefined for anything else. */
export function simpleCommand(text: string): SimpleCommand | undefined {
  const t = text.trim()
  const argv: string[] = []
  const redirects: Redirect[] = []
  let i = 0
  const word = (): string | undefined => {
    let w = ''
    let any = false
    while (i < t.length) {
      const c = t[i]
      if (c === "'") {
        const close = t.indexOf("'", i + 1)
        if (close < 0) return undefined
        w += t.slice(i + 1, close)
        i = close + 1
      } else if (WORD_CHAR.test(c)) {
        w += c
        i++
      } else break
      any = true
    }
    return any ? w : undefined
  }
  while (i < t.length) {
    if (t[i] === ' ' || t[i] === '\t') {
      i++
      continue
    }
    const r = /^([0-2]?)(>>|>|<)(&[0-2])?/.exec(t.slice(i, i + 5))
    if (r) {
      i += r[0].length
      const op = r[2] as '<' | '>' | '>>'
      const fd = r[1] ? Number(r[1]) : op === '<' ? 0 : 1
      if (r[3]) {
        if (op !== '>') return undefined // <&n and >>&n: not plain copies (bash: a syntax error for >>&)
        redirects.push({ fd, op: '>&', target: r[3].slice(1) })
        continue
      }
      while (t[i] === ' ' || t[i] === '\t') i++
      const target = word()
      if (target === undefined || target === '') return undefined
      redirects.push({ fd, op, target })
      continue
    }
    const start = i
    const w = word()
    if (w === undefined) return undefined
    // digits right before < or > name a file descriptor to bash (`cat 3>x`): not handled here
    if (/^[0-9]+$/.test(t.slice(start, i)) && (t[i] === '<' || t[i] === '>')) return undefined
    argv.push(w)
  }
  // `A=b cmd` assigns; `echo`, `cd`, `if` are the shell's own; `-x` would be an option of exec
  if (!argv.length || !/^[A-Za-z0-9_/.+]/.test(argv[0]) || argv[0].includes('=') || NOT_A_PROGRAM.has(argv[0])) return undefined
  if (argv.length > 100_000 || redirects.length > 64) return undefined // the spawner's limits (spawner.c)
  return { argv, redirects }
}

/** bash 5.2's `compgen -b -k` (words that a shell runs itself), and `exec` itself. */
const NOT_A_PROGRAM = new Set(
  ('. : [ alias bg bind break builtin caller cd command compgen complete compopt continue declare dirs disown echo ' +
    'enable eval exec exit export false fc fg getopts hash help history jobs kill let local logout mapfile popd printf ' +
    'pushd pwd read readarray readonly return set shift shopt source suspend test times trap true type typeset ulimit ' +
    'umask unalias unset wait if then else elif fi case esac for select while until do done in function time coproc').split(' '),
)
