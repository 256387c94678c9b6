// client.cts — `auton build` through the checkout's build server (daemon.ts).
//
// This module is what bin/auton.cjs loads first, so it is CommonJS (an ES module costs a few
// ms more to start) and imports node built-ins only: a no-op build costs a Node start-up, one
// connect and one answer. It sends the arguments, the
// working directory, the whole environment and what the terminal is; the server answers
// with the output, frame by frame, and the exit status. Ctrl-C is forwarded (the server
// stops the recipes); a second one leaves at once.
//
// Not through the server (undefined: the caller builds in-process): any command but `build`,
// `build --watch`, --no-server, AUTON_NO_SERVER=1, CI set, not Linux (the watcher is inotify's),
// a checkout on a network or FUSE file system (inotify does not see other machines' writes),
// or a server that cannot be started.

import { connect, type Socket } from 'node:net'
import { closeSync, existsSync, mkdirSync, openSync, statSync, statfsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { createHash } from 'node:crypto'
import { tmpdir, userInfo } from 'node:os'

export interface Endpoint {
  root: string
  file: string
  socket: string
  log: string
}

/**
 * Server answers are JSON lines: output, then the exit status; or, before any output, "build
 * in your own process" (the server is busy with another client's build: that build holds the
 * lock, and a build in its own process reports it, or, for -n, answers at once, as it would
 * without a server).
 */
export type Frame = { o: string } | { e: string } | { exit: number } | { fallback: string }

/** nfs, smb/cifs (two), fuse, 9p, afs, ceph, lustre */
const REMOTE_FS = new Set([0x6969, 0xff534d42, 0xfe534d42, 0x65735546, 0x01021997, 0x5346414f, 0x00c36400, 0x0bd00bd0])

export function endpointFor(argv: string[], env: NodeJS.ProcessEnv = process.env): Endpoint | undefined {
  if (argv[0] !== 'build' || process.platform !== 'linux') return undefined
  if (env.AUTON_NO_SERVER && env.AUTON_NO_SERVER !== '0') return undefined
  if (env.CI && env.CI !== '0' && env.CI !== 'false') return undefined
  let file = 'autonfile.ts'
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--') break
    if (a === '--watch' || a === '--no-server' || a === '--help' || /^-[a-zA-Z]*[wh]/.test(a)) return undefined
    if (a === '-f' || a === '--file') file = argv[++i] ?? file
    else if (a.startsWith('--file=')) file = a.slice(7)
    else if (a === '-j') i++ // its value
  }
  // the path exactly as main() resolves it in the server (same cwd, same argument): the
  // server's watcher, stat cache and engine all speak in paths under this root
  const abs = resolve(file)
  if (!existsSync(abs)) return undefined // the in-process run says what is missing
  const root = dirname(abs)
  try {
    if (REMOTE_FS.has(statfsSync(root).type)) return undefined
  } catch {
    return undefined
  }
  // one server per checkout, autonfile, Node and auton build: a rebuilt auton starts a new one
  const cli = join(__dirname, '..', 'cli.js')
  const id = createHash('sha256')
    .update(JSON.stringify([root, abs, process.execPath, process.version, statSync(cli).mtimeMs]))
    .digest('hex')
    .slice(0, 24)
  const dir = join(env.XDG_RUNTIME_DIR || tmpdir(), `auton-${userInfo().uid}`)
  return { root, file: abs, socket: join(dir, `${id}.sock`), log: join(dir, `${id}.log`) }
}

/** Run `argv` through the server; undefined when it does not apply or cannot be reached. */
export async function viaServer(argv: string[]): Promise<number | undefined> {
  const ep = endpointFor(argv)
  if (!ep) return undefined
  if (existsSync(dirname(ep.socket)) && !privateDir(dirname(ep.socket))) return undefined
  let sock = await tryConnect(ep.socket)
  if (!sock) {
    if (!startServer(ep)) return undefined
    for (let waited = 0; !sock && waited < 20_000; waited += 25) {
      await new Promise((r) => setTimeout(r, 25))
      sock = await tryConnect(ep.socket)
    }
    if (!sock) {
      process.stderr.write(`auton: the build server did not start (its log: ${ep.log}); building without it\n`)
      return undefined
    }
  }
  return converse(sock, argv, ep)
}

/** undefined: the server asked the client to build in its own process. */
type Answer = number | undefined

function tryConnect(path: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = connect(path)
    s.once('connect', () => resolve(s))
    s.once('error', () => resolve(undefined))
  })
}

/**
 * The socket directory must be this user's alone: in a shared temp dir another user could
 * otherwise plant a socket there and be sent this build's environment (secrets included).
 */
function privateDir(dir: string): boolean {
  const st = statSync(dir, { throwIfNoEntry: false })
  if (st && st.isDirectory() && st.uid === userInfo().uid && (st.mode & 0o077) === 0) return true
  process.stderr.write(`auton: ${dir} is not a directory of this user's alone (mode 700); building without the server\n`)
  return false
}

function startServer(ep: Endpoint): boolean {
  try {
    mkdirSync(dirname(ep.socket), { recursive: true, mode: 0o700 })
    if (!privateDir(dirname(ep.socket))) return false
    const log = openSync(ep.log, 'a')
    const daemon = join(__dirname, 'daemon.js')
    const { spawn } = require('node:child_process') as typeof import('node:child_process') // only here: it costs ms to load
    const child = spawn(process.execPath, [daemon, ep.root, ep.file, ep.socket], { detached: true, stdio: ['ignore', log, log], cwd: ep.root })
    child.unref()
    closeSync(log)
    return true
  } catch (e) {
    process.stderr.write(`auton: could not start the build server: ${(e as Error).message}; building without it\n`)
    return false
  }
}

function converse(sock: Socket, argv: string[], ep: Endpoint): Promise<Answer> {
  return new Promise((resolve) => {
    let buf = ''
    let code: number | undefined
    let fallback = false
    let interrupts = 0
    const onSignal = () => {
      if (++interrupts > 1) process.exit(130)
      sock.write(JSON.stringify({ signal: 'SIGINT' }) + '\n')
      setTimeout(() => process.exit(130), 5000).unref() // a server that does not stop
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    sock.setEncoding('utf8')
    sock.on('data', (chunk: string) => {
      buf += chunk
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const f = JSON.parse(buf.slice(0, nl)) as Frame
        buf = buf.slice(nl + 1)
        if ('o' in f) process.stdout.write(f.o)
        else if ('e' in f) process.stderr.write(f.e)
        else if ('fallback' in f) fallback = true
        else code = f.exit
      }
    })
    sock.on('error', () => {})
    sock.on('close', () => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      if (fallback) return resolve(undefined)
      if (code === undefined) {
        process.stderr.write(`auton: the build server stopped before the build ended (its log: ${ep.log}); 'auton build --no-server' builds without it\n`)
        code = 1
      }
      resolve(interrupts ? 130 : code)
    })
    sock.write(
      JSON.stringify({
        argv,
        cwd: process.cwd(),
        env: process.env,
        umask: process.umask(),
        tty: { out: !!process.stdout.isTTY, err: !!process.stderr.isTTY, columns: process.stderr.columns ?? 0 },
      }) + '\n',
    )
  })
}
