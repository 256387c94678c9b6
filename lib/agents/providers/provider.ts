// provider.ts — the one conversation shape the agent loop speaks; each provider translates it.
//
// A conversation is a list of turns: the user's text, the assistant's text and tool calls,
// and the results of those calls. Anthropic wants tool results inside a user message,
// Ollama wants one "tool" message per result; that is the providers' business, not the loop's.

export interface ToolSpec {
  name: string
  description: string
  /** JSON Schema (draft 2020-12, from z.toJSONSchema) of the tool's input object. */
  inputSchema: Record<string, unknown>
}

export interface ToolCall {
  id: string
  name: string
  input: unknown
}

export interface ToolResult {
  id: string
  name: string
  content: string
  isError: boolean
}

export type Turn =
  | { role: 'user'; text: string }
  | { role: 'assistant'; text: string; toolCalls: ToolCall[] }
  | { role: 'tools'; results: ToolResult[] }

export interface ChatRequest {
  model: string
  system: string
  turns: Turn[]
  tools: ToolSpec[]
  maxTokens: number
  /** Sampling temperature; undefined leaves the provider's default. */
  temperature: number | undefined
  /** Aborts this one attempt (the build's cancel or the attempt's timeout). */
  signal: AbortSignal
}

export interface ChatReply {
  text: string
  toolCalls: ToolCall[]
  /** 'max_tokens' means the reply was cut off. */
  stop: 'end' | 'tool_use' | 'max_tokens'
  inputTokens: number
  outputTokens: number
}

export interface Provider {
  /** 'anthropic' | 'ollama' */
  readonly name: string
  /** Where requests go, for messages (never carries a credential). */
  readonly endpoint: string
  /** Credentials this provider holds: scrubbed from every log line, error and output. */
  readonly secrets: string[]
  /** One attempt; faults are thrown as they come and classified by classify(). */
  chat(req: ChatRequest): Promise<ChatReply>
  classify(err: unknown): import('./retry.js').Fault
}
