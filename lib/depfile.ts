// depfile.ts — parse a make-style depfile (gcc -MMD -MF): "out.o: a.c b.h \<newline> c.h".

import { readFileSync } from 'node:fs'
import { isAbsolute, relative } from 'node:path'

/** The prerequisites a depfile lists, relative to `root` where they are inside it. */
export function readDepfile(file: string, root: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/\\\r?\n/g, ' ')
  const deps = new Set<string>()
  for (const line of text.split('\n')) {
    const colon = line.search(/:(\s|$)/)
    if (colon < 0) continue
    // split on unescaped whitespace; "\ " is a space inside a name
    for (const m of line.slice(colon + 1).matchAll(/(?:\\ |[^\s])+/g)) {
      const p = m[0].replace(/\\ /g, ' ')
      deps.add(isAbsolute(p) ? relative(root, p) : p)
    }
  }
  return [...deps].filter((p) => !p.startsWith('..'))
}
