// The pipeline's agent rules (rules/agents.ts) against a fake Anthropic server.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { architect, review, Verdict } from '../../rules/agents.js'
import { loadConfig, setConfig } from '../../lib/config.js'
import { resetRegistry } from '../../lib/dsl.js'
import { estimate, validatePreset, loadPreset } from '../../SLM/tools/config.js'
import { startFakeAnthropic, toolUse, toolUses } from '../helpers/fake-anthropic.js'
import type { FakeServer } from '../helpers/fake-server.js'
import { runTarget } from '../helpers/agent-run.js'

const KEY = 'sk-ant-rules-SECRET-00112233'
const REPO = join(import.meta.dirname, '../..')
let dir = ''
let s: FakeServer
const saved = { ...process.env }

test.before.each(async () => {
  dir = mkdtempSync(join(tmpdir(), 'auton-rules-agents-'))
  mkdirSync(join(dir, 'SLM/configs'), { recursive: true })
  mkdirSync(join(dir, 'SLM/tools'), { recursive: true })
  mkdirSync(join(dir, 'SLM/datasets/corpus'), { recursive: true })
  copyFileSync(join(REPO, 'SLM/configs/micro.yaml'), join(dir, 'SLM/configs/micro.yaml'))
  copyFileSync(join(REPO, 'SLM/tools/config.ts'), join(dir, 'SLM/tools/config.ts'))
  writeFileSync(join(dir, 'SLM/datasets/corpus/stats.json'), JSON.stringify({ train_bytes: 3000000, devices: 30000 }))
  s = await startFakeAnthropic(KEY)
  process.env.ANTHROPIC_API_KEY = KEY
  delete process.env.ANTHROPIC_BASE_URL
  writeFileSync(join(dir, 'auton.toml'), `[agents]\nanthropic_base_url = "${s.url}"\n[agents.models]\narchitect = "anthropic:claude-sonnet-4-5"\nreviewer = "anthropic:claude-haiku-4-5"\n`)
  setConfig(loadConfig(dir))
  resetRegistry()
})

test.after.each(async () => {
  await s.close()
  process.env = { ...saved }
  rmSync(dir, { recursive: true, force: true })
})

const micro = () => {
  const { head_dim: _h, estimates: _e, ...preset } = loadPreset(join(REPO, 'SLM/configs/micro.yaml'))
  return { ...preset, name: 'agent' }
}

test('architect: validates with the tools, is held to the budget, writes a loadable preset', async () => {
  const budget = estimate(micro()).params // micro fits exactly
  const tooBig = { ...micro(), dim: 256, ffn_dim: 768 }
  const bad = { ...micro(), dim: 100 }
  s.push(
    toolUse('validate_config', { config: bad }),
    toolUse('submit', tooBig),
    toolUse('submit', micro()),
  )
  architect({ stats: 'SLM/datasets/corpus/stats.json', paramBudget: budget, vocabSize: 1024 })
  await runTarget(dir, 'architect')
  assert.is(s.requests.length, 3)
  const prompt = s.requests[0].body.messages[0].content[0].text
  assert.match(prompt, new RegExp(`Parameter budget: ${budget}`))
  assert.match(prompt, /"train_bytes":3000000/)
  const toolResult = JSON.parse(s.requests[1].body.messages[2].content[0].content)
  assert.is(toolResult.valid, false)
  assert.match(toolResult.problems, /dim 100 must be a multiple of 32/)
  assert.match(s.requests[2].body.messages[4].content[0].content, /parameters exceed the budget/)
  const written = JSON.parse(readFileSync(join(dir, 'SLM/models/agent/preset.json'), 'utf8'))
  assert.equal(written, micro())
  assert.is(validatePreset(written).estimates.params, budget)
})

test('review: writes reports/review.md and the verdict; the check passes', async () => {
  mkdirSync(join(dir, 'build'))
  writeFileSync(join(dir, 'build/metrics.json'), '{"val_loss": 1.9, "probe_accuracy": 0.62}\n')
  writeFileSync(join(dir, 'build/boot-x86_64.txt'), 'auton> slm query "PCI device 8086:10d3 is"\nIntel Corporation 82574L Gigabit Network Connection\n')
  const verdict = { coherent: true, relevant: true, score: 7, findings: ['8086:10d3 answered right'], improvements: ['train longer'] }
  s.push(
    toolUses([['write_file', { path: 'reports/review.md', content: '# Review\n\nThe kernel answers 8086:10d3 correctly.\n' }], ['submit', verdict]]),
  )
  review({ metrics: ['build/metrics.json'], bootReports: ['build/boot-x86_64.txt'] })
  const r = await runTarget(dir, 'review')
  assert.is(s.requests.length, 1)
  assert.is(s.requests[0].body.model, 'claude-haiku-4-5')
  assert.match(s.requests[0].body.messages[0].content[0].text, /82574L Gigabit/)
  assert.match(readFileSync(join(dir, 'reports/review.md'), 'utf8'), /answers 8086:10d3 correctly/)
  assert.equal(Verdict.parse(JSON.parse(readFileSync(join(dir, 'reports/review.json'), 'utf8'))), verdict)
  assert.is(r.usage!.costUsd, (1000 * 1 + 200 * 5) / 1e6)
})

test.run()
