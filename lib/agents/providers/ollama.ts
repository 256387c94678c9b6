// ollama.ts — a local (or remote) Ollama server's /api/chat, through the `ollama` package.
//
// The host is OLLAMA_HOST, else auton.toml [agents] ollama_host, else 127.0.0.1:11434.
// The package sends non-streaming requests without an abort signal and drops response
// headers from its errors, so we hand it our own fetch: it carries the attempt's signal
// (cancel + timeout) and remembers a failed response's retry-after for retry.ts.

import { Ollama, type Message, type Tool } from 'ollama'
import type { AutonConfig } from '../../config.js'
import type { ChatReply, ChatRequest, Provider, Turn } from './provider.js'
import { networkCode, retryAfterMs, retryableStatus, type Fault } from './retry.js'

export const DEFAULT_OLLAMA_HOST = 'http://127.0.0.1:11434'

type Env = Record<string, string | undefined>

export function ollamaProvider(config: AutonConfig, env: Env = process.env): Provider {
  const host = normaliseHost(env.OLLAMA_HOST || config.agents.ollama_host || DEFAULT_OLLAMA_HOST)
  let lastRetryAfter: number | undefined
  return {
    name: 'ollama',
    endpoint: host,
    secrets: [],
    async chat(req: ChatRequest): Promise<ChatReply> {
      lastRetryAfter = undefined
      const client = new Ollama({
        host,
        fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
          const res = await fetch(input, { ...init, signal: req.signal })
          if (!res.ok) lastRetryAfter = retryAfterMs((h) => res.headers.get(h))
          return res
        },
      })
      const res = await client.chat({
        model: req.model,
        stream: false,
        messages: toMessages(req.system, req.turns),
        ...(req.tools.length
          ? {
              tools: req.tools.map(
                (t): Tool => ({
                  type: 'function',
                  function: { name: t.name, description: t.description, parameters: t.inputSchema as Tool['function']['parameters'] },
                }),
              ),
            }
          : {}),
        options: { num_predict: req.maxTokens, ...(req.temperature !== undefined ? { temperature: req.temperature } : {}) },
      })
      // Ollama's tool calls carry no id; number them so results can be matched in logs.
      const toolCalls = (res.message.tool_calls ?? []).map((c, i) => ({
        id: `call_${i + 1}`,
        name: c.function.name,
        input: parseArguments(c.function.arguments),
      }))
      return {
        text: res.message.content ?? '',
        toolCalls,
        stop: res.done_reason === 'length' ? 'max_tokens' : toolCalls.length ? 'tool_use' : 'end',
        inputTokens: res.prompt_eval_count ?? 0,
        outputTokens: res.eval_count ?? 0,
      }
    },
    classify(err: unknown): Fault {
      const status = (err as { status_code?: unknown }).status_code
      if (typeof status === 'number') {
        const msg = (err as Error).message
        let reason = `HTTP ${status} from Ollama at ${host}: ${msg}`
        if (status === 404) reason += ` — pull the model first: ollama pull <model>`
        return { retryable: retryableStatus(status), reason, afterMs: lastRetryAfter }
      }
      const code = networkCode(err)
      if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH') {
        return {
          retryable: false,
          reason: `cannot reach Ollama at ${host} (${code}): start it with \`ollama serve\`, or set OLLAMA_HOST or [agents] ollama_host in auton.toml`,
        }
      }
      if (code) return { retryable: true, reason: `connection to Ollama at ${host} failed (${code})` }
      return { retryable: false, reason: err instanceof Error ? err.message : String(err) }
    },
  }
}

function toMessages(system: string, turns: Turn[]): Message[] {
  const out: Message[] = system ? [{ role: 'system', content: system }] : []
  for (const t of turns) {
    if (t.role === 'user') out.push({ role: 'user', content: t.text })
    else if (t.role === 'assistant') {
      out.push({
        role: 'assistant',
        content: t.text,
        ...(t.toolCalls.length
          ? { tool_calls: t.toolCalls.map((c) => ({ function: { name: c.name, arguments: (c.input ?? {}) as Record<string, unknown> } })) }
          : {}),
      })
    } else for (const r of t.results) out.push({ role: 'tool', content: r.content, tool_name: r.name })
  }
  return out
}

/** Some models send arguments as a JSON string instead of an object. */
function parseArguments(a: unknown): unknown {
  if (typeof a !== 'string') return a ?? {}
  try {
    return JSON.parse(a)
  } catch {
    return a
  }
}

/** "host:port", ":port" or a URL → "http://host:port", as ollama does, for messages. */
function normaliseHost(h: string): string {
  let s = h.trim()
  if (s.startsWith(':')) s = `127.0.0.1${s}`
  if (!s.includes('://')) s = `http://${s}`
  const u = new URL(s)
  if (!u.port && !h.includes('://')) u.port = '11434'
  return u.toString().replace(/\/+$/, '')
}
