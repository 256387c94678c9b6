// env.test.ts — what environment a recipe sees, what enters its key, and secrets.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { Project, show } from '../helpers/project.js'
import { createMasker } from '../../lib/mask.js'

const test = suite('recipe environment')

function filesUnder(dir: string): string[] {
  const out: string[] = []
  let entries: string[] = []
  try {
    entries = readdirSync(dir)
  } catch {
    return out
  }
  for (const e of entries) {
    const p = join(dir, e)
    if (statSync(p).isDirectory()) out.push(...filesUnder(p))
    else out.push(p)
  }
  return out
}

test('an undeclared variable never reaches a command; a declared one reaches it and reruns it; passEnv reaches it unkeyed', async () => {
  const p = new Project({
    'show.sh': 'echo "foo=${FOO:-unset} decl=${DECL:-unset} sock=${SOCK:-unset} path=${PATH:+set}"\n',
    'autonfile.ts': `import { target, sh } from 'auton'
import { writeFileSync } from 'node:fs'
target('sh', { inputs: ['show.sh'], outputs: ['out/sh.txt'], env: ['DECL'], passEnv: ['SOCK'], run: sh\`bash show.sh > out/sh.txt\` })
target('fn', { outputs: ['out/fn.txt'], env: ['DECL'],
  run: async (ctx) => { writeFileSync('out/fn.txt', JSON.stringify({ foo: ctx.env.FOO ?? null, decl: ctx.env.DECL ?? null })) } })
`,
  })
  try {
    let r = await p.run(['build', '--json', 'sh', 'fn'], { env: { FOO: 'x', DECL: 'd1', SOCK: 's1' } })
    assert.is(r.code, 0, show(r))
    assert.is(p.read('out/sh.txt'), 'foo=unset decl=d1 sock=s1 path=set\n')
    assert.equal(JSON.parse(p.read('out/fn.txt')), { foo: null, decl: 'd1' })
    // an undeclared variable changing, and a passEnv one: nothing reruns
    r = await p.run(['build', '--json', 'sh', 'fn'], { env: { FOO: 'y', DECL: 'd1', SOCK: 's2' } })
    assert.equal(r.with('up-to-date'), ['fn', 'sh'], show(r))
    r = await p.run(['build', '--json', 'sh', 'fn'], { env: { DECL: 'declared-value-2' } })
    assert.equal(r.with('ran'), ['fn', 'sh'], show(r))
    assert.is(r.reason.get('sh'), 'env var DECL changed')
    // the recorded env part is salted: the value is not in the journal, nor its plain sha256
    const journal = p.read('.auton/targets.jsonl')
    assert.not.match(journal, 'declared-value-2')
    const { createHash } = await import('node:crypto')
    assert.not.match(journal, createHash('sha256').update('declared-value-2').digest('hex').slice(0, 16))
  } finally {
    p.remove()
  }
})

test('[build] pass_env reaches every recipe without entering keys', async () => {
  const p = new Project({
    'auton.toml': '[build]\npass_env = ["PROXY"]\n',
    'a.sh': 'echo "${PROXY:-unset}"\n',
    'autonfile.ts': `import { target, sh } from 'auton'
target('a', { inputs: ['a.sh'], outputs: ['out/a.txt'], run: sh\`bash a.sh > out/a.txt\` })
`,
  })
  try {
    assert.is((await p.run(['build', '--json', 'a'], { env: { PROXY: 'p1' } })).code, 0)
    assert.is(p.read('out/a.txt'), 'p1\n')
    assert.is((await p.run(['build', '--json', 'a'], { env: { PROXY: 'p2' } })).status.get('a'), 'up-to-date')
  } finally {
    p.remove()
  }
})

test('a secret reaches the recipe, is masked in the log and the terminal, is stored nowhere, and a new value reruns nothing', async () => {
  const secret = 'tok-3f9a1c77e2'
  const p = new Project({
    's.sh': 'echo "using $TOKEN"; printf %s "${TOKEN:0:5}"; sleep 0.2; printf "%s\\n" "${TOKEN:5}"; echo "len=${#TOKEN}" > out/s.txt\n',
    'autonfile.ts': `import { target, sh } from 'auton'
target('s', { inputs: ['s.sh'], outputs: ['out/s.txt'], secrets: ['TOKEN'], run: sh\`bash s.sh\` })
target('bad', { outputs: ['out/bad.txt'], secrets: ['TOKEN'], run: sh\`echo "failing with $TOKEN"; exit 3\` })
`,
  })
  try {
    const r = await p.run(['build', 's'], { env: { TOKEN: secret } })
    assert.is(r.code, 0, show(r))
    assert.is(p.read('out/s.txt'), `len=${secret.length}\n`)
    const log = p.read('.auton/logs/s.log')
    assert.match(log, 'using ***')
    assert.not.match(log, secret)
    assert.not.match(log, secret.slice(5)) // printed in two writes: still masked as one
    const bad = await p.run(['build', 'bad'], { env: { TOKEN: secret } })
    assert.is(bad.code, 1)
    assert.match(bad.stdout + bad.stderr, 'failing with ***')
    assert.not.match(bad.stdout + bad.stderr, secret)
    for (const f of [...filesUnder(p.path('.auton')), ...filesUnder(p.path('cache'))]) {
      assert.not.match(readFileSync(f, 'utf8'), secret, f)
    }
    const again = await p.run(['build', '--json', 's'], { env: { TOKEN: 'another-value-123' } })
    assert.is(again.status.get('s'), 'up-to-date', show(again))
  } finally {
    p.remove()
  }
})

test('the cache signing key never reaches a recipe, even one that asks for it', async () => {
  const p = new Project({
    'auton.toml': '[cache]\nsign_key_env = "TEAM_KEY"\n[build]\npass_env = ["TEAM_KEY"]\n',
    'k.sh': 'echo "key=${TEAM_KEY:-unset}"\n',
    'autonfile.ts': `import { target, sh } from 'auton'
target('k', { inputs: ['k.sh'], outputs: ['out/k.txt'], passEnv: ['TEAM_KEY'], secrets: ['TEAM_KEY'], run: sh\`bash k.sh > out/k.txt\` })
`,
  })
  try {
    const r = await p.run(['build', '--json', 'k'], { env: { TEAM_KEY: 'team-signing-key-0123456789' } })
    assert.is(r.code, 0, show(r))
    assert.is(p.read('out/k.txt'), 'key=unset\n')
  } finally {
    p.remove()
  }
})

test('the masker holds back a possible prefix across chunks', () => {
  const m = createMasker(['abcdef'])
  let out = m.write('x ab')
  out += m.write('cd')
  out += m.write('ef y abc')
  out += m.flush()
  assert.is(out, 'x *** y abc')
  assert.is(createMasker(['ab']).mask('ab'), 'ab') // too short to be a credential, and masking it would garble output
})

test.run()
