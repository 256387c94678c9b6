// agent.ts — an LLM agent step as a recipe: a multi-turn tool-use loop that ends in
// validated output files.
//
// The loop, per model call ("turn"):
//   budget.reserve(most this call could cost) → provider.chat (retried on 429/5xx/timeouts)
//   → settle(what it cost) → run the tools it asked for, or judge its answer.
// An answer is the input of the `submit` tool (or a reply that is only JSON). It is
// accepted when it matches the schema, every declared output exists, and the check command
// passes. Otherwise the error goes back to the model, at most `retries` times; then the
// step fails with the last error. `maxTurns` bounds the calls of the whole step.
//
// Invariant: no credential reaches the log, an error, the key or an output — every line
// and file passes through scrub(), and the check command runs without them.

import { z } from 'zod'
import { config as currentConfig, type AutonConfig } from '../config.js'
import type { Recipe, RecipeContext, RecipeResult, Usage } from '../recipe.js'
import { callTool, defineTool, toJsonSchema, toolKey, toolSpec, type AgentTool, type ToolContext } from './tools.js'
import { costUsd, priceOf } from './providers/pricing.js'
import type { Provider, ToolCall, ToolResult, Turn } from './providers/provider.js'
import { DEFAULT_RETRY, withRetry, type RetryPolicy } from './providers/retry.js'
import { usdText } from '../budget.js'
import { missingOutputs, readInputs, removeOutputs, renderInputs, runCheck, writeOutput } from './files.js'

/** Bump when the way prompts are assembled changes: every agent step then re-runs once. */
const RUNNER_VERSION = 'agent/1'
const SUBMIT = 'submit'

export type PromptFn = (files: Record<string, string>) => string

export interface AgentSpec {
  name: string
  /** "anthropic:<model>", "ollama:<model>", or a role of auton.toml [agents.models]. */
  model: string
  system: string
  /** A file (usually in specs/) appended to the system prompt; also an input of the step. */
  systemFile?: string
  prompt: string | PromptFn
  schema?: z.ZodType
  /** Where the structured answer is written (JSON). */
  json?: string
  /** All declared outputs, `json` included. */
  outputs: string[]
  tools: AgentTool[]
  check?: string
  retries: number
  maxTurns: number
  /** Ollama only: the Anthropic API refuses sampling settings. */
  temperature: number | undefined
  maxTokens: number
  /** Transport settings: not part of the key. */
  retry?: Partial<RetryPolicy>
}

export class AgentError extends Error {
  constructor(message: string, readonly usage: Usage) {
    super(message)
    this.name = 'AgentError'
  }
}

export interface ResolvedModel {
  provider: 'anthropic' | 'ollama'
  model: string
  /** The auton.toml role it came from, if any. */
  role?: string
}

/** "anthropic:x" / "ollama:x:tag" as is; anything else is a role looked up in auton.toml. */
export function resolveModel(spec: string, cfg: AutonConfig, who: string): ResolvedModel {
  const direct = /^(anthropic|ollama):(.+)$/.exec(spec)
  if (direct) return { provider: direct[1] as ResolvedModel['provider'], model: direct[2] }
  const mapped = cfg.agents.models[spec]
  if (mapped === undefined) {
    throw new Error(
      `${who} uses the model role '${spec}', which auton.toml does not define. Add it under [agents.models], ` +
        `e.g. ${spec} = "anthropic:claude-sonnet-4-5" or ${spec} = "ollama:qwen2.5:7b".`,
    )
  }
  const m = /^(anthropic|ollama):(.+)$/.exec(mapped)
  if (!m) throw new Error(`auton.toml [agents.models] ${spec} = "${mapped}": expected "anthropic:<model>" or "ollama:<model>"`)
  return { provider: m[1] as ResolvedModel['provider'], model: m[2], role: spec }
}

export function agentRecipe(spec: AgentSpec): Recipe {
  const who = `agent '${spec.name}'`
  const answerSchema = spec.schema ? toJsonSchema(spec.schema, who) : undefined
  return {
    kind: 'agent',
    keyMaterial() {
      let model: string
      try {
        const r = resolveModel(spec.model, currentConfig(), who)
        model = `${r.provider}:${r.model}`
      } catch {
        model = `unresolved:${spec.model}` // run() reports it; listing the graph must not fail
      }
      return JSON.stringify({
        v: RUNNER_VERSION,
        model,
        temperature: spec.temperature ?? null,
        maxTokens: spec.maxTokens,
        system: spec.system,
        systemFile: spec.systemFile ?? null,
        prompt: typeof spec.prompt === 'string' ? spec.prompt : `fn:${spec.prompt.toString()}`,
        tools: spec.tools.map(toolKey),
        schema: answerSchema ?? null,
        json: spec.json ?? null,
        outputs: spec.outputs,
        retries: spec.retries,
        maxTurns: spec.maxTurns,
        check: spec.check ?? null,
      })
    },
    describe: () => `agent ${spec.model}${spec.schema ? ' → schema' : ''}${spec.check ? ` (check: ${spec.check})` : ''}`,
    run: (ctx) => runAgent(spec, answerSchema, ctx),
  }
}

async function runAgent(spec: AgentSpec, answerSchema: Record<string, unknown> | undefined, ctx: RecipeContext): Promise<RecipeResult> {
  const who = `agent '${spec.name}'`
  const { provider: providerName, model } = resolveModel(spec.model, ctx.config, who)
  if (providerName === 'anthropic' && spec.temperature !== undefined) {
    throw new Error(`${who}: the Anthropic API version that @anthropic-ai/sdk 1.x speaks refuses sampling settings; remove temperature from the step`)
  }
  // the SDKs load only when a step calls a model: most builds never do, and they cost ~0.2 s
  const provider: Provider = providerName === 'anthropic'
    ? (await import('./providers/anthropic.js')).anthropicProvider(ctx.config, who)
    : (await import('./providers/ollama.js')).ollamaProvider(ctx.config)
  const scrub = scrubber(provider.secrets)
  const log = (s: string) => ctx.log(scrub(s))
  const { price, source } = priceOf(providerName, model, ctx.config.agents.prices)
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...spec.retry }
  const usage: Usage = { inputTokens: 0, outputTokens: 0, costUsd: 0, calls: 0 }
  const fail = (msg: string): never => {
    throw new AgentError(scrub(`${who}: ${msg}`), usage)
  }
  log(`${providerName}:${model} at ${provider.endpoint}; price $${price.input}/$${price.output} per Mtok (${source})\n`)

  // What the model is given.
  const files = readInputs(ctx.cwd, ctx.inputs)
  const systemText = spec.systemFile ? files.find((f) => f.path === spec.systemFile)?.text : undefined
  const promptFiles = files.filter((f) => f.path !== spec.systemFile)
  const fileOutputs = spec.outputs.filter((o) => o !== spec.json)
  const tools = [...spec.tools]
  if (fileOutputs.length) tools.push(writeFileTool(fileOutputs, scrub))
  const wraps = answerSchema !== undefined && answerSchema.type !== 'object'
  if (answerSchema) {
    tools.push(
      defineTool({
        name: SUBMIT,
        description: 'Submit your final answer. Its input is the answer itself and must match the required schema.',
        input: wraps ? z.object({ value: spec.schema! }) : spec.schema!,
        run: () => 'received',
      }),
    )
  }
  const system = [spec.system, systemText, contract(spec, tools, answerSchema, fileOutputs)].filter(Boolean).join('\n\n')
  const promptText =
    typeof spec.prompt === 'string'
      ? [spec.prompt, renderInputs(promptFiles)].filter(Boolean).join('\n\n')
      : spec.prompt(Object.fromEntries(promptFiles.map((f) => [f.path, f.text ?? `<binary file, ${f.bytes} bytes>`])))
  const turns: Turn[] = [{ role: 'user', text: promptText }]
  const specs = tools.map(toolSpec)

  removeOutputs(ctx.cwd, spec.outputs) // a stale output must not pass for a new one
  const discovered = new Set<string>()
  const toolCtx: ToolContext = { cwd: ctx.cwd, signal: ctx.signal, log, read: (p) => discovered.add(p) }

  /** Judge an answer; undefined when accepted, else the error the model should fix. */
  const judge = async (answer: unknown, textReply: string | undefined): Promise<string | undefined> => {
    if (spec.schema) {
      const r = spec.schema.safeParse(answer)
      if (!r.success) return `the answer does not match the required schema:\n${z.prettifyError(r.error)}`
      if (spec.json) writeOutput(ctx.cwd, spec.json, scrub(JSON.stringify(r.data, null, 2)) + '\n')
    } else if (textReply !== undefined && fileOutputs.length === 1 && missingOutputs(ctx.cwd, fileOutputs).length) {
      writeOutput(ctx.cwd, fileOutputs[0], scrub(textReply.endsWith('\n') ? textReply : textReply + '\n'))
    }
    const missing = missingOutputs(ctx.cwd, spec.outputs)
    if (missing.length) return `these required files were not written: ${missing.join(', ')}. Write each with the write_file tool.`
    if (spec.check) {
      const c = await runCheck(ctx.cwd, spec.check, ctx.signal, ctx.env, provider.secrets)
      log(c.report + '\n')
      if (!c.ok) return `the outputs were written but the check failed — fix them:\n${scrub(c.report)}`
    }
    return undefined
  }

  let failures = 0
  let lastError = ''
  const rejected = (err: string) => {
    failures++
    lastError = err
    log(`answer ${failures} rejected: ${err}\n`)
    if (failures > spec.retries) fail(`no valid answer after ${failures} attempts; last error: ${err}`)
  }

  for (let turn = 1; turn <= spec.maxTurns; turn++) {
    const what = `${who} call ${turn} (${providerName}:${model})`
    const estimateIn = Math.ceil((system.length + JSON.stringify(turns).length + JSON.stringify(specs).length) / 3)
    const hold = ctx.budget.reserve(costUsd(price, estimateIn, spec.maxTokens), what)
    const reply = await withRetry((signal) => provider.chat({ model, system, turns, tools: specs, maxTokens: spec.maxTokens, temperature: spec.temperature, signal }), {
      what,
      policy,
      signal: ctx.signal,
      classify: (e) => provider.classify(e),
      log,
    }).catch((e: Error): never => {
      hold.release()
      throw new AgentError(scrub(e.message), usage)
    })
    const cost = costUsd(price, reply.inputTokens, reply.outputTokens)
    const one: Usage = { inputTokens: reply.inputTokens, outputTokens: reply.outputTokens, costUsd: cost, calls: 1 }
    hold.settle(one)
    usage.inputTokens += one.inputTokens
    usage.outputTokens += one.outputTokens
    usage.costUsd += cost
    usage.calls++
    log(`turn ${turn}: ${reply.inputTokens} in / ${reply.outputTokens} out tokens, ${usdText(cost)}; ` +
      `${reply.toolCalls.length ? 'tools ' + reply.toolCalls.map((c) => c.name).join(', ') : 'answer'}\n`)
    if (reply.text.trim()) log(indent(reply.text.length > 2000 ? reply.text.slice(0, 2000) + '…' : reply.text))
    ctx.progress(`turn ${turn}/${spec.maxTurns} · ${usage.inputTokens + usage.outputTokens} tok · ${usdText(usage.costUsd)}`)
    turns.push({ role: 'assistant', text: reply.text, toolCalls: reply.toolCalls })

    if (reply.toolCalls.length) {
      const results: ToolResult[] = []
      let submitted: ToolCall | undefined
      for (const call of reply.toolCalls) {
        if (call.name === SUBMIT) {
          submitted = call
          continue
        }
        const tool = tools.find((t) => t.name === call.name)
        const r = tool
          ? await callTool(tool, call.input, toolCtx)
          : { content: `there is no tool '${call.name}'; available: ${tools.map((t) => t.name).join(', ')}`, isError: true }
        log(`  ${call.name}(${clip(JSON.stringify(call.input), 200)}) → ${r.isError ? 'error: ' : ''}${clip(r.content, 200)}\n`)
        results.push({ id: call.id, name: call.name, content: scrub(r.content), isError: r.isError })
      }
      if (submitted) {
        const input = submitted.input as { value?: unknown }
        const err = await judge(wraps ? input?.value : submitted.input, undefined)
        if (err === undefined) return done()
        rejected(err)
        results.push({ id: submitted.id, name: SUBMIT, content: err, isError: true })
      }
      turns.push({ role: 'tools', results })
      continue
    }

    // A reply without tool calls: the answer is in its text.
    let err: string | undefined
    if (reply.stop === 'max_tokens') err = `your reply was cut off at max_tokens (${spec.maxTokens}); answer more briefly`
    else if (spec.schema) {
      const parsed = extractJson(reply.text)
      err = parsed.ok ? await judge(parsed.value, undefined) : `your reply is not a JSON answer (${parsed.error}); call ${SUBMIT} with the answer`
    } else err = await judge(undefined, reply.text)
    if (err === undefined) return done()
    rejected(err)
    turns.push({ role: 'user', text: err })
  }
  return fail(`reached maxTurns (${spec.maxTurns}) without a valid answer${lastError ? `; last error: ${lastError}` : ''}`)

  function done(): RecipeResult {
    log(`accepted after ${usage.calls} call(s): ${usage.inputTokens} in / ${usage.outputTokens} out tokens, ${usdText(usage.costUsd)}\n`)
    const extra = [...discovered].filter((p) => !ctx.inputs.includes(p))
    return { usage, ...(extra.length ? { discoveredInputs: extra } : {}) }
  }
}

/** What the model must produce, appended to the system prompt. */
function contract(spec: AgentSpec, tools: AgentTool[], schema: Record<string, unknown> | undefined, fileOutputs: string[]): string {
  const lines = ['## How to answer']
  const own = tools.filter((t) => t.name !== SUBMIT && t.name !== 'write_file')
  if (own.length) lines.push(`- Tools you may call as often as you need: ${own.map((t) => t.name).join(', ')}.`)
  if (fileOutputs.length) lines.push(`- Write these files with write_file: ${fileOutputs.join(', ')}.`)
  if (schema) {
    lines.push(`- When you are done, call the ${SUBMIT} tool with your answer (or reply with only the JSON). It must match this JSON Schema:`)
    lines.push('```json', JSON.stringify(schema), '```')
  } else if (fileOutputs.length === 1) lines.push(`- Or reply with the complete contents of ${fileOutputs[0]} and nothing else.`)
  if (spec.check) lines.push(`- Your outputs are then checked with \`${spec.check}\`; if it fails you will see why.`)
  return lines.join('\n')
}

function writeFileTool(allowed: string[], scrub: (s: string) => string): AgentTool {
  return defineTool({
    name: 'write_file',
    description: `Write one of the step's output files (${allowed.join(', ')}); replaces it if it exists.`,
    input: z.object({ path: z.string().describe(`one of: ${allowed.join(', ')}`), content: z.string() }),
    run: ({ path, content }, ctx) => {
      const rel = path.replace(/^(\.\/)+/, '')
      if (rel.split(/[\\/]+/).includes('..') || !allowed.some((o) => rel === o || rel.startsWith(o + '/'))) {
        throw new Error(`'${path}' is not an output of this step; write one of: ${allowed.join(', ')}`)
      }
      writeOutput(ctx.cwd, rel, scrub(content))
      return `wrote ${rel} (${Buffer.byteLength(content)} bytes)`
    },
  })
}

/** A reply that is only JSON, possibly fenced, possibly with words around one object. */
export function extractJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  const candidates = [text.trim()]
  const fence = /```(?:json)?\s*\n([\s\S]*?)```/.exec(text)
  if (fence) candidates.push(fence[1].trim())
  const a = text.indexOf('{')
  const b = text.lastIndexOf('}')
  if (a >= 0 && b > a) candidates.push(text.slice(a, b + 1))
  let error = 'empty reply'
  for (const c of candidates) {
    if (!c) continue
    try {
      return { ok: true, value: JSON.parse(c) }
    } catch (e) {
      error = (e as Error).message
    }
  }
  return { ok: false, error }
}

/** Replace every credential with [redacted]; short strings are not secrets worth a false match. */
export function scrubber(secrets: string[]): (s: string) => string {
  const live = secrets.filter((s) => s.length >= 8)
  return (s) => live.reduce((acc, k) => acc.split(k).join('[redacted]'), s)
}

function clip(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ')
  return one.length > n ? one.slice(0, n) + '…' : one
}

function indent(s: string): string {
  return s.split('\n').map((l) => `  | ${l}`).join('\n') + '\n'
}
