// nginx.ts — a real nginx with WebDAV PUT on 127.0.0.1, as a Bazel HTTP cache for tests.
//
// Debian packages: nginx (its core http_dav_module gives PUT). The config, pid, logs,
// temp files and the served data all live in one temp dir; nginx runs in the foreground
// as our child (`-g 'daemon off;'`) and is killed by stop().

import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface NginxOptions {
  /** Require `Authorization: Bearer <token>` for every request. */
  token?: string
}

export class Nginx {
  readonly url: string

  private constructor(readonly dir: string, readonly port: number, private child: ChildProcess) {
    this.url = `http://127.0.0.1:${port}/cache`
  }

  /** Where the served tree lives: data/cache/ac/<key>, data/cache/cas/<sha>. */
  get data(): string {
    return join(this.dir, 'data', 'cache')
  }

  get pid(): number {
    return this.child.pid!
  }

  static async start(opts: NginxOptions = {}): Promise<Nginx> {
    const dir = mkdtempSync(join(tmpdir(), 'auton-nginx-'))
    for (const d of ['data/cache', 'tmp', 'logs']) mkdirSync(join(dir, d), { recursive: true })
    const port = await freePort()
    const auth = opts.token ? `if ($http_authorization != "Bearer ${opts.token}") { return 401; }` : ''
    const conf = `
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log;
events { worker_connections 128; }
http {
  access_log ${dir}/logs/access.log;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  client_max_body_size 0;
  server {
    listen 127.0.0.1:${port};
    root ${dir}/data;
    location /cache/ {
      ${auth}
      dav_methods PUT DELETE;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
    }
  }
}
`
    writeFileSync(join(dir, 'nginx.conf'), conf)
    const child = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir, '-g', 'daemon off;'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let err = ''
    child.stderr!.on('data', (d: Buffer) => (err += d))
    const end = Date.now() + 5000
    while (!(await canConnect(port))) {
      if (child.exitCode !== null || Date.now() > end) {
        child.kill('SIGKILL')
        const log = existsSync(join(dir, 'logs/error.log')) ? readFileSync(join(dir, 'logs/error.log'), 'utf8') : ''
        throw new Error(`nginx did not start on 127.0.0.1:${port} (is the Debian package 'nginx' installed?)\n${err}\n${log}`)
      }
      await new Promise((r) => setTimeout(r, 20))
    }
    return new Nginx(dir, port, child)
  }

  /** Lines of the access log: "METHOD /path STATUS". */
  requests(): string[] {
    const f = join(this.dir, 'logs/access.log')
    if (!existsSync(f)) return []
    return readFileSync(f, 'utf8')
      .split('\n')
      .map((l) => /"(\w+) (\S+) [^"]*" (\d+)/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => `${m[1]} ${m[2]} ${m[3]}`)
  }

  /** Stop the server (fast shutdown) and wait until the port refuses connections. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r))
      this.child.kill('SIGTERM')
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))])
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL')
    }
  }

  async remove(): Promise<void> {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port })
    sock.once('connect', () => {
      sock.destroy()
      resolve(true)
    })
    sock.once('error', () => resolve(false))
  })
}
