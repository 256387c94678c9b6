// slurm.test.ts — targets as SLURM jobs, end to end, against a real single-node cluster that
// this file starts (test/helpers/slurm.ts) and real `auton` processes in temp projects.
// If the cluster cannot start (packages missing, munge broken) every test here fails with the
// daemons' logs: nothing is skipped.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync } from 'node:child_process'
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { Project, show, waitFor, collect } from '../helpers/project.js'
import { SlurmCluster } from '../helpers/slurm.js'
import { SlurmExecutor, resourceArgs, slurmTime } from '../../lib/executors/slurm.js'
import { makeFarm, moveOutputs } from '../../lib/executors/staging.js'
import { shellCommand } from '../../lib/runners/command.js'
import { createBudget } from '../../lib/budget.js'
import type { Node } from '../../lib/graph.js'
import type { RecipeContext } from '../../lib/recipe.js'
import type { AutonConfig } from '../../lib/config.js'
import { tmpdir } from 'node:os'
import { setMaxListeners } from 'node:events'

let cluster: SlurmCluster | undefined
let startError: Error | undefined

const TOML = `[executors.cluster]\nkind = "slurm"\n`

const AUTONFILE = `import { target, sh } from 'auton'
import { writeFileSync } from 'node:fs'

const hello = target('hello', {
  inputs: ['src/name.txt'],
  outputs: ['out/hello.txt'],
  executor: 'cluster',
  resources: { cpus: 2, mem: '200M', gpus: 1, time: '5m' },
  secrets: ['API_TOKEN'],
  run: sh\`echo "token=$API_TOKEN"; printf 'hello %s job=%s cpus=%s gpu=%s tok=%s\\\\n' "$(cat src/name.txt)" "\\\${SLURM_JOB_ID:-}" "\\\${SLURM_CPUS_PER_TASK:-}" "\\\${CUDA_VISIBLE_DEVICES:-}" "\\\${#API_TOKEN}" > out/hello.txt\`,
})

target('fn', {
  inputs: [hello],
  outputs: ['out/fn/result.txt'],
  executor: 'cluster',
  resources: { cpus: 1 },
  run: async (ctx) => {
    const { mkdirSync, readFileSync } = await import('node:fs')
    mkdirSync(ctx.cwd + '/out/fn', { recursive: true })
    const up = readFileSync(ctx.cwd + '/out/hello.txt', 'utf8').trim()
    writeFileSync(ctx.cwd + '/out/fn/result.txt', \`fn job=\${ctx.env.SLURM_JOB_ID} cpus=\${ctx.env.SLURM_CPUS_ON_NODE} cwd=\${ctx.cwd} after: \${up}\\n\`)
  },
})

target('local-one', { inputs: [hello], outputs: ['out/local.txt'], run: sh\`echo "job=\\\${SLURM_JOB_ID:-none}" > out/local.txt\` })

target('broken', {
  outputs: ['out/broken.txt'],
  executor: 'cluster',
  run: sh\`echo partial > out/broken.txt; echo "the compiler says no" >&2; exit 7\`,
})

target('liar', {
  outputs: ['out/liar.txt'],
  executor: 'cluster',
  run: sh\`echo "made nothing"\`,
})

// makes its output, then stops the job script from writing its marker (a directory where the
// marker's temp file goes): SLURM sees COMPLETED 0:0, as with the broken proctrack plugin
target('ghost', {
  outputs: ['out/ghost.txt'],
  executor: 'cluster',
  run: sh\`echo looks fine > out/ghost.txt; mkdir "$(pwd).exit.tmp"\`,
})

target('huge', {
  outputs: ['out/huge.txt'],
  executor: 'cluster',
  resources: { cpus: 512 },
  run: sh\`touch out/huge.txt\`,
})

target('slow', {
  outputs: ['out/slow.txt'],
  executor: 'cluster',
  run: sh\`echo started; echo partial > out/slow.txt; sleep 60; echo done >> out/slow.txt\`,
})
`

function project(): Project {
  return new Project({ 'autonfile.ts': AUTONFILE, 'auton.toml': TOML, 'src/name.txt': 'world\n' })
}

function env(extra: Record<string, string> = {}): Record<string, string> {
  if (!cluster) throw startError ?? new Error('the SLURM test cluster is not running')
  return { ...cluster.env, API_TOKEN: 'tok-s3cret-value', ...extra }
}

function build(p: Project, args: string[], timeoutMs = 60_000) {
  return p.run(['build', '--json', ...args], { env: env(), timeoutMs })
}

/** Jobs of `p`'s builds that the controller remembers (completed ones stay for MinJobAge). */
function jobsOf(): string[] {
  return cluster!.allJobs().filter((l) => l.split(' ')[1]?.startsWith('auton-'))
}

const t = suite('SLURM executor (a real single-node cluster)')

t.before(async () => {
  try {
    const t0 = Date.now()
    cluster = await SlurmCluster.start()
    console.log(`  slurm cluster up in ${Date.now() - t0} ms (${cluster.cpus} CPUs)`)
  } catch (e) {
    startError = e as Error
  }
})

t.after(async () => {
  await cluster?.stop()
})

t('the cluster started (fails loudly when it cannot: this suite never skips)', () => {
  if (startError) throw startError
  assert.ok(cluster)
})

t('sh and function recipes run as jobs; their job id and CPUs reach the recipe; a second build submits nothing; after clean, restored without a job', async () => {
  const p = project()
  try {
    const before = jobsOf().length
    const t0 = Date.now()
    const r = await build(p, ['fn'])
    const ms = Date.now() - t0
    assert.is(r.code, 0, show(r))
    assert.equal(r.with('ran'), ['fn', 'hello'])
    const hello = p.read('out/hello.txt')
    const m = /^hello world job=(\d+) cpus=2 gpu=0 tok=16$/.exec(hello.trim())
    assert.ok(m, `hello.txt: ${hello}`)
    const fn = p.read('out/fn/result.txt')
    const f = /^fn job=(\d+) cpus=1 cwd=(\S+) after: hello world/.exec(fn)
    assert.ok(f, `fn result: ${fn}`)
    assert.is.not(f![1], m![1], 'each target is its own job')
    assert.ok(f![2].includes('/.auton/staging/'), `the function ran in its staging farm, not the project: ${f![2]}`)
    assert.is(jobsOf().length, before + 2, cluster!.allJobs().join('\n'))
    // the secret reached the job (its length is in the output) but never the log
    const log = p.read('.auton/logs/hello.log')
    assert.ok(log.includes('token=***'), log)
    assert.not.ok(log.includes('tok-s3cret-value'), log)
    assert.ok(/slurm: job \d+ .*--cpus-per-task=2 --mem=200M --gpus=1 --time=5/.test(log), log)
    // staging and the job ledger are gone after the build
    assert.equal(existsSync(p.path('.auton/staging')) ? readdirSync(p.path('.auton/staging')) : [], [])
    assert.not.ok(p.exists('.auton/slurm-jobs.json'))
    console.log(`  two chained jobs (sh, fn): ${ms} ms`)

    const again = await build(p, ['fn'])
    assert.is(again.code, 0, show(again))
    assert.equal(again.with('up-to-date'), ['fn', 'hello'])
    assert.is(jobsOf().length, before + 2, 'an up-to-date build submits nothing')

    const clean = await p.run(['clean'], { env: env() })
    assert.is(clean.code, 0, show(clean))
    assert.not.ok(p.exists('out/hello.txt'))
    const restored = await build(p, ['fn'])
    assert.is(restored.code, 0, show(restored))
    assert.equal(restored.with('restored'), ['fn', 'hello'])
    assert.is(jobsOf().length, before + 2, 'a restore submits nothing')
    assert.is(p.read('out/hello.txt'), hello)
  } finally {
    p.remove()
  }
})

t('--executor local runs cluster targets here, under the same key', async () => {
  const p = project()
  try {
    const before = jobsOf().length
    const r = await build(p, ['--executor', 'local', 'local-one'])
    assert.is(r.code, 0, show(r))
    assert.equal(r.with('ran'), ['hello', 'local-one'])
    assert.is(p.read('out/hello.txt').trim(), 'hello world job= cpus= gpu= tok=16')
    assert.is(p.read('out/local.txt').trim(), 'job=none')
    assert.is(jobsOf().length, before)
    // the key does not depend on the executor: the cluster build finds it up to date
    const onCluster = await build(p, ['local-one'])
    assert.is(onCluster.code, 0, show(onCluster))
    assert.equal(onCluster.with('up-to-date'), ['hello', 'local-one'])
    assert.is(jobsOf().length, before)
  } finally {
    p.remove()
  }
})

t('a failing job fails its target with its stderr and exit status, and leaves no output', async () => {
  const p = project()
  try {
    const r = await build(p, ['broken'])
    assert.is(r.code, 1, show(r))
    const e = r.events.find((x) => x.type === 'target' && x.name === 'broken')!
    assert.is(e.status, 'failed')
    assert.match(String(e.error), /slurm job \d+ for 'broken' FAILED/)
    assert.match(String(e.error), /exited with 7/)
    assert.match(String(e.error), /the compiler says no/)
    assert.not.ok(p.exists('out/broken.txt'), 'a failed job leaves no output')
  } finally {
    p.remove()
  }
})

t('a job that COMPLETED without its outputs is not trusted', async () => {
  const p = project()
  try {
    const r = await build(p, ['liar'])
    assert.is(r.code, 1, show(r))
    const e = r.events.find((x) => x.type === 'target' && x.name === 'liar')!
    assert.match(String(e.error), /COMPLETED but did not produce 'out\/liar.txt'/)
  } finally {
    p.remove()
  }
})

t('COMPLETED 0:0 without the job\'s own exit-status marker is not trusted', async () => {
  const p = project()
  try {
    const r = await build(p, ['ghost'])
    assert.is(r.code, 1, show(r))
    const e = r.events.find((x) => x.type === 'target' && x.name === 'ghost')!
    assert.match(String(e.error), /SLURM says COMPLETED 0:0 but the job never recorded the recipe's exit status/)
    assert.not.ok(p.exists('out/ghost.txt'))
  } finally {
    p.remove()
  }
})

t('an impossible request fails in seconds with SLURM\'s reason', async () => {
  const p = project()
  try {
    const t0 = Date.now()
    const r = await build(p, ['huge'])
    const ms = Date.now() - t0
    assert.is(r.code, 1, show(r))
    const e = r.events.find((x) => x.type === 'target' && x.name === 'huge')!
    assert.match(String(e.error), /SLURM refused the job for 'huge': .*(processors|node configuration)/i)
    assert.ok(ms < 10_000, `took ${ms} ms`)
    console.log(`  impossible request failed in ${ms} ms`)
  } finally {
    p.remove()
  }
})

t('an unknown executor is an error before anything runs', async () => {
  const p = new Project({
    'autonfile.ts': `import { target, sh } from 'auton'\ntarget('x', { outputs: ['x.txt'], executor: 'gpu-farm', run: sh\`touch x.txt\` })\n`,
  })
  try {
    const r = await p.run(['build', 'x'], { env: env() })
    assert.is(r.code, 1, show(r))
    assert.match(r.stderr, /executor 'gpu-farm', which auton.toml does not define/)
    assert.not.ok(p.exists('x.txt'))
  } finally {
    p.remove()
  }
})

t('Ctrl-C during a running job cancels it (nothing left in squeue) and leaves no output', async () => {
  const p = project()
  try {
    const child = p.spawn(['build', '--json', 'slow'], { env: env() })
    const done = collect(child, [], 60_000)
    await waitFor(() => p.exists('.auton/logs/slow.log') && /^started$/m.test(p.read('.auton/logs/slow.log')), 30_000, 'the job to start')
    assert.ok(/auton-\w+ RUNNING/.test(cluster!.queue()), cluster!.queue())
    const t0 = Date.now()
    child.kill('SIGINT')
    const r = await done
    assert.is(r.code, 130, show(r))
    await waitFor(() => cluster!.queue() === '', 10_000, 'the queue to empty')
    console.log(`  Ctrl-C: auton exited and the job left the queue in ${Date.now() - t0} ms`)
    assert.not.ok(p.exists('out/slow.txt'), 'no output after a cancelled job')
    const staging = p.path('.auton/staging')
    assert.equal(existsSync(staging) ? readdirSync(staging) : [], [], 'staging removed')
    // the next build reruns it (nothing trusted): check with explain
    const ex = await p.run(['explain', 'slow'], { env: env() })
    assert.match(ex.stdout, /would rebuild/)
  } finally {
    p.remove()
  }
})

t('auton cancel scancels the jobs of a crashed build and removes its staging', async () => {
  const p = project()
  try {
    const child = p.spawn(['build', '--json', 'slow'], { env: env() })
    const done = collect(child, [], 60_000)
    await waitFor(() => p.exists('.auton/slurm-jobs.json') && /RUNNING/.test(cluster!.queue()), 30_000, 'the job to run')
    const ledger = JSON.parse(p.read('.auton/slurm-jobs.json')) as Record<string, { jobs: Record<string, string> }>
    const ids = Object.values(ledger).flatMap((r) => Object.keys(r.jobs))
    assert.is(ids.length, 1)
    child.kill('SIGKILL') // a crash: no chance to clean up
    await done
    assert.ok(cluster!.queue().includes(ids[0]), 'the job outlives the crashed build')
    const c = await p.run(['cancel'], { env: env() })
    assert.is(c.code, 0, show(c))
    assert.match(c.stdout, new RegExp(`cancelled 1 job \\(${ids[0]}\\)`))
    await waitFor(() => cluster!.queue() === '', 10_000, 'the queue to empty')
    assert.not.ok(p.exists('.auton/staging'))
    assert.not.ok(p.exists('.auton/slurm-jobs.json'))
  } finally {
    p.remove()
  }
})

t('a job that can never start (its dependency failed) fails in seconds with SLURM\'s reason and is cancelled', async () => {
  const p = project()
  try {
    // a job that failed, for the other one to depend on
    const id = execFileSync('sbatch', ['--parsable', '-o', '/dev/null', '--wrap', 'false'], { cwd: p.dir, env: { ...process.env, ...env() }, encoding: 'utf8' }).trim()
    await waitFor(() => cluster!.allJobs().some((l) => l.startsWith(`${id} `) && l.endsWith('FAILED')), 20_000, 'the first job to fail')
    p.write('auton.toml', `${TOML}\n[executors.stuck]\nkind = "slurm"\nsbatch_args = ["--dependency=afterok:${id}"]\n`)
    p.write('autonfile.ts', `import { target, sh } from 'auton'\ntarget('never', { outputs: ['out/never.txt'], executor: 'stuck', run: sh\`touch out/never.txt\` })\n`)
    const t0 = Date.now()
    const r = await build(p, ['never'])
    const ms = Date.now() - t0
    assert.is(r.code, 1, show(r))
    const e = r.events.find((x) => x.type === 'target' && x.name === 'never')!
    assert.match(String(e.error), /can never start: SLURM says DependencyNeverSatisfied/)
    assert.ok(ms < 15_000, `took ${ms} ms`)
    await waitFor(() => cluster!.queue() === '', 10_000, 'the stuck job to be cancelled')
    console.log(`  never-startable job failed in ${ms} ms`)
  } finally {
    p.remove()
  }
})

t('20 trivial jobs drain in seconds each, with one status query per tick for all of them', async () => {
  const root = mkdtempSync(join(tmpdir(), 'auton-slurm-drain-'))
  try {
    const ex = new SlurmExecutor({
      name: 'cluster', root, autonfile: join(root, 'autonfile.ts'), settings: { sbatch_args: [] },
      clientEnv: { ...process.env, ...env() },
    })
    const ac = new AbortController()
    setMaxListeners(100, ac.signal) // one listener per running job, as with the engine's -j 20
    const N = 20
    const t0 = Date.now()
    await Promise.all(Array.from({ length: N }, (_, i) => {
      const n = fakeNode(`t${i}`, `echo ${i} > out/t${i}.txt`, [`out/t${i}.txt`])
      return ex.run(n, fakeCtx(n, root, ac.signal))
    }))
    const ms = Date.now() - t0
    await ex.close()
    for (let i = 0; i < N; i++) assert.is(readFileSync(join(root, `out/t${i}.txt`), 'utf8'), `${i}\n`)
    // one squeue per tick for the whole run: about one a second, not one per job per tick
    assert.ok(ex.queries <= ms / 1000 + 5, `${ex.queries} status queries in ${ms} ms`)
    assert.not.ok(existsSync(join(root, '.auton/staging', ex.runId)))
    console.log(`  ${N} trivial jobs (in-process executor) drained in ${ms} ms with ${ex.queries} squeue calls`)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

t('20 trivial cluster targets through auton build -j 20', async () => {
  const decls = Array.from({ length: 20 }, (_, i) =>
    `target('t${i}', { outputs: ['out/t${i}.txt'], executor: 'cluster', run: sh\`echo ${i} > out/t${i}.txt\` })`).join('\n')
  const p = new Project({ 'autonfile.ts': `import { target, sh } from 'auton'\n${decls}\ntarget('all', { inputs: [${Array.from({ length: 20 }, (_, i) => `'out/t${i}.txt'`).join(', ')}] })\n`, 'auton.toml': TOML })
  try {
    const t0 = Date.now()
    const r = await build(p, ['-j', '20', 'all'], 120_000)
    const ms = Date.now() - t0
    assert.is(r.code, 0, show(r))
    assert.is(r.with('ran').length, 20)
    console.log(`  20 trivial cluster targets: auton build -j 20 took ${ms} ms`)
  } finally {
    p.remove()
  }
})

t('the pipeline trains on the cluster (smoke preset) and the x86_64 kernel boots with that model', async () => {
  // a copy of this repository, as test/rules/pipeline.test.ts makes one
  const p = Project.copyOfRepo((t) =>
    t.replace(/preset = "micro"/, 'preset = "smoke"\nexecutor = "cluster"\nresources = { cpus = 2, mem = "1G", time = "10m" }') +
    '\n[executors.cluster]\nkind = "slurm"\n')
  try {
    const t0 = Date.now()
    const r = await p.run(['build', '--json', 'qemu-boot-report-x86_64'], { env: env(), timeoutMs: 900_000 })
    const ms = Date.now() - t0
    assert.is(r.code, 0, r.stderr + r.stdout.slice(-3000))
    assert.ok(r.with('ran').includes('checkpoint'), r.with('ran').join(' '))
    const log = p.read('.auton/logs/checkpoint.log')
    assert.match(log, /# slurm: job \d+ \(auton-\w+\) on cluster: sbatch --cpus-per-task=2 --mem=1G --time=10/)
    assert.match(log, /# slurm: job \d+ COMPLETED/)
    assert.match(log, /auton:progress \{"step"/) // the trainer's own progress lines, tailed from the job
    assert.ok(p.exists('SLM/models/smoke/model.safetensors') && p.exists('SLM/models/smoke/train_log.jsonl'))
    const report = JSON.parse(p.read('reports/qemu-boot-x86_64.json'))
    assert.ok(report.allMatchHost, 'the kernel answers like the host with the model trained on the cluster')
    console.log(`  pipeline to the x86_64 boot report with training on the cluster: ${ms} ms`)
    // the key does not depend on the executor: a local build trains nothing
    const local = await p.run(['build', '--json', '--executor', 'local', 'qemu-boot-report-x86_64'], { env: env(), timeoutMs: 120_000 })
    assert.is(local.code, 0, local.stderr)
    assert.is(local.summary!.ran, 0, local.with('ran').join(' '))
  } finally {
    p.remove()
  }
})

t.run()

// ── the pieces, without a cluster ──────────────────────────────────────────────────────
const u = suite('SLURM executor pieces')

u('resources map to sbatch flags; bad values are refused with what to write', () => {
  assert.equal(resourceArgs({ cpus: 16, mem: '32G', gpus: 1, time: '2h' }), ['--cpus-per-task=16', '--mem=32G', '--gpus=1', '--time=120'])
  assert.equal(resourceArgs({ mem: '500' }), ['--mem=500M'])
  assert.equal(resourceArgs({}), [])
  assert.is(slurmTime('30m'), '30')
  assert.is(slurmTime('90s'), '2')
  assert.is(slurmTime('1d'), '1440')
  assert.is(slurmTime('01:30:00'), '01:30:00')
  assert.is(slurmTime('2-12'), '2-12')
  assert.throws(() => resourceArgs({ cpus: 0 }), /positive integer/)
  assert.throws(() => resourceArgs({ mem: 'lots' }), /'500M' or '32G'/)
  assert.throws(() => slurmTime('soon'), /'30m', '2h'/)
})

u('the staging farm: output ancestors are real dirs, everything else links into the project, outputs absent', () => {
  const root = mkdtempSync(join(tmpdir(), 'auton-farm-'))
  try {
    for (const f of ['src/a.c', 'out/old.txt', 'out/sub/keep.txt', 'out/x.txt', 'README']) {
      mkdirSync(dirname(join(root, f)), { recursive: true })
      writeFileSync(join(root, f), f)
    }
    mkdirSync(join(root, '.auton'))
    const farm = join(root, '.auton/staging/r/t')
    makeFarm(root, farm, ['out/x.txt', 'out/new/deep.bin', 'top.txt'])
    assert.ok(lstatSync(join(farm, 'out')).isDirectory() && !lstatSync(join(farm, 'out')).isSymbolicLink())
    assert.ok(lstatSync(join(farm, 'out/new')).isDirectory(), 'an ancestor the project lacks is made')
    assert.is(readlinkSync(join(farm, 'src')), join(root, 'src'))
    assert.is(readlinkSync(join(farm, 'out/old.txt')), join(root, 'out/old.txt'))
    assert.is(readlinkSync(join(farm, 'out/sub')), join(root, 'out/sub'))
    assert.not.ok(existsSync(join(farm, 'out/x.txt')), 'a declared output starts absent')
    assert.not.ok(existsSync(join(farm, '.auton')), 'build state is left out')
    writeFileSync(join(farm, 'out/x.txt'), 'new x')
    mkdirSync(join(farm, 'out/new'), { recursive: true })
    writeFileSync(join(farm, 'out/new/deep.bin'), 'deep')
    writeFileSync(join(farm, 'top.txt'), 'top')
    moveOutputs(farm, root, ['out/x.txt', 'out/new/deep.bin', 'top.txt'])
    assert.is(readFileSync(join(root, 'out/x.txt'), 'utf8'), 'new x')
    assert.is(readFileSync(join(root, 'out/new/deep.bin'), 'utf8'), 'deep')
    assert.is(readFileSync(join(root, 'src/a.c'), 'utf8'), 'src/a.c', 'sources untouched')
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

u.run()

function fakeNode(name: string, text: string, outputs: string[]): Node {
  return {
    name, deps: [], sources: [], upstreamFiles: [],
    decl: { name, inputs: [], outputs, recipe: shellCommand(text), pool: undefined, env: [], passEnv: [], secrets: [], executor: 'cluster', resources: {}, retries: 0, params: {}, tools: [], depfile: undefined, isDefault: false, description: undefined, site: 'test' },
  } as unknown as Node
}

function fakeCtx(n: Node, root: string, signal: AbortSignal): RecipeContext {
  return {
    name: n.name, cwd: root, inputs: [], outputs: n.decl.outputs, params: {}, env: { PATH: process.env.PATH! },
    config: {} as AutonConfig, signal, log: () => {}, progress: () => {}, budget: createBudget(undefined),
  }
}

