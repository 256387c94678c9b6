// depfile.test.ts — parsing gcc-style depfiles, and discovered inputs end to end with real gcc.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readDepfile } from '../../lib/depfile.js'
import { Project, show } from '../helpers/project.js'

const parse = suite('readDepfile')
const tmp = mkdtempSync(join(tmpdir(), 'auton-dep-'))
parse.after(() => rmSync(tmp, { recursive: true, force: true }))

const depfile = (text: string) => {
  const p = join(tmp, 'x.d')
  writeFileSync(p, text)
  return readDepfile(p, '/proj')
}

parse('continuations, escaped spaces, absolute paths inside and outside the root', () => {
  const deps = depfile(
    'build/main.o: src/main.c \\\n  inc/a\\ b.h /proj/inc/c.h \\\n /usr/include/stdio.h\n',
  )
  assert.equal(deps, ['src/main.c', 'inc/a b.h', 'inc/c.h'])
})

parse('-MP phony targets and several rules; duplicates once', () => {
  const deps = depfile('main.o: main.c x.h\n\nx.h:\nother.o: x.h y.h\n')
  assert.equal(deps, ['main.c', 'x.h', 'y.h'])
})

parse('CRLF line endings', () => {
  assert.equal(depfile('a.o: a.c \\\r\n b.h\r\n'), ['a.c', 'b.h'])
})

parse.run()

// ── with real gcc -MMD ───────────────────────────────────────────────────────────────
const gcc = suite('depfile-discovered inputs (gcc -MMD)')

gcc('editing an included header rebuilds; editing an unrelated file does not', async () => {
  const p = new Project({
    'autonfile.ts': `import { target, sh } from 'auton'
target('main.o', {
  inputs: ['src/main.c'],
  outputs: ['build/main.o'],
  depfile: 'build/main.d',
  run: sh\`gcc -Iinc -MMD -MF build/main.d -c src/main.c -o build/main.o\`,
})
`,
    'src/main.c': '#include "config.h"\nint answer(void) { return ANSWER; }\n',
    'inc/config.h': '#define ANSWER 42\n',
    'inc/unused.h': '#define UNUSED 1\n',
  })
  try {
    const first = await p.build('main.o')
    assert.is(first.code, 0, show(first))
    assert.is(first.status.get('main.o'), 'ran')
    p.write('inc/unused.h', '#define UNUSED 2\n')
    assert.is((await p.build('main.o')).status.get('main.o'), 'up-to-date')
    p.write('inc/config.h', '#define ANSWER 43\n')
    const ex = await p.run(['explain', 'main.o'])
    assert.match(ex.stdout, "discovered input 'inc/config.h' changed", show(ex))
    const r = await p.build('main.o')
    assert.is(r.status.get('main.o'), 'ran', show(r))
    const ev = r.events.find((e) => e.type === 'target' && e.name === 'main.o')!
    assert.is(ev.reason, "discovered input 'inc/config.h' changed")
    assert.is((await p.build('main.o')).status.get('main.o'), 'up-to-date')
  } finally {
    p.remove()
  }
})

gcc.run()
