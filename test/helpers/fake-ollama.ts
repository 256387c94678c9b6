// fake-ollama.ts — an Ollama server for tests (POST /api/chat, non-streaming, with tools).
//
// Requests must name a model, carry messages and stream:false (what an agent step sends);
// every tool message must name its tool. Valid requests get the next scripted reply;
// build replies with `chat` and `toolCalls`.

import { startFakeServer, type FakeServer, type RecordedRequest, type Reply, type Step } from './fake-server.js'

export function chat(content: string, counts = { prompt: 500, eval: 100 }, doneReason = 'stop'): Reply {
  return reply({ role: 'assistant', content }, counts, doneReason)
}

export function toolCalls(calls: Array<[name: string, args: unknown]>, counts = { prompt: 500, eval: 100 }): Reply {
  return reply({ role: 'assistant', content: '', tool_calls: calls.map(([name, args]) => ({ function: { name, arguments: args } })) }, counts, 'stop')
}

export function ollamaError(status: number, msg: string, headers: Record<string, string> = {}): Reply {
  return { status, headers, body: { error: msg } }
}

function reply(message: unknown, counts: { prompt: number; eval: number }, doneReason: string): Reply {
  return {
    body: {
      model: 'fake',
      created_at: new Date().toISOString(),
      message,
      done: true,
      done_reason: doneReason,
      total_duration: 1,
      load_duration: 1,
      prompt_eval_count: counts.prompt,
      prompt_eval_duration: 1,
      eval_count: counts.eval,
      eval_duration: 1,
    },
  }
}

export function startFakeOllama(script: Step[] = []): Promise<FakeServer> {
  return startFakeServer(script, gate)
}

function gate(req: RecordedRequest): Reply | undefined {
  if (req.method !== 'POST' || req.url !== '/api/chat') return ollamaError(404, `404 page not found`)
  const b = req.body as Record<string, any>
  if (typeof b?.model !== 'string' || !b.model) return ollamaError(400, 'model is required')
  if (b.stream !== false) return ollamaError(400, 'fake ollama: only non-streaming chat is scripted')
  if (!Array.isArray(b.messages)) return ollamaError(400, 'messages must be an array')
  for (const m of b.messages) {
    if (m.role === 'tool' && !m.tool_name) return ollamaError(400, 'tool messages must name their tool (tool_name)')
  }
  return undefined
}
