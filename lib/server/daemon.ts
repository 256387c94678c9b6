// daemon.ts — the build server of one checkout: `node daemon.js ROOT AUTONFILE SOCKET`,
// started on demand by client.cts, detached, logging to SOCKET's .log sibling.
//
// It serves `auton build` requests one at a time, each exactly as `main()` would run it in a
// process of its own: the client's argv, cwd, environment and umask (a different one starts a
// fresh session: the graph, env keys and hashes were computed under the old one), its terminal
// (isTTY, colours), its Ctrl-C. A request that arrives during another's build is sent back to
// build in its own process. What it keeps between requests is in session.ts.
//
// It exits when idle for AUTON_SERVER_IDLE seconds (default 900), when the autonfile or the
// checkout is gone, when its socket file was removed or taken over, or when its watcher failed.

import { connect, createServer, type Socket } from 'node:net'
import { existsSync, rmSync, statSync } from 'node:fs'
import kleur from 'kleur'
import { main } from '../cli.js'
import { Changes } from './changes.js'
import { Session } from './session.js'
import { ignoredDirs, loadConfig } from '../config.js'
import type { Frame } from './client.cjs'

interface Request {
  argv: string[]
  cwd: string
  env: Record<string, string>
  /** Files the recipes create get the client's permissions. */
  umask: number
  tty: { out: boolean; err: boolean; columns: number }
}

const [root, file, socketPath] = process.argv.slice(2)
const idleMs = Number(process.env.AUTON_SERVER_IDLE ?? 900) * 1000
// the server's own log (stdout is its log file); during a request stdout goes to the client
const logWrite = process.stdout.write.bind(process.stdout)
const log = (s: string) => void logWrite(`${new Date().toISOString()} ${s}\n`)

const changes = await Changes.start({ root, ignored: ignoredDirs(root, loadConfig(root)) })
let session: Session | undefined
let sessionKey = ''
let busy: Promise<void> = Promise.resolve()
let lastUsed = Date.now()
let inFlight = false

const server = createServer((sock) => {
  let buf = ''
  let req: Request | undefined
  const ac = new AbortController()
  sock.setEncoding('utf8')
  sock.on('data', (chunk: string) => {
    buf += chunk
    let nl: number
    while ((nl = buf.indexOf('\n')) >= 0) {
      const msg = JSON.parse(buf.slice(0, nl)) as Request | { signal: string }
      buf = buf.slice(nl + 1)
      if ('signal' in msg) ac.abort()
      else if (!req) {
        req = msg
        const r = req
        if (inFlight) {
          // another client's build is running: this one builds in its own process, exactly as
          // without a server (the lock makes a build wait or fail; -n answers at once)
          sock.end(JSON.stringify({ fallback: 'busy' } satisfies Frame) + '\n')
          continue
        }
        inFlight = true
        busy = busy
          .then(() => serve(r, sock, ac))
          .catch((e) => log(`request failed: ${(e as Error).stack}`))
          .finally(() => (inFlight = false))
      }
    }
  })
  sock.on('error', () => ac.abort())
  sock.on('close', () => ac.abort()) // the client is gone (killed): stop its build
})

async function serve(req: Request, sock: Socket, ac: AbortController): Promise<void> {
  clearTimeout(idleTimer)
  lastUsed = Date.now()
  const t0 = performance.now()
  if (ac.signal.aborted) return
  const send = (f: Frame) => {
    if (!sock.destroyed) sock.write(JSON.stringify(f) + '\n')
  }
  // `_` is the shell's last command: it differs on every invocation and means nothing to a build
  const key = JSON.stringify([req.cwd, req.umask, Object.entries(req.env).filter(([k]) => k !== '_').sort()])
  if (key !== sessionKey || !session) {
    // the autonfile, env parts and tool identities were computed under another environment
    for (const k of Object.keys(process.env)) delete process.env[k]
    Object.assign(process.env, req.env)
    process.chdir(req.cwd)
    process.umask(req.umask) // recipes' shells set it per command (shell-pool.ts)
    if (session) log('new session: the client environment or working directory differs')
    session = new Session(root, file, changes)
    sessionKey = key
  }
  const out = process.stdout as NodeJS.WriteStream
  const err = process.stderr as NodeJS.WriteStream
  const saved = { out: out.write, err: err.write, outTTY: out.isTTY, errTTY: err.isTTY, cols: err.columns, color: kleur.enabled }
  const writer = (k: 'o' | 'e') => (chunk: string | Uint8Array, enc?: unknown, cb?: unknown) => {
    send(k === 'o' ? { o: chunk.toString() } : { e: chunk.toString() })
    const done = typeof enc === 'function' ? enc : cb
    if (typeof done === 'function') done()
    return true
  }
  out.write = writer('o') as typeof out.write
  err.write = writer('e') as typeof err.write
  Object.assign(out, { isTTY: req.tty.out })
  Object.assign(err, { isTTY: req.tty.err, columns: req.tty.columns })
  const e = req.env
  kleur.enabled = !e.NODE_DISABLE_COLORS && e.NO_COLOR == null && e.TERM !== 'dumb' && ((e.FORCE_COLOR != null && e.FORCE_COLOR !== '0') || req.tty.out)
  let code: number
  try {
    code = await main(req.argv, { file, session: session.forBuild(ac.signal) })
  } catch (x) {
    err.write(`auton: internal error: ${(x as Error)?.stack ?? x}\n`)
    code = 1
  } finally {
    out.write = saved.out
    err.write = saved.err
    Object.assign(out, { isTTY: saved.outTTY })
    Object.assign(err, { isTTY: saved.errTTY, columns: saved.cols })
    kleur.enabled = saved.color
  }
  if (session.reloadedFor) {
    log(`reloaded the autonfile: ${session.reloadedFor} changed`)
    session.reloadedFor = undefined
  }
  if (session.lastReset) {
    log(`session reset: ${session.lastReset}`)
    session.lastReset = undefined
  }
  send({ exit: ac.signal.aborted && code !== 0 ? 130 : code })
  sock.end()
  inFlight = false // the next client waits for what follows (it is quick) rather than building alone
  log(`${req.argv.join(' ')} → ${code} in ${(performance.now() - t0).toFixed(1)} ms (${session.cleanCount} targets clean)`)
  // while the user reads the output: take in the build's own writes (and anything else), so
  // the next request finds little to do
  await session.absorb().catch((e) => log(`absorbing changes failed: ${(e as Error).message}`))
  scheduleIdle()
  lastUsed = Date.now()
  if (changes.broken) shutdown(`the watcher failed: ${changes.broken}`)
}

/** A second after the last request: write what is only kept for the next process (the stat memo). */
let idleTimer: NodeJS.Timeout | undefined
function scheduleIdle(): void {
  clearTimeout(idleTimer)
  idleTimer = setTimeout(() => {
    busy = busy.then(() => {
      try {
        session?.idle()
      } catch (e) {
        log(`writing the stat memo failed: ${(e as Error).message}`)
      }
    })
  }, 1000)
  idleTimer.unref()
}

let socketId = ''
function shutdown(why: string): void {
  log(`exiting: ${why}`)
  try {
    if (!inFlight) session?.idle()
  } catch {
    // only the next process's speed depends on it
  }
  server.close()
  try {
    const st = statSync(socketPath)
    if (`${st.ino}` === socketId) rmSync(socketPath, { force: true })
  } catch {
    // gone already
  }
  process.exit(0)
}

server.on('error', (e) => {
  log(`cannot listen on ${socketPath}: ${e.message}`)
  process.exit(1) // another server won the race; the client connects to that one
})
// a socket file nobody listens on (a server killed with -9) is removed before listening
await new Promise<void>((resolve) => {
  const c = connect(socketPath)
  c.once('connect', () => {
    log('another server listens on this socket already')
    process.exit(1)
  })
  c.once('error', () => {
    rmSync(socketPath, { force: true })
    resolve()
  })
})
server.listen(socketPath, () => {
  socketId = `${statSync(socketPath).ino}`
  log(`serving ${file} on ${socketPath} (pid ${process.pid})`)
})

const builtAt = () => statSync(new URL('../cli.js', import.meta.url), { throwIfNoEntry: false })?.mtimeMs
const myBuild = builtAt()
setInterval(() => {
  if (!existsSync(file)) return shutdown(`${file} is gone`)
  if (builtAt() !== myBuild) return shutdown('auton was rebuilt (clients now start a server of the new build)')
  const st = statSync(socketPath, { throwIfNoEntry: false })
  if (!st || `${st.ino}` !== socketId) return shutdown('the socket file was removed or replaced')
  busy.then(() => {
    if (Date.now() - lastUsed > idleMs) shutdown(`idle for ${idleMs / 1000} s`)
  })
}, Math.min(5000, idleMs)).unref()
process.on('SIGTERM', () => shutdown('SIGTERM'))
