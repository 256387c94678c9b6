// slurm.ts — a real single-node SLURM cluster on 127.0.0.1 for tests.
//
// Debian packages: slurm-wlm slurmctld slurmd slurm-client munge (scripts/setup.sh). There is
// no systemd here: start() runs munged (as user munge, /run/munge owned by munge) unless one
// already answers, then `slurmctld -D -f` and `slurmd -D -f` as our children, with every
// state, spool, log and pid path in one temp dir, and waits until `sinfo` says the node is
// idle. stop() ends each daemon by its own PID. Client commands (sbatch, squeue, scancel) find
// this cluster through SLURM_CONF: pass `cluster.env` to whatever runs them.
//
// The settings that work in this sandbox (found the hard way): proctrack/linuxproc and
// task/none (the cgroup plugins fail here), cons_tres with CR_Core_Memory and DefMemPerCPU
// (else one job takes the whole node), EnforcePartLimits=ALL (else an impossible request
// pends forever), and a GPU backed by File=/dev/null (a count-only GPU marks the node invalid).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chownSync } from 'node:fs'
import { createServer } from 'node:net'
import { hostname, tmpdir, availableParallelism } from 'node:os'
import { join } from 'node:path'

export interface ClusterOptions {
  /** CPUs of the one node (default: this machine's). */
  cpus?: number
  /** MB of memory the node offers (default 4000). */
  memMb?: number
}

export class SlurmCluster {
  private constructor(
    readonly dir: string,
    readonly node: string,
    readonly cpus: number,
    private daemons: { name: string; child: ChildProcess }[],
  ) {}

  /** The environment client commands need (SLURM_CONF). */
  get env(): Record<string, string> {
    return { SLURM_CONF: join(this.dir, 'slurm.conf') }
  }

  static async start(opts: ClusterOptions = {}): Promise<SlurmCluster> {
    for (const bin of ['munged', 'slurmctld', 'slurmd', 'sbatch', 'sinfo']) {
      if (spawnSync('sh', ['-c', `command -v ${bin} || test -x /usr/sbin/${bin}`]).status !== 0) {
        throw new Error(`SLURM test cluster: '${bin}' is not installed (run scripts/setup.sh: slurm-wlm slurmctld slurmd slurm-client munge)`)
      }
    }
    if (process.getuid?.() !== 0) throw new Error('SLURM test cluster: slurmd must run as root here (SlurmUser=root)')
    const dir = mkdtempSync(join(tmpdir(), 'auton-slurm-'))
    for (const d of ['state', 'spool']) mkdirSync(join(dir, d))
    const node = hostname().split('.')[0]
    const cpus = opts.cpus ?? availableParallelism()
    const [ctldPort, dPort] = [await freePort(), await freePort()]
    const conf = `# written by test/helpers/slurm.ts
ClusterName=auton-test
SlurmctldHost=${node}(127.0.0.1)
SlurmctldPort=${ctldPort}
SlurmdPort=${dPort}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=${dir}/state
SlurmdSpoolDir=${dir}/spool
SlurmctldPidFile=${dir}/slurmctld.pid
SlurmdPidFile=${dir}/slurmd.pid
SlurmctldLogFile=${dir}/slurmctld.log
SlurmdLogFile=${dir}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=500
EnforcePartLimits=ALL
GresTypes=gpu
MpiDefault=none
ReturnToService=2
KillWait=5
MinJobAge=300
SchedulerParameters=sched_interval=1
NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${opts.memMb ?? 4000} Gres=gpu:1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
`
    writeFileSync(join(dir, 'slurm.conf'), conf)
    writeFileSync(join(dir, 'gres.conf'), `Name=gpu File=/dev/null\n`)
    const daemons: { name: string; child: ChildProcess }[] = []
    const cluster = new SlurmCluster(dir, node, cpus, daemons)
    try {
      const munged = startMunge(dir)
      if (munged) daemons.push({ name: 'munged', child: munged })
      await waitUntil(() => spawnSync('sh', ['-c', 'munge -n | unmunge']).status === 0, 5000, 'munged to answer', dir)
      const env = { ...process.env, SLURM_CONF: join(dir, 'slurm.conf') }
      daemons.push({ name: 'slurmctld', child: daemon('slurmctld', ['-D', '-i', '-f', join(dir, 'slurm.conf')], env, dir) })
      daemons.push({ name: 'slurmd', child: daemon('slurmd', ['-D', '-N', node, '-f', join(dir, 'slurm.conf')], env, dir) })
      await waitUntil(() => {
        for (const d of daemons) if (d.child.exitCode !== null) throw new Error(`${d.name} exited with ${d.child.exitCode}`)
        const r = spawnSync('sinfo', ['-h', '-N', '-o', '%T'], { env, encoding: 'utf8' })
        return r.status === 0 && r.stdout.trim() === 'idle'
      }, 20_000, `sinfo to report node ${node} idle`, dir)
    } catch (e) {
      await cluster.stop()
      throw e
    }
    return cluster
  }

  /** `squeue` for this cluster: the jobs in the default states (pending, running, completing …). */
  queue(): string {
    const r = spawnSync('squeue', ['-h', '-o', '%i %j %T'], { env: { ...process.env, ...this.env }, encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`squeue failed: ${r.stderr}`)
    return r.stdout.trim()
  }

  /** Every job the controller still remembers, with its state: "id name state" lines. */
  allJobs(): string[] {
    const r = spawnSync('squeue', ['-h', '--states=all', '-o', '%i %j %T'], { env: { ...process.env, ...this.env }, encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`squeue failed: ${r.stderr}`)
    return r.stdout.trim().split('\n').filter(Boolean)
  }

  /** Stop each daemon by its PID (SIGTERM, then SIGKILL), then remove the temp dir. */
  async stop(): Promise<void> {
    for (const d of [...this.daemons].reverse()) {
      const c = d.child
      if (c.exitCode !== null || c.signalCode !== null) continue
      const gone = new Promise<void>((r) => c.once('exit', () => r()))
      c.kill('SIGTERM')
      const t = setTimeout(() => c.kill('SIGKILL'), 5000)
      await gone
      clearTimeout(t)
    }
    this.daemons.length = 0
    rmSync(this.dir, { recursive: true, force: true })
  }

  /** The daemons' logs, for a failure message. */
  logs(): string {
    return logsOf(this.dir)
  }
}

/** munged as user munge in the foreground, unless one already answers on /run/munge. */
function startMunge(dir: string): ChildProcess | undefined {
  if (spawnSync('sh', ['-c', 'munge -n | unmunge']).status === 0) return undefined
  const id = (flag: string) => Number(spawnSync('id', [flag, 'munge'], { encoding: 'utf8' }).stdout.trim())
  const [uid, gid] = [id('-u'), id('-g')]
  if (!Number.isInteger(uid) || !existsSync('/etc/munge/munge.key')) {
    throw new Error('SLURM test cluster: munge is not set up (no user munge or no /etc/munge/munge.key; install the munge package)')
  }
  mkdirSync('/run/munge', { recursive: true })
  chownSync('/run/munge', uid, gid)
  rmSync('/run/munge/munge.socket.2', { force: true })
  rmSync('/run/munge/munge.socket.2.lock', { force: true })
  return daemon('/usr/sbin/munged', ['-F', '--log-file', join(dir, 'munged.log'), '--force'], process.env, dir, { uid, gid })
}

function daemon(bin: string, args: string[], env: NodeJS.ProcessEnv, dir: string, ids: { uid?: number; gid?: number } = {}): ChildProcess {
  const name = bin.split('/').pop()!
  const child = spawn(bin.includes('/') ? bin : `/usr/sbin/${bin}`, args, { env, stdio: ['ignore', 'ignore', 'pipe'], ...ids })
  let err = ''
  child.stderr!.on('data', (d: Buffer) => {
    err += d
    if (err.length > 20_000) err = err.slice(-10_000)
  })
  child.on('exit', () => {
    try {
      writeFileSync(join(dir, `${name}.stderr`), err)
    } catch {
      // the dir is gone: stop() ran
    }
  })
  return child
}

async function waitUntil(cond: () => boolean, ms: number, what: string, dir: string): Promise<void> {
  const end = Date.now() + ms
  for (;;) {
    let ok = false
    try {
      ok = cond()
    } catch (e) {
      throw new Error(`SLURM test cluster: ${(e as Error).message} while waiting for ${what}\n${logsOf(dir)}`)
    }
    if (ok) return
    if (Date.now() > end) throw new Error(`SLURM test cluster: timed out after ${ms} ms waiting for ${what}\n${logsOf(dir)}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

function logsOf(dir: string): string {
  const out: string[] = []
  for (const f of ['munged.log', 'slurmctld.log', 'slurmd.log', 'munged.stderr', 'slurmctld.stderr', 'slurmd.stderr']) {
    const p = join(dir, f)
    if (existsSync(p)) out.push(`── ${f}\n${readFileSync(p, 'utf8').split('\n').slice(-30).join('\n')}`)
  }
  return out.join('\n')
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}
