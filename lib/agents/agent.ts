// agent.ts — agent(): a target whose recipe is a model.
//
//   agent('summary', {
//     model: 'anthropic:claude-sonnet-4-5',   // or 'ollama:qwen2.5:7b', or a role from auton.toml
//     system: 'You summarise build logs.',
//     prompt: 'Summarise the log.',            // or (files) => string, files = path → contents
//     inputs: [log],                            // their contents reach the model
//     schema: z.object({ ok: z.boolean(), summary: z.string() }),
//     outputs: ['out/summary.json'],
//   })
//
// It is an ordinary target in the 'llm' pool: keyed, cached and restored like any other,
// so an unchanged step never calls the model again. See specs/agents.md.

import type { z } from 'zod'
import { callerFile, captureCallSite, checkOptions, declare, type Input, type TargetHandle } from '../dsl.js'
import { agentRecipe, type PromptFn } from './runner.js'
import { readFileTool, type AgentTool } from './tools.js'
import type { RetryPolicy } from './providers/retry.js'

export interface AgentOptions {
  /** "anthropic:<model>", "ollama:<model>", or a role defined in auton.toml [agents.models]. */
  model: string
  /** The system prompt. */
  system?: string
  /** A file (usually in specs/) added to the system prompt; it becomes an input of the step. */
  systemFile?: string
  /** A string (the inputs' contents are appended) or a function of the inputs' contents. */
  prompt: string | PromptFn
  inputs?: Input[]
  /** Files the step produces. With a schema, the first `.json` output (or `json`) holds the answer. */
  outputs: string[]
  /** The structured answer: validated with zod and written as JSON. */
  schema?: z.ZodType
  /** Which output receives the JSON answer; default: the first output ending in .json. */
  json?: string
  /** Tools the model may call (see defineTool); read_file is always offered. */
  tools?: AgentTool[]
  /** A shell command run after the outputs are written; failing, its output goes back to the model. */
  check?: string
  /** Rejected answers fed back before the step fails (default 2). */
  retries?: number
  /** Model calls per step, tool turns included (default 12). */
  maxTurns?: number
  /** Sampling temperature, Ollama only (the Anthropic API version of SDK 1.x refuses it); default: the model's. */
  temperature?: number
  /** Output token limit per call (default 4096); also what the budget reserves per call. */
  maxTokens?: number
  /** Concurrency pool (default 'llm'). */
  pool?: string
  /** Provider-call retries/backoff/timeout; not part of the key. */
  retry?: Partial<RetryPolicy>
  env?: string[]
  params?: Record<string, unknown>
  default?: boolean
  description?: string
}

const AGENT_OPTIONS = [
  'model', 'system', 'systemFile', 'prompt', 'inputs', 'outputs', 'schema', 'json', 'tools', 'check', 'retries', 'maxTurns',
  'temperature', 'maxTokens', 'pool', 'retry', 'env', 'params', 'default', 'description',
] as const satisfies readonly (keyof AgentOptions)[]

export function agent(name: string, opts: AgentOptions): TargetHandle {
  const where = captureCallSite()
  checkOptions(`agent '${name}'`, opts, AGENT_OPTIONS, where)
  const outputs = opts.outputs.map((o) => o.replace(/^\.\//, '').replace(/\/+$/, ''))
  if (!outputs.length) throw new Error(`agent '${name}': declare at least one output`)
  const json = opts.json ?? (opts.schema ? outputs.find((o) => o.endsWith('.json')) : undefined)
  if (opts.schema && !json) throw new Error(`agent '${name}': a schema needs a .json output (or json: '<output>') to write the answer to`)
  if (json && !outputs.includes(json)) throw new Error(`agent '${name}': json '${json}' is not one of its outputs`)
  const tools = [readFileTool, ...(opts.tools ?? []).filter((t) => t.name !== readFileTool.name)]
  const names = new Set<string>()
  for (const t of tools) {
    if (t.name === 'submit' || t.name === 'write_file') throw new Error(`agent '${name}': tool name '${t.name}' is reserved`)
    if (names.has(t.name)) throw new Error(`agent '${name}': two tools are named '${t.name}'`)
    names.add(t.name)
  }
  const recipe = agentRecipe({
    name,
    model: opts.model,
    system: opts.system ?? '',
    systemFile: opts.systemFile?.replace(/^\.\//, ''),
    prompt: opts.prompt,
    schema: opts.schema,
    json,
    outputs,
    tools,
    check: opts.check,
    retries: opts.retries ?? 2,
    maxTurns: opts.maxTurns ?? 12,
    temperature: opts.temperature,
    maxTokens: opts.maxTokens ?? 4096,
    retry: opts.retry,
  })
  // its tools and check run code from the module that declares it: key that module's imports
  const module = callerFile(where)
  const keyed = module ? { ...recipe, code: { module, body: '' } } : recipe
  return declare(name, {
    inputs: [...(opts.inputs ?? []), ...(opts.systemFile ? [opts.systemFile.replace(/^\.\//, '')] : [])],
    outputs,
    run: keyed,
    pool: opts.pool ?? 'llm',
    env: opts.env,
    params: opts.params,
    default: opts.default,
    description: opts.description,
  }, where)
}
