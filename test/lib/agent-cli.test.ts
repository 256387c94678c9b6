// Agent steps through the real CLI: `node bin/auton.cjs build summary --json` in a temp
// project, against a fake Anthropic server that counts requests. The autonfile is the
// issue's example, verbatim.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { Project, REPO, show } from '../helpers/project.js'
import { startFakeAnthropic, toolUse } from '../helpers/fake-anthropic.js'
import type { FakeServer } from '../helpers/fake-server.js'

const KEY = 'sk-ant-e2e-SECRET-fedcba9876543210'

const AUTONFILE = `import { target, agent, sh } from 'auton'
import { z } from 'zod'
const log = target('log', { inputs: [], outputs: ['out/log.txt'], run: sh\`mkdir -p out && echo ok > out/log.txt\` })
agent('summary', {
  model: 'anthropic:claude-sonnet-4-5',          // or 'ollama:qwen2.5:7b', or a role from auton.toml
  system: 'You summarise build logs.',
  prompt: 'Summarise the log.',                   // a string, or a function of the inputs' contents
  inputs: [log],                                  // their contents reach the model
  schema: z.object({ ok: z.boolean(), summary: z.string() }),  // validated, written as JSON
  outputs: ['out/summary.json'],
})
`

let p: Project
let s: FakeServer

test.before.each(async () => {
  p = new Project({ 'autonfile.ts': AUTONFILE })
  // A user's project has zod installed beside auton.
  symlinkSync(join(REPO, 'node_modules', 'zod'), join(p.dir, 'node_modules', 'zod'))
  s = await startFakeAnthropic(KEY)
})

test.after.each(async () => {
  await s.close()
  p.remove()
})

const env = () => ({ ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: s.url, ANTHROPIC_AUTH_TOKEN: undefined, OLLAMA_HOST: undefined })

function filesUnder(rel: string): string[] {
  const root = p.path(rel)
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).map((f) => join(root, f)).filter((f) => statSync(f).isFile())
}

test('an agent step runs once, then is up to date or restored without any HTTP request', async () => {
  s.push(toolUse('read_file', { path: 'out/log.txt' }), toolUse('submit', { ok: true, summary: 'The log says ok.' }))
  const first = await p.run(['build', 'summary', '--json'], { env: env() })
  assert.is(first.code, 0, show(first))
  assert.equal(first.with('ran'), ['log', 'summary'])
  assert.is(s.requests.length, 2)
  assert.ok(s.requests[0].body.messages[0].content[0].text.includes('ok'), 'the log reached the model')
  assert.equal(JSON.parse(p.read('out/summary.json')), { ok: true, summary: 'The log says ok.' })

  // Tokens and cost, per step and in total.
  const step = first.events.find((e) => e.type === 'target' && e.name === 'summary') as any
  assert.equal(step.usage, { inputTokens: 2000, outputTokens: 400, costUsd: 0.012, calls: 2 })
  const sum = first.summary as any
  assert.is(sum.inputTokens, 2000)
  assert.is(sum.outputTokens, 400)
  assert.ok(Math.abs(sum.costUsd - 0.012) < 1e-12)

  const second = await p.run(['build', 'summary', '--json'], { env: env() })
  assert.is(second.code, 0, show(second))
  assert.equal(second.with('up-to-date'), ['log', 'summary'])
  assert.is(s.requests.length, 2, 'an unchanged agent step never calls the model again')
  assert.is((second.summary as any).costUsd, 0)

  // Outputs and build state gone (a fresh CI checkout with a warm cache): restored, no call.
  rmSync(p.path('out'), { recursive: true, force: true })
  rmSync(p.path('.auton'), { recursive: true, force: true })
  const third = await p.run(['build', 'summary', '--json'], { env: env() })
  assert.is(third.code, 0, show(third))
  assert.equal(third.with('restored'), ['log', 'summary'])
  assert.is(s.requests.length, 2)
  assert.equal(JSON.parse(p.read('out/summary.json')), { ok: true, summary: 'The log says ok.' })

  // The key is nowhere: not in state, logs, trace, cache, outputs or what auton printed.
  const files = [...filesUnder('.auton'), ...filesUnder('cache'), ...filesUnder('out')]
  assert.ok(files.length >= 4, files.join('\n'))
  for (const f of files) assert.not.ok(readFileSync(f).includes(KEY), `the API key leaked into ${f}`)
  for (const r of [first, second, third]) assert.not.ok((r.stdout + r.stderr).includes(KEY))
})

test('changing the prompt re-runs the step; changing the endpoint does not', async () => {
  s.push(toolUse('submit', { ok: true, summary: 'one' }), toolUse('submit', { ok: true, summary: 'two' }))
  assert.is((await p.run(['build', 'summary', '--json'], { env: env() })).code, 0)
  const other = await startFakeAnthropic(KEY)
  try {
    const moved = await p.run(['build', 'summary', '--json'], { env: { ...env(), ANTHROPIC_BASE_URL: other.url } })
    assert.equal(moved.with('up-to-date'), ['log', 'summary'], show(moved))
    assert.is(other.requests.length, 0)
  } finally {
    await other.close()
  }
  p.write('autonfile.ts', AUTONFILE.replace('Summarise the log.', 'Summarise the log briefly.'))
  const edited = await p.run(['build', 'summary', '--json'], { env: env() })
  assert.is(edited.code, 0, show(edited))
  assert.equal(edited.with('ran'), ['summary'])
  assert.is(s.requests.length, 2)
  assert.is(JSON.parse(p.read('out/summary.json')).summary, 'two')
})

test('budget_usd stops the build before the call; no key is a clear error', async () => {
  s.push(toolUse('submit', { ok: true, summary: 'x' }))
  p.write('auton.toml', '[agents]\nbudget_usd = 0.001\n')
  const r = await p.run(['build', 'summary', '--json'], { env: env() })
  assert.is(r.code, 1, show(r))
  assert.is(s.requests.length, 0)
  assert.match(r.stdout + r.stderr, /budget exceeded: agent 'summary' call 1/)

  p.write('auton.toml', '')
  const nokey = await p.run(['build', 'summary', '--json'], { env: { ...env(), ANTHROPIC_API_KEY: undefined } })
  assert.is(nokey.code, 1, show(nokey))
  assert.match(nokey.stdout + nokey.stderr, /ANTHROPIC_API_KEY is not set/)
  assert.is(s.requests.length, 0)
})

test.run()
