// fake-server.ts — the HTTP plumbing shared by the fake Anthropic and Ollama servers:
// a real server on 127.0.0.1 that records every request and answers from a script.

import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RecordedRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: any
}

export interface Reply {
  status?: number
  headers?: Record<string, string>
  body: unknown
  /** Wait this long before answering (timeouts, cancellation). */
  delayMs?: number
}

export type Step = Reply | ((req: RecordedRequest) => Reply)

export interface FakeServer {
  url: string
  port: number
  /** Every request that reached the server, rejected ones included. */
  requests: RecordedRequest[]
  /** Script steps not yet used. */
  remaining(): number
  /** Append steps to the script. */
  push(...steps: Step[]): void
  close(): Promise<void>
}

/** `gate` answers a request itself (auth, validation) or returns undefined to use the script. */
export async function startFakeServer(script: Step[], gate: (req: RecordedRequest) => Reply | undefined): Promise<FakeServer> {
  const steps = [...script]
  const requests: RecordedRequest[] = []
  const timers = new Set<NodeJS.Timeout>()
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      let body: unknown = text
      try {
        body = text ? JSON.parse(text) : undefined
      } catch {
        // keep the text
      }
      const rec: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body }
      requests.push(rec)
      let reply = gate(rec)
      if (!reply) {
        const step = steps.shift()
        reply = step === undefined
          ? { status: 500, body: { error: 'fake server: the script has no more replies' } }
          : typeof step === 'function' ? step(rec) : step
      }
      const send = () => {
        timers.delete(t)
        if (res.destroyed) return
        res.writeHead(reply!.status ?? 200, { 'content-type': 'application/json', ...reply!.headers })
        res.end(JSON.stringify(reply!.body))
      }
      const t = setTimeout(send, reply.delayMs ?? 0)
      timers.add(t)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    remaining: () => steps.length,
    push: (...s) => void steps.push(...s),
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t)
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}
