// Agent steps against real SDK clients and real HTTP servers on 127.0.0.1.
//
// Each test declares steps with agent() as an autonfile would, then runs the recipe with
// a RecipeContext built the way the engine builds one (log file under .auton/logs).

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { z } from 'zod'
import { agent } from '../../lib/agents/agent.js'
import { defineTool, readFileTool, confine } from '../../lib/agents/tools.js'
import { createBudget, BudgetExceeded } from '../../lib/budget.js'
import { loadConfig, setConfig, type AutonConfig } from '../../lib/config.js'
import { registry, resetRegistry, type TargetDecl } from '../../lib/dsl.js'
import type { RecipeResult } from '../../lib/recipe.js'
import { runTarget, type RunOptions } from '../helpers/agent-run.js'
import { priceOf, costUsd } from '../../lib/agents/providers/pricing.js'
import { retryAfterMs } from '../../lib/agents/providers/retry.js'
import { apiError, startFakeAnthropic, text, toolUse, toolUses } from '../helpers/fake-anthropic.js'
import { chat, ollamaError, startFakeOllama, toolCalls } from '../helpers/fake-ollama.js'
import { closedPort, type FakeServer } from '../helpers/fake-server.js'

const KEY = 'sk-ant-test-SECRET-0123456789abcdef'
const FAST = { baseMs: 10, maxMs: 50 }
const Summary = z.object({ ok: z.boolean(), summary: z.string() })

const saved = { ...process.env }
let dir = ''
let servers: FakeServer[] = []

test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'auton-agent-'))
  mkdirSync(join(dir, 'out'))
  writeFileSync(join(dir, 'out/log.txt'), 'build ok: 3 targets, 0 failed\n')
  mkdirSync(join(dir, 'specs'))
  writeFileSync(join(dir, 'specs/logs.md'), '# Logs\nA log line "build ok" means success.\n')
  resetRegistry()
  for (const k of ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'ANTHROPIC_BASE_URL', 'OLLAMA_HOST']) delete process.env[k]
  process.env.ANTHROPIC_API_KEY = KEY
})

test.after.each(async () => {
  for (const s of servers) await s.close()
  servers = []
  process.env = { ...saved }
  rmSync(dir, { recursive: true, force: true })
})

async function anthropic(...script: Parameters<typeof startFakeAnthropic>[1] & unknown[]): Promise<FakeServer> {
  const s = await startFakeAnthropic(KEY, script)
  servers.push(s)
  return s
}

async function ollama(...script: Parameters<typeof startFakeOllama>[0] & unknown[]): Promise<FakeServer> {
  const s = await startFakeOllama(script)
  servers.push(s)
  return s
}

/** auton.toml for the temp project; the fake servers' URLs go in [agents]. */
function configure(toml: string): AutonConfig {
  writeFileSync(join(dir, 'auton.toml'), toml)
  const c = loadConfig(dir)
  setConfig(c)
  return c
}

function declared(name: string): TargetDecl {
  const t = registry().targets.find((d) => d.name === name)
  if (!t) throw new Error(`no target ${name}`)
  return t
}

/** Run a declared target's recipe the way the engine does; the log goes to .auton/logs/. */
const run = (name: string, o: RunOptions = {}): Promise<RecipeResult> => runTarget(dir, name, o)

function logOf(name: string): string {
  return readFileSync(join(dir, `.auton/logs/${name}.log`), 'utf8')
}

/** Every file under the project, for the "no key anywhere" check. */
function allFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .map((p) => join(root, p))
    .filter((p) => statSync(p).isFile())
}

function assertNoKeyOnDisk(): void {
  const files = allFiles(dir)
  assert.ok(files.length > 3)
  for (const f of files) assert.not.ok(readFileSync(f, 'utf8').includes(KEY), `the API key leaked into ${f}`)
}

async function rejects(p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (e) {
    return e as Error
  }
  throw new Error('expected the step to fail')
}

function summaryStep(extra: Partial<Parameters<typeof agent>[1]> = {}) {
  return agent('summary', {
    model: 'anthropic:claude-sonnet-4-5',
    system: 'You summarise build logs.',
    prompt: 'Summarise the log.',
    inputs: ['out/log.txt'],
    schema: Summary,
    outputs: ['out/summary.json'],
    retry: FAST,
    ...extra,
  })
}

// ── Anthropic ──────────────────────────────────────────────────────────────────────────

test('anthropic: tool-use loop to a valid answer; inputs reach the model; usage and cost are reported', async () => {
  const s = await anthropic(
    toolUse('read_file', { path: 'specs/logs.md' }),
    toolUse('submit', { ok: true, summary: 'All 3 targets built.' }),
  )
  const config = configure(`[agents]\nanthropic_base_url = "${s.url}"\n`)
  summaryStep()
  const budget = createBudget(10)
  const r = await run('summary', { config, budget })

  assert.equal(JSON.parse(readFileSync(join(dir, 'out/summary.json'), 'utf8')), { ok: true, summary: 'All 3 targets built.' })
  assert.is(s.requests.length, 2)
  const [first, second] = s.requests
  assert.is(first.headers['authorization'], `Bearer ${KEY}`)
  assert.is(first.body.model, 'claude-sonnet-4-5')
  assert.is(first.body.system.startsWith('You summarise build logs.'), true)
  assert.ok(first.body.messages[0].content[0].text.includes('build ok: 3 targets, 0 failed'), 'the input file reaches the model')
  const tools = first.body.tools.map((t: any) => t.name)
  assert.equal(tools, ['read_file', 'submit'])
  assert.equal(first.body.tools[1].input_schema.required, ['ok', 'summary'])
  // The tool ran and its result went back as a tool_result for that tool_use id.
  const result = second.body.messages[2].content[0]
  assert.is(result.type, 'tool_result')
  assert.is(result.tool_use_id, second.body.messages[1].content[0].id)
  assert.ok(result.content.includes('means success'))
  // 2 calls of 1000 in / 200 out tokens at $3/$15 per Mtok.
  assert.equal(r.usage, { inputTokens: 2000, outputTokens: 400, costUsd: 2 * costUsd({ input: 3, output: 15 }, 1000, 200), calls: 2 })
  assert.ok(Math.abs(budget.spentUsd() - 0.012) < 1e-12)
  assert.equal(r.discoveredInputs, ['specs/logs.md'], 'a file read through read_file is a discovered input')
  assert.ok(logOf('summary').includes('turn 2'))
  assertNoKeyOnDisk()
})

test('anthropic: an invalid answer is fed back and a corrected one accepted', async () => {
  const s = await anthropic(toolUse('submit', { ok: 'yes', summary: 'fine' }), toolUse('submit', { ok: true, summary: 'fine' }))
  const config = configure(`[agents]\nanthropic_base_url = "${s.url}"\n`)
  summaryStep()
  await run('summary', { config })
  assert.is(s.requests.length, 2)
  const feedback = s.requests[1].body.messages[2].content[0]
  assert.is(feedback.type, 'tool_result')
  assert.is(feedback.is_error, true)
  assert.match(feedback.content, /expected boolean/)
  assert.match(feedback.content, /ok/)
  assert.equal(JSON.parse(readFileSync(join(dir, 'out/summary.json'), 'utf8')).ok, true)
})

test('anthropic: a JSON reply in text is an answer too; invalid JSON is fed back as a user message', async () => {
  const s = await anthropic(text('Here it is: {"ok": true, "summary": '), text('```json\n{"ok": true, "summary": "done"}\n```'))
  const config = configure(`[agents]\nanthropic_base_url = "${s.url}"\n`)
  summaryStep()
  await run('summary', { config })
  assert.is(s.requests.length, 2)
  const msgs = s.requests[1].body.messages
  assert.is(msgs[2].role, 'user')
  assert.match(msgs[2].content[0].text, /not a JSON answer/)
  assert.equal(JSON.parse(readFileSync(join(dir, 'out/summary.json'), 'utf8')), { ok: true, summary: 'done' })
})

test('anthropic: after N rejected answers the step fails with the last validation error', async () => {
  const bad = () => toolUse('submit', { ok: true })
  const s = await anthropic(bad(), bad(), bad())
  const config = configure(`[agents]\nanthropic_base_url = "${s.url}"\n`)
  summaryStep({ retries: 1 })
  const e = await rejects(run('summary', { config }))
  assert.is(s.requests.length, 2, 'one answer plus one retry')
  assert.match(e.message, /agent 'summary': no valid answer after 2 attempts/)
  assert.match(e.message, /summary/)
  assert.match(e.message, /expected string/)
  assert.is((e as any).usage.calls, 2, 'a failed step still reports what it spent')
})

test('anthropic: a failing check command is fed back; the next answer passes it', async () => {
  const s = await anthropic(toolUse('submit', { ok: true, summary: 'bad' }), toolUse('submit', { ok: true, summary: 'fine' }))
  const config = configure(`[agents]\nanthropic_base_url = "${s.url}"\n`)
  summaryStep({ check: `grep -q '"summary": "fine"' out/summary.json || { echo "summary must say fine"; exit 3; }` })
  await run('summary', { config })
  assert.is(s.requests.length, 2)
  const fb = s.requests[1].body.messages[2].content[0]
  assert.is(fb.is_error, true)
  assert.match(fb.content, /exited with code 3/)
  assert.match(fb.content, /summary must say fine/)
})

test('anthropic: the check command does not see the API key', async () => {
  const s = await anthropic(toolUse('submit', { ok: true, summary: 'x' }))
  const config = configure(`[agents]\nanthropic_base_url = "${s.url}"\n`)
  summaryStep({ check: 'env > out/env.txt; test -z "${ANTHROPIC_API_KEY:-}"', outputs: ['out/summary.json'] })
  await run('summary', { config })
  assert.ok(readFileSync(join(dir, 'out/env.txt'), 'utf8').length > 0)
  assertNoKeyOnDisk()
})

test('anthropic: output files written with write_file, plus the structured verdict', async () => {
  const s = await anthropic(
    toolUses([
      ['write_file', { path: 'reports/review.md', content: '# Review\nGood.\n' }],
      ['write_file', { path: '../escape.md', content: 'x' }],
    ]),
    toolUse('submit', { ok: true, summary: 'reviewed' }),
  )
  const config = configure(`[agents]\nanthropic_base_url = "${s.url}"\n`)
  summaryStep({ outputs: ['reports/review.md', 'out/summary.json'] })
  await run('summary', { config })
  assert.is(readFileSync(join(dir, 'reports/review.md'), 'utf8'), '# Review\nGood.\n')
  const results = s.requests[1].body.messages[2].content
  assert.is(results[1].is_error, true)
  assert.match(results[1].content, /not an output of this step/)
  assert.not.ok(existsSync(join(dir, '../escape.md')))
})

test('anthropic: a missing output file is fed back', async () => {
  const s = await anthropic(
    toolUse('submit', { ok: true, summary: 'x' }),
    toolUse('write_file', { path: 'reports/review.md', content: 'ok\n' }),
    toolUse('submit', { ok: true, summary: 'x' }),
  )
  const config = configure(`[agents]\nanthropic_base_url = "${s.url}"\n`)
  summaryStep({ outputs: ['reports/review.md', 'out/summary.json'] })
  await run('summary', { config })
  assert.is(s.requests.length, 3)
  assert.match(s.requests[1].body.messages[2].content[0].content, /not written: reports\/review\.md/)
})

test('anthropic: 429 with retry-after is waited for, then the call succeeds', async () => {
  const s = await anthropic(apiError(429, 'rate_limit_error', 'Number of requests has exceeded your rate limit', { 'retry-after': '1' }), toolUse('submit', { ok: true, summary: 's' }))
  const config = configure(`[agents]\nanthropic_base_url = "${s.url}"\n`)
  summaryStep()
  const t0 = Date.now()
  await run('summary', { config })
  const waited = Date.now() - t0
  assert.is(s.requests.length, 2)
  assert.ok(waited >= 950, `retry-after: 1 honoured over the 10 ms backoff (waited ${waited} ms)`)
  assert.match(logOf('summary'), /HTTP 429 rate_limit_error.*retry 1\/5 in 1\.0s/)
})

test('anthropic: 529 overloaded and 500 are retried with backoff', async () => {
  const s = await anthropic(apiError(529, 'overloaded_error', 'Overloaded'), apiError(500, 'api_error', 'Internal server error'), toolUse('submit', { ok: true, summary: 's' }))
  const config = configure(`[agents]\nanthropic_base_url = "${s.url}"\n`)
  summaryStep()
  const r = await run('summary', { config })
  assert.is(s.requests.length, 3)
  assert.is(r.usage!.calls, 1, 'failed attempts are not charged')
  assert.match(logOf('summary'), /HTTP 529 overloaded_error/)
})

test('anthropic: retries run out → the step fails naming the fault', async () => {
  const s = await anthropic(...Array.from({ length: 3 }, () => apiError(503, 'api_error', 'unavailable')))
  const config = configure(`[agents]\nanthropic_base_url = "${s.url}"\n`)
  summaryStep({ retry: { ...FAST, retries: 2 } })
  const e = await rejects(run('summary', { config }))
  assert.is(s.requests.length, 3)
  assert.match(e.message, /failed after 3 attempts: HTTP 503/)
})

test('anthropic: a 400 is not retried', async () => {
  const s = await anthropic(apiError(400, 'invalid_request_error', 'prompt is too long'))
  const config = configure(`[agents]\nanthropic_base_url = "${s.url}"\n`)
  summaryStep()
  const e = await rejects(run('summary', { config }))
  assert.is(s.requests.length, 1)
  assert.match(e.message, /HTTP 400 invalid_request_error: prompt is too long/)
})

test('anthropic: an attempt that outlives its timeout is retried', async () => {
  const s = await anthropic({ ...toolUse('submit', { ok: true, summary: 'late' }), delayMs: 3000 }, toolUse('submit', { ok: true, summary: 'fast' }))
  const config = configure(`[agents]\nanthropic_base_url = "${s.url}"\n`)
  summaryStep({ retry: { ...FAST, timeoutMs: 300 } })
  const t0 = Date.now()
  await run('summary', { config })
  assert.ok(Date.now() - t0 < 2500)
  assert.is(s.requests.length, 2)
  assert.is(JSON.parse(readFileSync(join(dir, 'out/summary.json'), 'utf8')).summary, 'fast')
  assert.match(logOf('summary'), /no answer within 300 ms; retry 1\/5/)
})

test('budget: a call that could pass budget_usd is never made', async () => {
  const s = await anthropic(toolUse('submit', { ok: true, summary: 's' }))
  const config = configure(`[agents]\nanthropic_base_url = "${s.url}"\nbudget_usd = 0.001\n`)
  summaryStep()
  const e = await rejects(run('summary', { config, budget: createBudget(config.agents.budget_usd) }))
  assert.instance(e, BudgetExceeded)
  assert.is(s.requests.length, 0, 'the server saw no request')
  assert.match(e.message, /budget_usd = \$0\.001/)
  assert.match(e.message, /agent 'summary' call 1/)
})

test('budget: spending stops before the call that could exceed it, not after', async () => {
  // Call 1 may cost ≤ ~$0.016 (1000 max tokens at $15/Mtok + input) and costs $0.006; call 2 could pass $0.02.
  const s = await anthropic(toolUse('read_file', { path: 'out/log.txt' }), toolUse('submit', { ok: true, summary: 's' }))
  const config = configure(`[agents]\nanthropic_base_url = "${s.url}"\n`)
  summaryStep({ maxTokens: 1000 })
  const budget = createBudget(0.02)
  const e = await rejects(run('summary', { config, budget }))
  assert.instance(e, BudgetExceeded)
  assert.is(s.requests.length, 1)
  assert.ok(Math.abs(budget.spentUsd() - 0.006) < 1e-12)
  assert.match(e.message, /call 2/)
})

test('missing ANTHROPIC_API_KEY is a clear error and no request is made', async () => {
  delete process.env.ANTHROPIC_API_KEY
  const s = await anthropic(toolUse('submit', { ok: true, summary: 's' }))
  const config = configure(`[agents]\nanthropic_base_url = "${s.url}"\n`)
  summaryStep()
  const e = await rejects(run('summary', { config }))
  assert.match(e.message, /agent 'summary' uses an Anthropic model, but ANTHROPIC_API_KEY is not set/)
  assert.is(s.requests.length, 0)
})

test('a server that echoes the credential does not put it in errors or logs', async () => {
  const s = await anthropic((req) => apiError(401, 'authentication_error', `bad header: ${req.headers['authorization']}`))
  const config = configure(`[agents]\nanthropic_base_url = "${s.url}"\n`)
  summaryStep()
  // The fake server's gate accepts the key; this script step answers 401 with it echoed.
  const e = await rejects(run('summary', { config }))
  assert.match(e.message, /HTTP 401 authentication_error: bad header: Bearer \[redacted\]/)
  assert.match(e.message, /check ANTHROPIC_API_KEY/)
  assert.not.ok(e.message.includes(KEY))
  assert.not.ok(JSON.stringify(e).includes(KEY))
  assertNoKeyOnDisk()
})

test('ANTHROPIC_BASE_URL wins over auton.toml; the key never enters the key material', async () => {
  const s = await anthropic(toolUse('submit', { ok: true, summary: 's' }))
  process.env.ANTHROPIC_BASE_URL = s.url
  const config = configure(`[agents]\nanthropic_base_url = "http://127.0.0.1:${await closedPort()}"\n`)
  summaryStep()
  await run('summary', { config })
  assert.is(s.requests.length, 1)
  const km = declared('summary').recipe!.keyMaterial()
  assert.not.ok(km.includes(KEY))
  assert.not.ok(km.includes(s.url), 'the endpoint is not part of the key: a team shares cached answers')
})

test('cancelling the build aborts an in-flight request at once', async () => {
  const s = await anthropic({ ...toolUse('submit', { ok: true, summary: 's' }), delayMs: 10_000 })
  const config = configure(`[agents]\nanthropic_base_url = "${s.url}"\n`)
  summaryStep()
  const ac = new AbortController()
  setTimeout(() => ac.abort(), 200)
  const t0 = Date.now()
  const e = await rejects(run('summary', { config, signal: ac.signal }))
  assert.ok(Date.now() - t0 < 2000, `cancelled in ${Date.now() - t0} ms`)
  assert.match(e.message, /cancelled/)
})

test('maxTurns bounds the tool loop', async () => {
  const s = await anthropic(...Array.from({ length: 5 }, () => toolUse('read_file', { path: 'out/log.txt' })))
  const config = configure(`[agents]\nanthropic_base_url = "${s.url}"\n`)
  summaryStep({ maxTurns: 3 })
  const e = await rejects(run('summary', { config }))
  assert.is(s.requests.length, 3)
  assert.match(e.message, /reached maxTurns \(3\)/)
})

test('temperature with an Anthropic model is refused before any call', async () => {
  const s = await anthropic(toolUse('submit', { ok: true, summary: 's' }))
  const config = configure(`[agents]\nanthropic_base_url = "${s.url}"\n`)
  summaryStep({ temperature: 0 })
  const e = await rejects(run('summary', { config }))
  assert.match(e.message, /remove temperature/)
  assert.is(s.requests.length, 0)
})

// ── Ollama ─────────────────────────────────────────────────────────────────────────────

test('ollama: tool-use loop with a rule-defined tool to a valid answer (role from auton.toml)', async () => {
  const estimateFlops = defineTool({
    name: 'estimate_flops',
    description: 'FLOPs per token of a transformer config',
    input: z.object({ dim: z.number().int(), n_layers: z.number().int() }),
    run: ({ dim, n_layers }) => ({ flops_per_token: 12 * n_layers * dim * dim }),
  })
  const s = await ollama(
    toolCalls([['estimate_flops', { dim: 128, n_layers: 4 }]]),
    chat('```json\n{"ok": true, "summary": "786432 flops"}\n```'),
  )
  const config = configure(`[agents]\nollama_host = "${s.url}"\n[agents.models]\nreviewer = "ollama:qwen2.5:7b"\n`)
  agent('summary', {
    model: 'reviewer',
    system: 'You estimate.',
    prompt: (files) => `Estimate. Log says: ${files['out/log.txt'].trim()}`,
    inputs: ['out/log.txt'],
    schema: Summary,
    tools: [estimateFlops],
    temperature: 0,
    outputs: ['out/summary.json'],
  })
  const r = await run('summary', { config })
  assert.is(s.requests.length, 2)
  const [first, second] = s.requests
  assert.is(first.body.model, 'qwen2.5:7b')
  assert.is(first.body.options.temperature, 0)
  assert.is(first.body.messages[0].role, 'system')
  assert.is(first.body.messages[1].content, 'Estimate. Log says: build ok: 3 targets, 0 failed')
  const t = first.body.tools.find((x: any) => x.function.name === 'estimate_flops')
  assert.is(t.type, 'function')
  assert.equal(t.function.parameters.required, ['dim', 'n_layers'])
  const toolMsg = second.body.messages[3]
  assert.is(toolMsg.role, 'tool')
  assert.is(toolMsg.tool_name, 'estimate_flops')
  assert.equal(JSON.parse(toolMsg.content), { flops_per_token: 786432 })
  assert.equal(JSON.parse(readFileSync(join(dir, 'out/summary.json'), 'utf8')), { ok: true, summary: '786432 flops' })
  assert.equal(r.usage, { inputTokens: 1000, outputTokens: 200, costUsd: 0, calls: 2 })
})

test('ollama: bad tool input is refused by the zod schema and fed back; 503 is retried', async () => {
  const s = await ollama(
    toolCalls([['read_file', { file: 'x' }]]),
    ollamaError(503, 'server busy'),
    chat('{"ok": false, "summary": "no"}'),
  )
  const config = configure(`[agents]\nollama_host = "${s.url}"\n`)
  summaryStep({ model: 'ollama:qwen2.5:7b' })
  await run('summary', { config })
  assert.is(s.requests.length, 3)
  const toolMsg = s.requests[1].body.messages[3]
  assert.match(toolMsg.content, /invalid input for read_file/)
  assert.match(logOf('summary'), /HTTP 503 from Ollama/)
})

test('ollama: 429 retry-after is honoured through the package', async () => {
  const s = await ollama(ollamaError(429, 'slow down', { 'retry-after': '1' }), chat('{"ok": true, "summary": "s"}'))
  const config = configure(`[agents]\nollama_host = "${s.url}"\n`)
  summaryStep({ model: 'ollama:qwen2.5:7b' })
  const t0 = Date.now()
  await run('summary', { config })
  assert.ok(Date.now() - t0 >= 950)
  assert.is(s.requests.length, 2)
})

test('ollama: an unreachable host is a clear error naming it, without retries', async () => {
  const port = await closedPort()
  process.env.OLLAMA_HOST = `127.0.0.1:${port}`
  const config = configure(`[agents]\nollama_host = "http://127.0.0.1:1"\n`)
  summaryStep({ model: 'ollama:qwen2.5:7b', retry: { baseMs: 2000 } })
  const t0 = Date.now()
  const e = await rejects(run('summary', { config }))
  assert.ok(Date.now() - t0 < 1500, 'not retried')
  assert.match(e.message, new RegExp(`cannot reach Ollama at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`))
  assert.match(e.message, /OLLAMA_HOST/)
})

test('ollama: cancelling the build aborts the request in flight', async () => {
  const s = await ollama({ ...chat('{"ok": true, "summary": "s"}'), delayMs: 10_000 })
  const config = configure(`[agents]\nollama_host = "${s.url}"\n`)
  summaryStep({ model: 'ollama:qwen2.5:7b' })
  const ac = new AbortController()
  setTimeout(() => ac.abort(), 200)
  const t0 = Date.now()
  const e = await rejects(run('summary', { config, signal: ac.signal }))
  assert.ok(Date.now() - t0 < 2000, `cancelled in ${Date.now() - t0} ms`)
  assert.match(e.message, /cancelled/)
  assert.is(s.requests.length, 1)
})

test('a role missing from auton.toml is a clear error; the key material still computes', async () => {
  configure('')
  summaryStep({ model: 'architect' })
  assert.match(declared('summary').recipe!.keyMaterial(), /unresolved:architect/)
  const e = await rejects(run('summary'))
  assert.match(e.message, /role 'architect', which auton\.toml does not define/)
  assert.match(e.message, /\[agents\.models\]/)
})

// ── Keys, tools, prices ─────────────────────────────────────────────────────────────────

test('key material covers model, prompts, tools, schema, limits and check — not transport settings', () => {
  configure('[agents.models]\nreviewer = "ollama:qwen2.5:7b"\n')
  const km = (name: string, o: Partial<Parameters<typeof agent>[1]>) => {
    resetRegistry()
    agent(name, { model: 'anthropic:claude-sonnet-4-5', prompt: 'p', schema: Summary, outputs: ['o.json'], ...o })
    return declared(name).recipe!.keyMaterial()
  }
  const base = km('a', {})
  const variants: Array<Partial<Parameters<typeof agent>[1]>> = [
    { model: 'anthropic:claude-haiku-4-5' },
    { model: 'reviewer' },
    { system: 's' },
    { systemFile: 'specs/logs.md' },
    { prompt: 'q' },
    { prompt: () => 'p' },
    { schema: Summary.extend({ n: z.number() }) },
    { tools: [defineTool({ name: 't', description: 'd', input: z.object({}), run: () => 1 })] },
    { maxTokens: 10 },
    { temperature: 0.5 },
    { retries: 5 },
    { maxTurns: 2 },
    { check: 'true' },
  ]
  for (const v of variants) assert.is.not(km('a', v), base, `key must change with ${JSON.stringify(Object.keys(v))}`)
  assert.is(km('a', { retry: { retries: 9, baseMs: 1 }, pool: 'other' }), base)
  // A role resolves through auton.toml: changing the mapping changes the key.
  const viaRole = km('a', { model: 'reviewer' })
  configure('[agents.models]\nreviewer = "ollama:llama3.2:3b"\n')
  assert.is.not(km('a', { model: 'reviewer' }), viaRole)
})

test('read_file stays inside the project', async () => {
  const outside = mkdtempSync(join(tmpdir(), 'auton-outside-'))
  writeFileSync(join(outside, 'secret.txt'), 'secret')
  symlinkSync(join(outside, 'secret.txt'), join(dir, 'link.txt'))
  symlinkSync(outside, join(dir, 'linkdir'))
  symlinkSync('specs/logs.md', join(dir, 'inner-link.md'))
  const read: string[] = []
  const ctx = { cwd: dir, signal: new AbortController().signal, log: () => {}, read: (p: string) => read.push(p) }
  const call = (path: string) => readFileTool.run({ path }, ctx) as string
  assert.throws(() => call('/etc/passwd'), /absolute/)
  assert.throws(() => call('../x'), /'\.\.'/)
  assert.throws(() => call('specs/../../x'), /'\.\.'/)
  assert.throws(() => call('link.txt'), /outside the project/)
  assert.throws(() => call('linkdir/secret.txt'), /outside the project/)
  assert.throws(() => call('nope.txt'), /no such file/)
  assert.match(call('inner-link.md'), /means success/)
  assert.match(call('./specs/logs.md'), /means success/)
  assert.match(call('specs'), /directory:\nlogs\.md/)
  assert.equal(read, ['inner-link.md', 'specs/logs.md'])
  assert.is(confine(dir, 'specs/'), 'specs')
  rmSync(outside, { recursive: true, force: true })
})

test('defineTool refuses bad names and non-object inputs', () => {
  assert.throws(() => defineTool({ name: 'bad name', description: '', input: z.object({}), run: () => 0 }), /not a valid tool name/)
  assert.throws(() => defineTool({ name: 'x', description: '', input: z.string(), run: () => 0 }), /must be a z\.object/)
})

test('prices: table by prefix, overrides from auton.toml, unknown models priced high, ollama free', () => {
  assert.equal(priceOf('anthropic', 'claude-sonnet-4-5-20250929').price, { input: 3, output: 15 })
  assert.equal(priceOf('anthropic', 'claude-opus-4-1').price, { input: 15, output: 75 })
  assert.equal(priceOf('anthropic', 'claude-haiku-4-5', { 'claude-haiku-4-5': { input: 2, output: 4 } }).price, { input: 2, output: 4 })
  assert.equal(priceOf('ollama', 'qwen2.5:7b').price, { input: 0, output: 0 })
  assert.equal(priceOf('ollama', 'big', { 'ollama:big': { input: 1, output: 1 } }).price, { input: 1, output: 1 })
  const unknown = priceOf('anthropic', 'claude-future-9')
  assert.equal(unknown.price, { input: 15, output: 75 })
  assert.match(unknown.source, /\[agents\.prices\]/)
})

test('retry-after parsing: seconds, milliseconds, HTTP date', () => {
  const h = (o: Record<string, string>) => (k: string) => o[k]
  assert.is(retryAfterMs(h({ 'retry-after': '2' })), 2000)
  assert.is(retryAfterMs(h({ 'retry-after-ms': '150', 'retry-after': '2' })), 150)
  const d = retryAfterMs(h({ 'retry-after': new Date(Date.now() + 5000).toUTCString() }))!
  assert.ok(d > 3000 && d <= 5000)
  assert.is(retryAfterMs(h({})), undefined)
  assert.is(retryAfterMs(h({ 'retry-after': 'soon' })), undefined)
})

test.run()
