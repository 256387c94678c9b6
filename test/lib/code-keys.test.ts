// code-keys.test.ts — a function recipe's key covers the code it can run.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Project, show } from '../helpers/project.js'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CodeGraph, dynamicSpecifiers, resolveSpecifier, staticSpecifiers } from '../../lib/code-deps.js'

const test = suite('function recipes key their code')

const AUTONFILE = `import { target } from 'auton'
import { writeFileSync } from 'node:fs'
import { greet } from './helpers/greet.js'

target('hello', {
  outputs: ['out/hello.txt'],
  run: async () => { writeFileSync('out/hello.txt', greet()) },
})
// two recipes of one module, each importing its own stage code
target('one', {
  outputs: ['out/one.txt'],
  run: async () => { const { value } = await import('./stages/one.js'); writeFileSync('out/one.txt', value) },
})
target('two', {
  outputs: ['out/two.txt'],
  run: async () => { const { value } = await import('./stages/two.js'); writeFileSync('out/two.txt', value) },
})
target('plain', { outputs: ['out/plain.txt'], run: async () => { writeFileSync('out/plain.txt', 'p') } })
`

test('static scan finds every kind of specifier', () => {
  const text = `import a from './a.js'\nimport type { B } from "./b.js"\nexport { c } from './c.js'\nimport './d.js'\nimport {\n  e,\n  f,\n} from './ef.js'\nconst g = await import('./g.js')\nconst h = require("./h.cjs")\n`
  assert.equal(staticSpecifiers(text), ['./a.js', './b.js', './c.js', './d.js', './ef.js'])
  assert.equal(dynamicSpecifiers(text), ['./g.js', './h.cjs'])
  assert.equal(dynamicSpecifiers(`jitiImport('./x.js')`), ['./x.js'])
  assert.equal(dynamicSpecifiers('await import(`./tpl.js`); await import(`./${name}.js`)'), ['./tpl.js']) // a computed one cannot be followed
})

test('an edited helper, and a module the helper imports, rerun the recipe; a dynamic import reruns only its recipe', async () => {
  const p = new Project({
    'autonfile.ts': AUTONFILE,
    'helpers/greet.ts': `import { name } from './name.js'\nexport const greet = () => 'hello ' + name + '\\n'\n`,
    'helpers/name.ts': `export const name = 'world'\n`,
    'stages/one.ts': `export const value = '1'\n`,
    'stages/two.ts': `export const value = '2'\n`,
  })
  try {
    const first = await p.build('hello', 'one', 'two', 'plain')
    assert.is(first.code, 0, show(first))
    assert.is((await p.build('hello', 'one', 'two', 'plain')).with('up-to-date').length, 4)

    // a static import of the defining module counts for all its recipes (any may call it)
    p.write('helpers/name.ts', `export const name = 'there'\n`)
    let r = await p.build('hello', 'one', 'two', 'plain')
    assert.equal(r.with('ran'), ['hello', 'one', 'plain', 'two'], show(r))
    assert.is(r.reason.get('hello'), "code 'helpers/name.ts' changed")
    assert.is(p.read('out/hello.txt'), 'hello there\n')

    p.write('helpers/greet.ts', `import { name } from './name.js'\nexport const greet = () => 'hi ' + name + '\\n'\n`)
    r = await p.build('hello', 'one', 'two', 'plain')
    assert.is(r.reason.get('hello'), "code 'helpers/greet.ts' changed", show(r))
    assert.is(p.read('out/hello.txt'), 'hi there\n')

    // a dynamic import in one recipe's body belongs to that recipe only
    p.write('stages/two.ts', `export const value = '22'\n`)
    r = await p.build('hello', 'one', 'two', 'plain')
    assert.equal(r.with('ran'), ['two'], show(r))
    assert.is(r.reason.get('two'), "code 'stages/two.ts' changed")
    assert.is(p.read('out/two.txt'), '22')

    // explain and -n agree with what build just did
    p.write('stages/one.ts', `export const value = '11'\n`)
    const ex = await p.run(['explain', 'one'])
    assert.match(ex.stdout, "one: would rebuild because\n  - code 'stages/one.ts' changed", show(ex))
    const dry = await p.build('-n', 'hello', 'one', 'two', 'plain')
    assert.equal(dry.with('would-run'), ['one'])
  } finally {
    p.remove()
  }
})

test('a directory import resolves to its index module, whose imports are followed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'auton-code-'))
  try {
    mkdirSync(join(dir, 'helpers'))
    writeFileSync(join(dir, 'helpers', 'index.ts'), "export * from './name.js'\n")
    writeFileSync(join(dir, 'helpers', 'name.ts'), "export const name = 'n'\n")
    writeFileSync(join(dir, 'main.ts'), "import { name } from './helpers'\n")
    assert.equal(resolveSpecifier('./helpers', join(dir, 'main.ts')), { file: join(dir, 'helpers', 'index.ts') })
    const code = new CodeGraph(dir, (f) => `h(${f})`, () => []).codeOf(join(dir, 'main.ts'), '')
    assert.equal([...code.keys()].sort(), ['helpers/index.ts', 'helpers/name.ts', 'main.ts'])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a module created where an import pointed at nothing changes the key', async () => {
  const p = new Project({
    'autonfile.ts': `import { target } from 'auton'
import { writeFileSync, existsSync } from 'node:fs'
target('opt', { outputs: ['out/o.txt'], run: async () => {
  const v = existsSync('extra.ts') ? (await import('./extra.js')).v : 'none'
  writeFileSync('out/o.txt', v)
} })
`,
  })
  try {
    assert.is((await p.build('opt')).code, 0)
    assert.is(p.read('out/o.txt'), 'none')
    p.write('extra.ts', `export const v = 'extra'\n`)
    const r = await p.build('opt')
    assert.is(r.status.get('opt'), 'ran', show(r))
    assert.is(p.read('out/o.txt'), 'extra')
  } finally {
    p.remove()
  }
})

test.run()
