// server.test.ts — `auton build` through the checkout's build server (lib/server/): the same
// results as a build in its own process, for every kind of change the server must notice.
// Real temp projects, real client and server processes, real inotify.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { AUTON, Project, show, waitFor, alive, type RunResult } from '../helpers/project.js'

const test = suite('build server')

// sockets and logs of this file's servers live in a directory of their own
const runtime = mkdtempSync(join(tmpdir(), 'auton-server-test-'))
const serverDir = join(runtime, `auton-${userInfo().uid}`)
const viaServer = { CI: undefined, AUTON_NO_SERVER: undefined, XDG_RUNTIME_DIR: runtime, AUTON_SERVER_IDLE: '60' }

/** Every request any server of this file answered, in order ("build --json → 0 in 3.1 ms"). */
function served(): string[] {
  if (!existsSync(serverDir)) return []
  return readdirSync(serverDir).filter((f) => f.endsWith('.log'))
    .flatMap((f) => readFileSync(join(serverDir, f), 'utf8').split('\n').filter((l) => l.includes(' → ')))
}

function logs(): string {
  if (!existsSync(serverDir)) return ''
  return readdirSync(serverDir).filter((f) => f.endsWith('.log')).map((f) => readFileSync(join(serverDir, f), 'utf8')).join('\n')
}

function serverPids(): number[] {
  if (!existsSync(serverDir)) return []
  return readdirSync(serverDir).filter((f) => f.endsWith('.log'))
    .flatMap((f) => [...readFileSync(join(serverDir, f), 'utf8').matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1])))
    .filter(alive)
}

/** `auton build --json …` through the server; fails if no server answered it. */
async function sbuild(p: Project, ...args: string[]): Promise<RunResult> {
  const before = served().length
  const r = await p.run(['build', '--json', ...args], { env: viaServer })
  assert.ok(served().length > before, `the build did not go through the server:\n${show(r)}`)
  return r
}

/** Targets the build made again: ran, or restored from the local cache (cache/). */
const built = (r: RunResult) => [...r.with('ran'), ...r.with('restored')].sort()

const SRC = `import { target, sh, fn } from 'auton'
import { greet } from './helpers/greet.ts'

const words = target('words', {
  inputs: ['src/*.txt'],
  outputs: ['out/words.txt'],
  run: sh\`cat src/*.txt > out/words.txt\`,
})
target('count', {
  inputs: [words],
  outputs: ['out/count.txt'],
  run: sh\`wc -w < \${words} > out/count.txt\`,
})
target('hello', {
  outputs: ['out/hello.txt'],
  run: fn(async (ctx) => { (await import('node:fs')).writeFileSync('out/hello.txt', greet('server') + '\\n') }),
})
target('greeting', {
  outputs: ['out/greeting.txt'],
  env: ['GREETING'],
  run: sh\`echo "$(printenv GREETING) x$(printenv UNDECLARED)" > out/greeting.txt\`,
})
target('all', { inputs: ['out/count.txt', 'out/hello.txt', 'out/greeting.txt'], default: true })
`

function project(): Project {
  return new Project({
    'autonfile.ts': SRC,
    'helpers/greet.ts': `import { mark } from './mark.ts'\nexport const greet = (who: string) => \`hello \${who}\${mark}\`\n`,
    'helpers/mark.ts': `export const mark = '!'\n`,
    'src/a.txt': 'one two\n',
    'src/b.txt': 'three\n',
  })
}

test('a no-op answers from the server; edits, touches and new glob matches are seen', async () => {
  const p = project()
  try {
    let r = await sbuild(p)
    assert.is(r.code, 0, show(r))
    assert.equal(built(r), ['count', 'greeting', 'hello', 'words'])
    r = await sbuild(p)
    assert.equal(built(r), [], show(r))
    assert.equal(r.with('up-to-date'), ['all', 'count', 'greeting', 'hello', 'words'], 'the server lists every target, as a build without it does')

    p.write('src/b.txt', 'three four\n') // an edit
    r = await sbuild(p)
    assert.equal(built(r), ['count', 'words'], show(r))
    assert.is(p.read('out/count.txt').trim(), '4')

    p.touch('src/a.txt') // same bytes
    r = await sbuild(p)
    assert.equal(built(r), [], show(r))

    p.write('src/c.txt', 'five\n') // a new file the glob matches: the graph is reloaded
    r = await sbuild(p)
    assert.equal(built(r), ['count', 'words'], show(r))
    assert.is(p.read('out/count.txt').trim(), '5')

    rmSync(p.path('src/c.txt'))
    r = await sbuild(p)
    assert.equal(built(r), ['count', 'words'], show(r))
    assert.is(p.read('out/count.txt').trim(), '4')
  } finally {
    p.remove()
  }
})

test('the autonfile, a module it imports and a module that one imports rerun what they define', async () => {
  const p = project()
  try {
    assert.is((await sbuild(p)).code, 0)
    p.write('helpers/mark.ts', `export const mark = '?'\n`) // two imports away from the autonfile
    let r = await sbuild(p)
    assert.equal(built(r), ['hello'], show(r))
    assert.is(p.read('out/hello.txt'), 'hello server?\n')

    p.write('autonfile.ts', SRC.replace('wc -w <', 'wc -w  <')) // the command text
    r = await sbuild(p)
    assert.equal(built(r), ['count', 'hello'], show(r)) // hello's function is defined in the autonfile

    p.write('autonfile.ts', SRC.replace("inputs: ['src/*.txt']", "inputs: ['src/*.txt', 'missing.txt']"))
    r = await p.run(['build', '--json'], { env: viaServer })
    const alone = await p.run(['build', '--json', '--no-server'], { env: viaServer })
    assert.is(r.code, 1, show(r))
    assert.is(r.stderr, alone.stderr, 'a load error reads the same with and without the server')
    assert.match(r.stderr, /missing\.txt/)
    p.write('autonfile.ts', SRC)
    r = await sbuild(p)
    assert.is(r.code, 0, show(r))
  } finally {
    p.remove()
  }
})

test('a file the autonfile reads while loading (also an input) reloads the graph when it changes', async () => {
  const p = project()
  try {
    p.write('settings.json', '{"size": 3}\n')
    p.write('autonfile.ts', SRC + `import { readFileSync } from 'node:fs'
const size = JSON.parse(readFileSync('settings.json', 'utf8')).size
target('sized', { inputs: ['settings.json'], outputs: ['out/sized.txt'], params: { size }, run: sh\`echo \${size} > out/sized.txt\` })\n`)
    let r = await sbuild(p, 'sized')
    assert.is(p.read('out/sized.txt'), '3\n', show(r))
    p.write('settings.json', '{"size": 4}\n')
    r = await sbuild(p, 'sized')
    assert.equal(built(r), ['sized'], show(r))
    assert.is(p.read('out/sized.txt'), '4\n', 'the param comes from the file as it is now, not as it was loaded')
  } finally {
    p.remove()
  }
})

test('outputs deleted or modified outside the build are rebuilt', async () => {
  const p = project()
  try {
    assert.is((await sbuild(p)).code, 0)
    rmSync(p.path('out/words.txt'))
    let r = await sbuild(p)
    assert.equal(built(r), ['words'], show(r)) // same bytes again: count stays (early cutoff)
    p.write('out/count.txt', '999\n')
    r = await sbuild(p)
    assert.equal(built(r), ['count'], show(r))
    assert.is(p.read('out/count.txt').trim(), '3')
    rmSync(p.path('out'), { recursive: true })
    r = await sbuild(p)
    assert.equal(built(r), ['count', 'greeting', 'hello', 'words'], show(r))

    // a whole output directory moved away, then another put in its place, one file edited
    renameSync(p.path('out'), p.path('saved'))
    r = await sbuild(p)
    assert.equal(built(r), ['count', 'greeting', 'hello', 'words'], show(r))
    p.write('saved/hello.txt', 'edited\n')
    rmSync(p.path('out'), { recursive: true })
    renameSync(p.path('saved'), p.path('out'))
    r = await sbuild(p)
    assert.equal(built(r), ['hello'], show(r))
    assert.is(p.read('out/hello.txt'), 'hello server!\n')
  } finally {
    p.remove()
  }
})

test('the client environment is the build environment: declared vars rerun, undeclared ones never reach', async () => {
  const p = project()
  try {
    const env = async (extra: Record<string, string | undefined>) => {
      const before = served().length
      const r = await p.run(['build', '--json', 'greeting'], { env: { ...viaServer, ...extra } })
      assert.ok(served().length > before, `not through the server:\n${show(r)}`)
      return r
    }
    let r = await env({ GREETING: 'hi', UNDECLARED: 'leak' })
    assert.is(p.read('out/greeting.txt'), 'hi x\n', show(r))
    r = await env({ GREETING: 'hi', UNDECLARED: 'other' })
    assert.equal(built(r), [], show(r))
    r = await env({ GREETING: 'hey' })
    assert.equal(built(r), ['greeting'], show(r))
    assert.is(p.read('out/greeting.txt'), 'hey x\n')
  } finally {
    p.remove()
  }
})

test("recipes get the client's umask", async () => {
  const p = project()
  try {
    const mode = async (umask: string) => {
      rmSync(p.path('out/words.txt'), { force: true })
      const r = spawnSync('sh', ['-c', `umask ${umask} && exec "$0" "$@"`, process.execPath, AUTON, 'build', 'words', '--no-cache'], {
        cwd: p.dir, env: { ...process.env, ...viaServer, CI: '' }, encoding: 'utf8',
      })
      assert.is(r.status, 0, r.stdout + r.stderr)
      return statSync(p.path('out/words.txt')).mode & 0o777
    }
    assert.is(await mode('022'), 0o644)
    assert.is(await mode('077'), 0o600)
  } finally {
    p.remove()
  }
})

test('another process changing the journal (a --no-server build, rm -rf .auton) is noticed', async () => {
  const p = project()
  try {
    assert.is((await sbuild(p)).code, 0)
    p.write('src/a.txt', 'uno\n')
    let r = await p.run(['build', '--json', '--no-server'], { env: viaServer })
    assert.equal(built(r), ['count', 'words'], show(r))
    r = await sbuild(p)
    assert.equal(built(r), [], show(r))
    rmSync(p.path('.auton'), { recursive: true })
    r = await sbuild(p)
    assert.equal(built(r), ['count', 'greeting', 'hello', 'words'], show(r))
    rmSync(p.path('.auton'), { recursive: true }) // the cookie's directory, made again by the last build
    r = await sbuild(p)
    assert.equal(built(r), ['count', 'greeting', 'hello', 'words'], show(r))
    assert.not.ok(served().length && logs().includes('did not answer'), 'the watcher still answers once .auton/ is made again')
  } finally {
    p.remove()
  }
})

test('directory inputs and outputs: a file added inside, or changed inside an output, reruns the target', async () => {
  const p = project()
  try {
    p.write('data/one.txt', '1\n')
    p.write('autonfile.ts', SRC + `target('pack', { inputs: ['data'], outputs: ['out/pack.txt'], run: sh\`cat data/*.txt > out/pack.txt\` })
target('tree', { outputs: ['out/tree'], run: sh\`mkdir -p out/tree/sub && echo a > out/tree/sub/a.txt\` })\n`)
    let r = await sbuild(p, 'pack', 'tree')
    assert.equal(built(r), ['pack', 'tree'], show(r))
    r = await sbuild(p, 'pack', 'tree')
    assert.equal(built(r), [], show(r))
    p.write('data/two.txt', '2\n')
    r = await sbuild(p, 'pack', 'tree')
    assert.equal(built(r), ['pack'], show(r))
    assert.is(p.read('out/pack.txt'), '1\n2\n')
    p.write('out/tree/sub/a.txt', 'tampered\n')
    r = await sbuild(p, 'pack', 'tree')
    assert.equal(built(r), ['tree'], show(r))
    assert.is(p.read('out/tree/sub/a.txt'), 'a\n')
    // a directory holding a file input moved away: no event names the file itself
    p.write('autonfile.ts', p.read('autonfile.ts') + `target('one', { inputs: ['data/one.txt'], outputs: ['out/one.txt'], run: sh\`cp data/one.txt out/one.txt\` })\n`)
    assert.is((await sbuild(p, 'one')).code, 0)
    renameSync(p.path('data'), p.path('data-moved'))
    const movedServer = await p.run(['build', '--json', 'one'], { env: viaServer })
    const movedAlone = await p.run(['build', '--json', 'one', '--no-server'], { env: viaServer })
    assert.is(movedServer.code, 1, show(movedServer))
    assert.is(movedServer.stderr, movedAlone.stderr)
    renameSync(p.path('data-moved'), p.path('data'))
    rmSync(p.path('data'), { recursive: true })
    r = await p.run(['build', '--json', 'pack'], { env: viaServer })
    const alone = await p.run(['build', '--json', 'pack', '--no-server'], { env: viaServer })
    assert.is(r.code, 1, show(r))
    assert.is(r.stderr, alone.stderr, 'a missing input directory reads the same with and without the server')
  } finally {
    p.remove()
  }
})

test('an input behind a symlink is checked on every build (the watcher does not see behind it)', async () => {
  const p = project()
  const outside = mkdtempSync(join(tmpdir(), 'auton-outside-'))
  try {
    writeFileSync(join(outside, 'x.txt'), 'x\n')
    symlinkSync(outside, p.path('linked'))
    p.write('autonfile.ts', SRC + `target('linked-copy', { inputs: ['linked/x.txt'], outputs: ['out/x.txt'], run: sh\`cp linked/x.txt out/x.txt\` })\n`)
    let r = await sbuild(p, 'linked-copy')
    assert.equal(built(r), ['linked-copy'], show(r))
    r = await sbuild(p, 'linked-copy')
    assert.equal(built(r), [], show(r))
    writeFileSync(join(outside, 'x.txt'), 'y\n')
    r = await sbuild(p, 'linked-copy')
    assert.equal(built(r), ['linked-copy'], show(r))
    assert.is(p.read('out/x.txt'), 'y\n')
  } finally {
    p.remove()
    rmSync(outside, { recursive: true, force: true })
  }
})

test('a killed server is replaced; a failing recipe fails the same way; Ctrl-C stops the recipe', async () => {
  const p = project()
  try {
    assert.is((await sbuild(p)).code, 0)
    for (const pid of serverPids()) process.kill(pid, 'SIGKILL')
    p.write('src/a.txt', 'eins\n')
    let r = await sbuild(p)
    assert.equal(built(r), ['count', 'words'], show(r))

    p.write('autonfile.ts', SRC + `target('bad', { outputs: ['out/bad.txt'], run: sh\`echo oops; exit 3\` })\n`)
    r = await sbuild(p, 'bad')
    assert.is(r.code, 1, show(r))
    assert.match(r.stdout, /exited with code 3/)

    p.write('autonfile.ts', SRC + `target('slow', { outputs: ['out/slow.txt'], run: sh\`echo started > out/started; sleep 30; echo done > out/slow.txt\` })\n`)
    const child = p.spawn(['build', 'slow'], { env: viaServer })
    let stderr = ''
    child.stderr!.on('data', (d) => (stderr += d))
    await waitFor(() => p.exists('out/started'), 15_000, 'the slow recipe to start')
    const code = new Promise<number | null>((res) => child.on('close', (c) => res(c)))
    child.kill('SIGINT')
    assert.is(await code, 130, stderr)
    assert.not.ok(p.exists('out/slow.txt'))
    const after = await sbuild(p, '-n', 'slow')
    assert.equal(after.with('would-run'), ['slow'], 'an interrupted target is not trusted')
  } finally {
    p.remove()
  }
})

test('while one build runs, another client builds in its own process: the lock reports it, -n answers at once', async () => {
  const p = project()
  try {
    p.write('autonfile.ts', SRC + `target('slow', { outputs: ['out/slow.txt'], run: sh\`touch out/started; sleep 10; echo done > out/slow.txt\` })\n`)
    assert.is((await sbuild(p, 'words')).code, 0)
    const slow = p.run(['build', 'slow'], { env: viaServer })
    await waitFor(() => p.exists('out/started'), 15_000, 'the slow recipe to start')
    const dry = await p.run(['build', '--json', '-n', 'words'], { env: viaServer })
    assert.is(dry.code, 0, show(dry))
    assert.equal(dry.with('up-to-date'), ['words'])
    const second = await p.run(['build', 'words'], { env: viaServer })
    assert.is(second.code, 1, show(second))
    assert.match(second.stderr, /another auton \(pid \d+\) is building/)
    assert.not.ok(p.exists('out/slow.txt'), 'neither waited for the running build')
    const first = await slow
    assert.is(first.code, 0, show(first))
    assert.ok(p.exists('out/slow.txt'))
  } finally {
    p.remove()
  }
})

test.after(() => {
  for (const pid of serverPids()) process.kill(pid, 'SIGTERM')
  rmSync(runtime, { recursive: true, force: true })
})

test.run()
