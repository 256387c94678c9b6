// explain.test.ts — `explain`, `build -n` and `build` give the same reason for every kind of change.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Project, show } from '../helpers/project.js'

const test = suite('explain = build -n = build')

const FILE = (o: { outputs?: string; env?: string; tools?: string; params?: string }) => `import { target, sh } from 'auton'
target('t', {
  inputs: ['src/in.txt'],
  outputs: ${o.outputs ?? "['out/a.txt']"},
  env: ${o.env ?? "['MODE']"},
  tools: ${o.tools ?? "['cat tool-version.txt']"},
  params: ${o.params ?? '{ level: 1 }'},
  run: sh\`mkdir -p out && cat src/in.txt > out/a.txt && touch out/b.txt\`,
})
`

async function agree(p: Project, expected: string, env: Record<string, string> = { MODE: 'm1' }): Promise<void> {
  const ex = await p.run(['explain', 't'], { env })
  const restorable = ex.stdout.includes('would be restored from the local cache') // back to an earlier state
  assert.match(ex.stdout, `t: ${restorable ? 'would be restored from the local cache' : 'would rebuild'} because\n  - ${expected}`, show(ex))
  const dry = await p.run(['build', '--json', '-n', 't'], { env })
  assert.is(dry.status.get('t'), 'would-run', show(dry))
  assert.is(dry.reason.get('t'), restorable ? `would restore from the local cache (${expected})` : expected)
  const real = await p.run(['build', '--json', 't'], { env })
  assert.is(real.status.get('t'), restorable ? 'restored' : 'ran', show(real))
  assert.is(real.reason.get('t'), expected)
  const after = await p.run(['explain', 't'], { env })
  assert.is(after.stdout.trim(), 't: up to date', show(after))
}

test('output list, env added/removed/changed, tool, params, input, a modified output', async () => {
  const p = new Project({ 'autonfile.ts': FILE({}), 'src/in.txt': 'x\n', 'tool-version.txt': 'v1\n' })
  try {
    assert.is((await p.run(['build', '--json', 't'], { env: { MODE: 'm1' } })).code, 0)
    p.write('autonfile.ts', FILE({ outputs: "['out/a.txt', 'out/b.txt']" }))
    await agree(p, "output 'out/b.txt' was added to its outputs")
    p.write('autonfile.ts', FILE({ outputs: "['out/a.txt', 'out/b.txt']", env: '[]' }))
    await agree(p, 'env var MODE was removed')
    p.write('autonfile.ts', FILE({ outputs: "['out/a.txt', 'out/b.txt']" }))
    await agree(p, 'env var MODE was added')
    await agree(p, 'env var MODE changed', { MODE: 'm2' })
    p.write('tool-version.txt', 'v2\n')
    await agree(p, "tool 'cat tool-version.txt' changed", { MODE: 'm2' })
    p.write('autonfile.ts', FILE({ outputs: "['out/a.txt', 'out/b.txt']", params: '{ level: 2 }' }))
    await agree(p, 'param level changed: 1 → 2', { MODE: 'm2' })
    p.write('src/in.txt', 'y\n')
    await agree(p, "input 'src/in.txt' changed", { MODE: 'm2' })
    p.write('out/a.txt', 'tampered\n')
    await agree(p, "output 'out/a.txt' was modified outside the build", { MODE: 'm2' })
    assert.is(p.read('out/a.txt'), 'y\n')
  } finally {
    p.remove()
  }
})

test('with a signing key, explain does not promise a restore from a record build would refuse', async () => {
  const p = new Project({
    'auton.toml': '[cache]\nsign_key_env = "TEAM_KEY"\n',
    'autonfile.ts': `import { target, sh } from 'auton'\ntarget('t', { inputs: ['src/in.txt'], outputs: ['out/t.txt'], run: sh\`mkdir -p out && cat src/in.txt > out/t.txt\` })\n`,
    'src/in.txt': 'x\n',
  })
  try {
    assert.is((await p.run(['build', '--json', 't'], { env: { TEAM_KEY: 'key-one-0123456789' } })).code, 0)
    assert.is((await p.run(['clean', 't'])).code, 0)
    const same = await p.run(['explain', 't'], { env: { TEAM_KEY: 'key-one-0123456789' } })
    assert.match(same.stdout, 't: would be restored from the local cache because', show(same))
    const other = await p.run(['explain', 't'], { env: { TEAM_KEY: 'key-two-0123456789' } })
    assert.match(other.stdout, 't: would rebuild because', show(other))
    const built = await p.run(['build', '--json', 't'], { env: { TEAM_KEY: 'key-two-0123456789' } })
    assert.is(built.status.get('t'), 'ran', show(built))
  } finally {
    p.remove()
  }
})

test('unknown options are a load error naming the option, file:line and the closest known one', async () => {
  const p = new Project({
    'autonfile.ts': `import { target, sh, agent } from 'auton'

target('x', { outputs: ['out/x.txt'], exector: 'cluster', run: sh\`touch out/x.txt\` })
`,
  })
  try {
    const r = await p.run(['build', 'x'])
    assert.is(r.code, 1, show(r))
    assert.match(r.stderr, `autonfile.ts:3: target 'x': unknown option 'exector' (did you mean 'executor'?)`)
    assert.not.ok(p.exists('out/x.txt'))
    p.write('autonfile.ts', `import { target, sh } from 'auton'\ntarget('x', { outputs: ['out/x.txt'], resources: { cpu: 2 }, run: sh\`touch out/x.txt\` })\n`)
    const res = await p.run(['build', 'x'])
    assert.match(res.stderr, `autonfile.ts:2: target 'x': resources: unknown option 'cpu' (did you mean 'cpus'?)`, show(res))
    p.write('autonfile.ts', `import { agent } from 'auton'\nagent('a', { model: 'ollama:x', prompt: 'p', outputs: ['o.txt'], sytem: 's' })\n`)
    const ag = await p.run(['build', 'a'])
    assert.match(ag.stderr, `autonfile.ts:2: agent 'a': unknown option 'sytem' (did you mean 'system'?)`, show(ag))
  } finally {
    p.remove()
  }
})

test.run()
