// fake-anthropic.ts — an Anthropic Messages API server for tests (POST /v1/messages).
//
// It checks what the real API checks and what the SDK really sends: the credential
// (SDK 1.x: `Authorization: Bearer <key>`; `x-api-key` is accepted too), an
// anthropic-version header, no sampling parameters (API 2026-10-21 refuses them),
// messages that alternate and answer every tool_use with a tool_result. Valid requests
// get the next scripted reply; build replies with `text`, `toolUse` and `apiError`.

import { startFakeServer, type FakeServer, type RecordedRequest, type Reply, type Step } from './fake-server.js'

export interface Usage {
  input_tokens: number
  output_tokens: number
}

/** Defaults that make costs easy to check: 1000 in, 200 out per call. */
export const USAGE: Usage = { input_tokens: 1000, output_tokens: 200 }

let nextId = 1

export function message(content: unknown[], stop: string, usage: Usage = USAGE): Reply {
  return {
    body: {
      id: `msg_${nextId++}`,
      type: 'message',
      role: 'assistant',
      model: 'fake',
      content,
      stop_reason: stop,
      stop_sequence: null,
      usage: { ...usage, cache_creation_input_tokens: null, cache_read_input_tokens: null },
    },
  }
}

export const text = (t: string, usage?: Usage): Reply => message([{ type: 'text', text: t }], 'end_turn', usage)

/** One tool call as the assistant's turn. */
export const toolUse = (name: string, input: unknown, usage?: Usage): Reply => toolUses([[name, input]], usage)

/** Several tool calls in one assistant turn. */
export function toolUses(calls: Array<[name: string, input: unknown]>, usage?: Usage): Reply {
  return message(
    calls.map(([name, input]) => ({ type: 'tool_use', id: `toolu_${nextId++}`, name, input, caller: { type: 'direct' } })),
    'tool_use',
    usage,
  )
}

export function apiError(status: number, type: string, msg: string, headers: Record<string, string> = {}): Reply {
  return { status, headers, body: { type: 'error', error: { type, message: msg } } }
}

export function startFakeAnthropic(apiKey: string, script: Step[] = []): Promise<FakeServer> {
  return startFakeServer(script, (req) => gate(req, apiKey))
}

function gate(req: RecordedRequest, apiKey: string): Reply | undefined {
  if (req.method !== 'POST' || req.url.split('?')[0] !== '/v1/messages') {
    return apiError(404, 'not_found_error', `fake anthropic: no route ${req.method} ${req.url}`)
  }
  const auth = req.headers['authorization']
  if (auth !== `Bearer ${apiKey}` && req.headers['x-api-key'] !== apiKey) {
    return apiError(401, 'authentication_error', 'invalid x-api-key or bearer token')
  }
  if (!req.headers['anthropic-version']) return apiError(400, 'invalid_request_error', 'anthropic-version header is required')
  const b = req.body as Record<string, any>
  for (const k of ['temperature', 'top_p', 'top_k']) {
    if (k in b) return apiError(400, 'invalid_request_error', `${k}: Extra inputs are not permitted`)
  }
  if (typeof b.model !== 'string' || !Number.isInteger(b.max_tokens)) {
    return apiError(400, 'invalid_request_error', 'model and max_tokens are required')
  }
  const problem = checkMessages(b.messages)
  return problem ? apiError(400, 'invalid_request_error', problem) : undefined
}

function checkMessages(messages: any[]): string | undefined {
  if (!Array.isArray(messages) || messages.length === 0) return 'messages: at least one message is required'
  if (messages[0].role !== 'user') return 'messages: the first message must use the "user" role'
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]
    if (i > 0 && messages[i - 1].role === m.role) return `messages.${i}: roles must alternate between "user" and "assistant"`
    if (m.role !== 'assistant') continue
    const uses = (Array.isArray(m.content) ? m.content : []).filter((c: any) => c.type === 'tool_use').map((c: any) => c.id)
    if (!uses.length) continue
    const next = messages[i + 1]
    if (!next) return `messages.${i}: tool_use ids were found without tool_result blocks immediately after: ${uses.join(', ')}`
    const results = (Array.isArray(next.content) ? next.content : []).filter((c: any) => c.type === 'tool_result').map((c: any) => c.tool_use_id)
    const missing = uses.filter((id: string) => !results.includes(id))
    if (missing.length) return `messages.${i + 1}: tool_use ids were found without tool_result blocks immediately after: ${missing.join(', ')}`
  }
  return undefined
}
