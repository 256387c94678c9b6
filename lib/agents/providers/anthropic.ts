// anthropic.ts — the Messages API through @anthropic-ai/sdk.
//
// Credentials come from ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN); SDK 1.x sends either
// as `Authorization: Bearer …`. The endpoint is ANTHROPIC_BASE_URL, else auton.toml
// [agents] anthropic_base_url, else api.anthropic.com. The SDK's own retries and logging
// are off: retry.ts is the one retry policy, and nothing here may print a header.
// The SDK speaks API version 2026-10-21, which refuses sampling parameters (temperature,
// top_p, top_k) with a 400, so an Anthropic step cannot set them.

import Anthropic, { APIConnectionError, APIConnectionTimeoutError, APIError } from '@anthropic-ai/sdk'
import type { AutonConfig } from '../../config.js'
import type { ChatReply, ChatRequest, Provider, Turn } from './provider.js'
import { networkCode, retryAfterMs, retryableStatus, type Fault } from './retry.js'

export const DEFAULT_ANTHROPIC_URL = 'https://api.anthropic.com'

type Env = Record<string, string | undefined>

/** `who` names the step in the error ("agent 'summary'"). */
export function anthropicProvider(config: AutonConfig, who: string, env: Env = process.env): Provider {
  const apiKey = env.ANTHROPIC_API_KEY || undefined
  const authToken = apiKey ? undefined : env.ANTHROPIC_AUTH_TOKEN || undefined
  if (!apiKey && !authToken) {
    throw new Error(
      `${who} uses an Anthropic model, but ANTHROPIC_API_KEY is not set. ` +
        `Export ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN), or point the step's role at a local model ` +
        `in auton.toml, e.g. [agents.models] reviewer = "ollama:qwen2.5:7b".`,
    )
  }
  const endpoint = (env.ANTHROPIC_BASE_URL || config.agents.anthropic_base_url || DEFAULT_ANTHROPIC_URL).replace(/\/+$/, '')
  const client = new Anthropic({
    ...(apiKey ? { apiKey } : { authToken }),
    baseURL: endpoint,
    maxRetries: 0,
    logLevel: 'off',
    openTelemetry: false,
  })
  return {
    name: 'anthropic',
    endpoint,
    secrets: [apiKey ?? authToken ?? ''],
    async chat(req: ChatRequest): Promise<ChatReply> {
      // client.post rather than messages.create: the latter prints model deprecation notices
      // on the console, and the engine's output belongs to its reporters.
      const body: Anthropic.MessageCreateParamsNonStreaming = {
        model: req.model,
        max_tokens: req.maxTokens,
        system: req.system,
        messages: toMessages(req.turns),
        ...(req.tools.length
          ? {
              tools: req.tools.map((t) => ({
                name: t.name,
                description: t.description,
                input_schema: t.inputSchema as Anthropic.Tool.InputSchema,
              })),
            }
          : {}),
      }
      const msg = await client.post<Anthropic.Message>('/v1/messages', { body, signal: req.signal, maxRetries: 0 })
      let text = ''
      const toolCalls: ChatReply['toolCalls'] = []
      for (const b of msg.content) {
        if (b.type === 'text') text += b.text
        else if (b.type === 'tool_use') toolCalls.push({ id: b.id, name: b.name, input: b.input })
      }
      const u = msg.usage
      return {
        text,
        toolCalls,
        stop: msg.stop_reason === 'max_tokens' ? 'max_tokens' : toolCalls.length ? 'tool_use' : 'end',
        inputTokens: u.input_tokens + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0),
        outputTokens: u.output_tokens,
      }
    },
    classify: (err) => classify(err, endpoint),
  }
}

/** Anthropic alternates user/assistant; tool results travel in the next user message. */
function toMessages(turns: Turn[]): Anthropic.MessageParam[] {
  const out: Anthropic.MessageParam[] = []
  const userBlocks = (): Anthropic.ContentBlockParam[] => {
    const last = out[out.length - 1]
    if (last?.role === 'user' && Array.isArray(last.content)) return last.content
    const blocks: Anthropic.ContentBlockParam[] = []
    out.push({ role: 'user', content: blocks })
    return blocks
  }
  for (const t of turns) {
    if (t.role === 'user') userBlocks().push({ type: 'text', text: t.text })
    else if (t.role === 'tools') {
      const blocks = userBlocks()
      for (const r of t.results) {
        blocks.push({ type: 'tool_result', tool_use_id: r.id, content: r.content, ...(r.isError ? { is_error: true } : {}) })
      }
    } else {
      const content: Anthropic.ContentBlockParam[] = []
      if (t.text) content.push({ type: 'text', text: t.text })
      for (const c of t.toolCalls) content.push({ type: 'tool_use', id: c.id, name: c.name, input: c.input })
      out.push({ role: 'assistant', content })
    }
  }
  return out
}

function classify(err: unknown, endpoint: string): Fault {
  if (err instanceof APIConnectionTimeoutError) return { retryable: true, reason: `timed out talking to ${endpoint}` }
  if (err instanceof APIConnectionError) {
    const code = networkCode(err)
    const unreachable = code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN'
    return {
      retryable: !unreachable,
      reason: `cannot reach ${endpoint}${code ? ` (${code})` : ''}` +
        (unreachable ? '; check ANTHROPIC_BASE_URL / [agents] anthropic_base_url and the network' : ''),
    }
  }
  if (err instanceof APIError && typeof err.status === 'number') {
    const body = err.error as { error?: { type?: string; message?: string } } | undefined
    const detail = [body?.error?.type, body?.error?.message].filter(Boolean).join(': ')
    let reason = `HTTP ${err.status}${detail ? ` ${detail}` : ''} from ${endpoint}`
    if (err.status === 401 || err.status === 403) reason += ' — check ANTHROPIC_API_KEY'
    const should = err.headers?.get('x-should-retry')
    return {
      retryable: should === 'false' ? false : retryableStatus(err.status),
      reason,
      afterMs: err.headers ? retryAfterMs((h) => err.headers!.get(h)) : undefined,
    }
  }
  return { retryable: false, reason: err instanceof Error ? err.message : String(err) }
}
