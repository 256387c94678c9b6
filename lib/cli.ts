// cli.ts — `auton <command>`: argument parsing and wiring; the work happens in the engine.

import { parseArgs } from 'node:util'
import { rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { loadConfig, type AutonConfig } from './config.js'
import { loadAutonfile, LoadError } from './load.js'
import { build, keyWorld } from './engine.js'
import { LocalCache, localFromConfig } from './cache.js'
import { acquireLock, LockBusy } from './lock.js'
import { closure, GraphError, type Graph } from './graph.js'
import { State } from './state.js'
import { decide } from './rebuilder.js'
import { plainReporter } from './reporters/plain.js'
import { jsonReporter } from './reporters/json.js'
import { ttyReporter } from './reporters/tty.js'
import { traceRecorder } from './reporters/trace.js'
import type { BuildEvent } from './events.js'
import { executorsFromConfig, checkExecutors } from './executors/index.js'
import { remoteFromConfig, type HttpRemoteCache } from './remote-cache.js'
import type { BuildSession } from './server/session.js'

export interface ServerBuild {
  file: string
  session: BuildSession
}

const HELP: Record<string, string> = {
  main: `auton — a content-hashed build tool for ML-to-metal pipelines

usage: auton <command> [options]

commands:
  init                  start a project here: a commented autonfile.ts, auton.toml, .gitignore; then build it
  build [targets…]      build targets (default: the autonfile's default targets)
  list                  list the declared targets
  graph                 print the dependency graph (--format dot|mermaid|json)
  explain <target>      say why a target would rebuild
  clean [targets…]      delete outputs and build state (the cache is kept)
  cache stats|prune     show or shrink the local artifact cache
  cancel                scancel the cluster jobs a crashed build left behind, remove its staging
  provenance <file>     print an in-toto / SLSA provenance statement of a built file (--digest: its sha256)
  why <file>            show what a built file was made from, down to its sources, as a tree
  report                write .auton/report.html about the last build (graph, timeline, caches, model, boot)

options for every command:
  -f, --file PATH       the autonfile (default: ./autonfile.ts)
  -h, --help            help for a command (auton build --help)`,
  build: `usage: auton build [targets…] [options]

  -j, --jobs N          run at most N recipes here at once (cluster jobs take no slot; default: [build] jobs, or the cores)
  -k, --keep-going      keep building independent targets after a failure
  -n, --dry-run         say what would run, run nothing
      --json            one JSON object per line on stdout (target events and a summary)
      --no-cache        neither restore from nor store into the cache
  -w, --watch           rebuild whenever a source, the autonfile or a module it imports changes;
                        a change during a build cancels it and starts again (Ctrl-C to stop)
      --remote-cache URL
                        share artifacts through a Bazel HTTP cache (GET/PUT URL/ac/<key>, URL/cas/<sha256>);
                        default: [cache] remote in auton.toml; credentials from [cache] remote_auth_env
      --remote-cache-read-only
                        restore from the remote cache but never upload (untrusted PR builds)
      --executor local  run every target on this machine, whatever its \`executor\` says
      --no-server       build in this process, not through the checkout's build server (docs/server.md);
                        also when AUTON_NO_SERVER=1 or CI is set
  -f, --file PATH       the autonfile (default: ./autonfile.ts)

Exit status: 0 when every requested target is built, 1 when anything failed, 130 on Ctrl-C.`,
  init: `usage: auton init [-f PATH]\n\nWrites a small, commented autonfile.ts (a glob input, a handle, a default target), auton.toml,\nnotes/hello.txt, tsconfig.json (when absent) and .gitignore lines for .auton/, cache/ and build/,\nthen builds once. Never overwrites: an existing autonfile.ts or auton.toml stops it.`,
  cancel: `usage: auton cancel [-f PATH]\n\nCancels (one scancel) the SLURM jobs recorded in .auton/slurm-jobs.json by a build that\ncrashed, and removes .auton/staging. A build that is still running keeps the lock: stop it first.`,
  report: `usage: auton report [-f PATH]\n\nWrites .auton/report.html: one self-contained page about the last build — its graph, a\ntimeline of what ran in parallel, what was restored from which cache, and, when present,\nthe training loss curve, eval metrics, agent cost and the QEMU boot transcript.`,
  list: `usage: auton list [-f PATH]\n\nLists every target with its outputs; * marks default targets.`,
  graph: `usage: auton graph [targets…] [--format dot|mermaid|json] [-f PATH]\n\nPrints the graph of the given targets (default: all).`,
  explain: `usage: auton explain <target> [-f PATH]\n\nSays whether the target is up to date and, if not, which input, param, env var, tool or recipe changed.`,
  clean: `usage: auton clean [targets…] [-f PATH]\n\nDeletes the outputs of the given targets (default: all) and their build records.\nThe artifact cache is kept, so the next build restores instead of rebuilding.`,
  provenance: `usage: auton provenance <output path> [--digest] [-f PATH]\n\nPrints an in-toto Statement v1 (SLSA provenance v1 predicate) for a file the last build\nmade: its sha256, every input that reached it down to the sources with their digests, and\neach step's recipe, params and tool identities, from the build journal (.auton/). Refuses a\nfile that no target built or that changed since. --digest prints the sha256 of the\nstatement's canonical JSON instead (what a GGUF records as auton.provenance.sha256).`,
  why: `usage: auton why <output path> [-f PATH]\n\nShows the lineage of a built file as a tree: the target that made it, what it read, and\nso on down to the source files, each with its digest.`,
  cache: `usage: auton cache stats\n       auton cache prune --max-size SIZE   (e.g. 500M, 2G)\n\nShows or shrinks the local artifact cache ([cache] dir in auton.toml, default cache/).`,
}

/** `server`: the build server's warm state for this checkout (server/daemon.ts); absent in a one-shot run. */
export async function main(argv: string[], server?: ServerBuild): Promise<number> {
  const command = argv[0] && !argv[0].startsWith('-') ? argv[0] : undefined
  const rest = command ? argv.slice(1) : argv
  if (!command) {
    console.log(HELP.main)
    return rest.includes('-h') || rest.includes('--help') ? 0 : 2
  }
  if (command === 'exec-target') return (await import('./executors/job-entry.js')).execTarget(rest) // inside a SLURM job
  if (!(command in HELP)) {
    console.error(`auton: unknown command '${command}'\n\n${HELP.main}`)
    return 2
  }
  let args: ReturnType<typeof parse>
  try {
    args = parse(rest)
  } catch (e) {
    console.error(`auton ${command}: ${(e as Error).message}\n\n${HELP[command]}`)
    return 2
  }
  if (args.values.help) {
    console.log(HELP[command])
    return 0
  }
  const file = resolve(args.values.file ?? 'autonfile.ts')
  const root = dirname(file)
  try {
    if (server && (command !== 'build' || server.file !== file)) throw new Error(`internal: the server builds ${server.file} only`)
    if (server) await server.session.prepare()
    const cfg = server ? server.session.config() : loadConfig(root)
    switch (command) {
      case 'init':
        return await (await import('./commands/init.js')).initCommand(root, file, () => cmdBuild(file, root, loadConfig(root), args))
      case 'build':
        return await cmdBuild(file, root, cfg, args, server?.session)
      case 'list':
        return await cmdList(file, cfg)
      case 'graph':
        return await cmdGraph(file, cfg, args)
      case 'explain':
        return await cmdExplain(file, root, cfg, args.positionals)
      case 'clean':
        return await cmdClean(file, root, cfg, args.positionals)
      case 'cache':
        return cmdCache(root, cfg, args)
      case 'cancel':
        return (await import('./executors/cancel.js')).cancelCommand(root)
      case 'provenance':
        return (await import('./commands/provenance.js')).provenanceCommand(root, args.positionals, { digest: args.values.digest })
      case 'why':
        return (await import('./commands/provenance.js')).whyCommand(root, args.positionals)
      case 'report':
        return await (await import('./report.js')).reportCommand(file, root, cfg)
    }
  } catch (e) {
    if (e instanceof LoadError || e instanceof GraphError || e instanceof LockBusy) {
      console.error(`auton: ${e.message}`)
      return 1
    }
    throw e
  }
  return 2
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      file: { type: 'string', short: 'f' },
      help: { type: 'boolean', short: 'h' },
      jobs: { type: 'string', short: 'j' },
      'keep-going': { type: 'boolean', short: 'k' },
      'dry-run': { type: 'boolean', short: 'n' },
      json: { type: 'boolean' },
      'no-cache': { type: 'boolean' },
      'no-server': { type: 'boolean' },
      format: { type: 'string' },
      'max-size': { type: 'string' },
      watch: { type: 'boolean', short: 'w' },
      'remote-cache': { type: 'string' },
      'remote-cache-read-only': { type: 'boolean' },
      digest: { type: 'boolean' },
      executor: { type: 'string' },
    },
  })
}

type Args = ReturnType<typeof parse>

const checked = new WeakMap<Graph, AutonConfig>()

async function cmdBuild(file: string, root: string, cfg: AutonConfig, args: Args, session?: BuildSession): Promise<number> {
  const loaded = session ? await session.load() : await loadAutonfile(file, cfg)
  const { graph } = loaded
  const targets = args.positionals.length ? args.positionals : graph.defaults
  if (targets.length === 0) {
    console.error(`auton: no target named and the autonfile marks none as default: try 'auton build <target>' (see 'auton list')`)
    return 1
  }
  closure(graph, targets) // unknown names and cycles fail before anything runs
  if (args.values.executor !== undefined && args.values.executor !== 'local') {
    console.error(`auton build: --executor takes 'local' (run everything here), got '${args.values.executor}'`)
    return 2
  }
  if (checked.get(graph) !== cfg || args.values.executor !== undefined) {
    checkExecutors(graph, executorsFromConfig(cfg, root, () => {}, { forceLocal: args.values.executor === 'local' }))
    checked.set(graph, cfg) // the server builds the same graph with the same config many times
  }
  let jobs: number | undefined
  if (args.values.jobs !== undefined) {
    jobs = Number(args.values.jobs)
    if (!Number.isInteger(jobs) || jobs < 1) {
      console.error(`auton build: -j wants a positive integer, got '${args.values.jobs}'`)
      return 2
    }
  }
  try {
    remoteFromConfig(cfg, remoteFlags(args), () => {}, {}) // a bad URL fails before anything runs
  } catch (e) {
    console.error(`auton build: ${(e as Error).message}`)
    return 2
  }
  const release = args.values['dry-run'] ? () => {} : acquireLock(root)
  const ac = new AbortController()
  let interrupted = false
  const onSignal = () => {
    if (interrupted && !session) process.exit(130)
    interrupted = true
    process.stderr.write('\nauton: interrupted — stopping running recipes\n')
    ac.abort()
    if (session) return // the server stays; its client gives up waiting on its own
    // recipes' process groups get SIGTERM then SIGKILL; never hang on one that ignores both
    setTimeout(() => {
      release()
      process.exit(130)
    }, 1000).unref()
  }
  if (session) session.signal.addEventListener('abort', onSignal, { once: true })
  else {
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  }
  try {
    if (args.values.watch && !args.values['dry-run']) {
      // loaded on demand, like report.js: chokidar is a large share of start-up time
      const { watchBuild } = await import('./watch.js')
      return await watchBuild({
        root,
        targets: args.positionals,
        cfg,
        loaded,
        reload: async () => {
          const c = loadConfig(root)
          return { cfg: c, loaded: await loadAutonfile(file, c) }
        },
        build: async (g, t, c, signal, observe) => (await buildOnce(root, g, t, c, args, jobs, signal, observe)).ok,
        say: (line) => process.stderr.write(line + '\n'),
        signal: ac.signal,
      })
    }
    const result = await buildOnce(root, graph, targets, cfg, args, jobs, ac.signal, undefined, session)
    if (interrupted) return 130
    if (result.ok && !args.values.json && !args.values['dry-run']) {
      const outs = productsOf(graph, targets)
      const shown = outs.slice(0, 12).map((o) => `  ${o}`)
      if (outs.length > shown.length) shown.push(`  … and ${outs.length - shown.length} more (auton list)`)
      if (outs.length) process.stderr.write(`outputs:\n${shown.join('\n')}\n`)
    }
    return result.ok ? 0 : 1
  } finally {
    session?.signal.removeEventListener('abort', onSignal)
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    release()
  }
}

/** What a build was asked for: the requested targets' outputs, or for an aggregate its inputs' outputs. */
function productsOf(graph: Graph, targets: string[]): string[] {
  const key = targets.join('\0')
  const memo = productsMemo.get(graph)
  if (memo?.key === key) return memo.products
  const products = [...new Set(targets.flatMap((t) => {
    const n = graph.nodes.get(t)!
    return n.decl.outputs.length ? n.decl.outputs : n.deps.flatMap((d) => graph.nodes.get(d)!.decl.outputs)
  }))]
  productsMemo.set(graph, { key, products })
  return products
}
const productsMemo = new WeakMap<Graph, { key: string; products: string[] }>()

/** One build with its reporters; writes .auton/trace.json and .auton/last-build.json (read by `auton report`). */
async function buildOnce(
  root: string, graph: Graph, targets: string[], cfg: AutonConfig, args: Args, jobs: number | undefined, signal: AbortSignal,
  observe?: (e: BuildEvent) => void, session?: BuildSession,
) {
  const trace = traceRecorder()
  const events: BuildEvent[] = []
  const tty = !args.values.json && process.stderr.isTTY && !process.env.CI ? ttyReporter() : undefined
  const sinks = [
    args.values.json ? jsonReporter() : tty ? tty.emit : plainReporter(),
    trace.emit,
    (e: BuildEvent) => e.type !== 'progress' && events.push(e),
    ...(observe ? [observe] : []),
  ]
  const emit = (e: BuildEvent) => sinks.forEach((s) => s(e))
  const noCache = args.values['no-cache'] || args.values['dry-run']
  const remote: HttpRemoteCache | undefined = noCache ? undefined : remoteFromConfig(cfg, remoteFlags(args), emit)
  const result = await build(graph, {
    root,
    targets,
    config: cfg,
    emit,
    jobs,
    keepGoing: args.values['keep-going'],
    dryRun: args.values['dry-run'],
    signal,
    cache: args.values['no-cache'] ? undefined : localFromConfig(root, cfg, emit),
    remote,
    executors: executorsFromConfig(cfg, root, emit, { forceLocal: args.values.executor === 'local', autonfile: resolve(args.values.file ?? 'autonfile.ts') }),
    state: session?.state(),
    assumed: session?.assumed(closure(graph, targets)),
  })
  session?.built(result.statuses)
  tty?.stop()
  if (!args.values['dry-run']) {
    trace.write(join(root, '.auton', 'trace.json'))
    mkdirSync(join(root, '.auton'), { recursive: true })
    const remoteInfo = remote && { url: remote.url, stats: remote.stats, disabled: remote.disabled }
    writeFileSync(join(root, '.auton', 'last-build.json'), JSON.stringify({ targets, events, remote: remoteInfo }))
  }
  return result
}

function remoteFlags(args: Args): { url?: string; readOnly?: boolean } {
  return { url: args.values['remote-cache'], readOnly: args.values['remote-cache-read-only'] }
}

async function cmdList(file: string, cfg: AutonConfig): Promise<number> {
  const { graph } = await loadAutonfile(file, cfg)
  const width = Math.max(...[...graph.nodes.keys()].map((n) => n.length), 4)
  for (const n of graph.nodes.values()) {
    const mark = n.decl.isDefault ? '*' : ' '
    const desc = n.decl.description ? `  ${n.decl.description}` : ''
    console.log(`${mark} ${n.name.padEnd(width)}  ${n.decl.outputs.join(' ') || '(aggregate)'}${desc}`)
  }
  return 0
}

async function cmdGraph(file: string, cfg: AutonConfig, args: Args): Promise<number> {
  const { graph } = await loadAutonfile(file, cfg)
  const names = args.positionals.length ? closure(graph, args.positionals) : [...graph.nodes.keys()]
  const format = args.values.format ?? 'dot'
  console.log(renderGraph(graph, names, format))
  return 0
}

export function renderGraph(graph: Graph, names: string[], format: string): string {
  const edges = names.flatMap((n) => graph.nodes.get(n)!.deps.map((d) => [d, n] as const))
  if (format === 'json') {
    return JSON.stringify(
      names.map((n) => {
        const node = graph.nodes.get(n)!
        return { name: n, deps: node.deps, sources: node.sources, outputs: node.decl.outputs, pool: node.decl.pool }
      }),
      null,
      2,
    )
  }
  if (format === 'mermaid') {
    const id = new Map(names.map((n, i) => [n, `t${i}`]))
    return ['graph LR', ...names.map((n) => `  ${id.get(n)}["${n}"]`), ...edges.map(([a, b]) => `  ${id.get(a)} --> ${id.get(b)}`)].join('\n')
  }
  if (format === 'dot') {
    return ['digraph auton {', '  rankdir=LR;', ...names.map((n) => `  ${JSON.stringify(n)};`), ...edges.map(([a, b]) => `  ${JSON.stringify(a)} -> ${JSON.stringify(b)};`), '}'].join('\n')
  }
  throw new GraphError(`unknown graph format '${format}' (use dot, mermaid or json)`)
}

async function cmdExplain(file: string, root: string, cfg: AutonConfig, names: string[]): Promise<number> {
  if (names.length !== 1) {
    console.error(HELP.explain)
    return 2
  }
  const { graph } = await loadAutonfile(file, cfg)
  const order = closure(graph, names)
  const state = new State(root).load()
  // the cache as build sees it: with a signing key, a record build would refuse is not a restore
  const rc = { world: keyWorld(graph, root, state, cfg), state, cache: localFromConfig(root, cfg, () => {}) }
  // the same decision `build -n` acts on (rebuilder.ts), for the target and what it waits for
  const stale = new Set<string>()
  for (const name of order) {
    const n = graph.nodes.get(name)!
    let why: string[]
    let how = 'would rebuild'
    try {
      const d = decide(n, rc, n.deps.filter((x) => stale.has(x)))
      why = d.kind === 'up-to-date' ? [] : d.reasons
      if (d.kind === 'restore') how = 'would be restored from the local cache'
    } catch (e) {
      why = [(e as Error).message]
    }
    if (!n.decl.recipe && n.deps.some((x) => stale.has(x))) stale.add(name)
    if (why.length) stale.add(name)
    if (name === names[0] || why.length) {
      if (why.length === 0) console.log(`${name}: up to date`)
      else console.log(`${name}: ${how} because\n${why.map((w) => `  - ${w}`).join('\n')}`)
    }
  }
  return 0
}

async function cmdClean(file: string, root: string, cfg: AutonConfig, names: string[]): Promise<number> {
  const { graph } = await loadAutonfile(file, cfg)
  const release = acquireLock(root)
  try {
    const which = names.length ? names : [...graph.nodes.keys()]
    for (const n of which) if (!graph.nodes.has(n)) closure(graph, [n])
    const state = new State(root).load()
    for (const name of which) {
      for (const o of graph.nodes.get(name)!.decl.outputs) rmSync(join(root, o), { recursive: true, force: true })
      state.forget(name)
    }
    if (!names.length) {
      rmSync(join(root, '.auton', 'targets.jsonl'), { force: true })
      rmSync(join(root, '.auton', 'stat.json'), { force: true })
    } else state.save()
    console.log(`cleaned ${which.length} target${which.length === 1 ? '' : 's'} (cache kept)`)
    return 0
  } finally {
    release()
  }
}

function cmdCache(root: string, cfg: AutonConfig, args: Args): Promise<number> | number {
  const cache = new LocalCache(resolve(root, cfg.cache.dir))
  const sub = args.positionals[0]
  if (sub === 'stats') {
    const s = cache.stats()
    console.log(`cache ${cache.dir}\n  ${s.actions} actions, ${s.blobs} blobs, ${formatSize(s.bytes)}`)
    return 0
  }
  if (sub === 'prune') {
    const max = parseSize(args.values['max-size'])
    if (max === undefined) {
      console.error(`auton cache prune: --max-size SIZE is required (e.g. 500M, 2G)`)
      return 2
    }
    const r = cache.prune(max)
    console.log(`removed ${r.removedBlobs} blobs and ${r.removedActions} actions; cache is now ${formatSize(r.bytes)}`)
    return 0
  }
  console.error(HELP.cache)
  return 2
}

export function parseSize(s: string | undefined): number | undefined {
  if (s === undefined) return undefined
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)i?[bB]?$/.exec(s.trim())
  if (!m) return undefined
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't']
  return Math.floor(Number(m[1]) * mult)
}

export function formatSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  let v = n
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v.toFixed(i ? 1 : 0)} ${units[i]}`
}
