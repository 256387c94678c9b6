// The spawner (plain simple commands without a shell) against bash: the same commands, run
// once by each in a process of their own (AUTON_SPAWNER=0 turns the spawner off), must give
// the same status, the same output and the same files.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { simpleCommand } from '../../lib/runners/simple-command.js'
import { spawnerBinary } from '../../lib/runners/spawner.js'

test('what counts as one plain simple command, and how it is split', () => {
  assert.equal(simpleCommand('cat a b > out'), { argv: ['cat', 'a', 'b'], redirects: [{ fd: 1, op: '>', target: 'out' }] })
  assert.equal(simpleCommand("cat 'a b; c' x'y z' >out 2>&1\n"), {
    argv: ['cat', 'a b; c', 'xy z'],
    redirects: [{ fd: 1, op: '>', target: 'out' }, { fd: 2, op: '>&', target: '1' }],
  })
  assert.equal(simpleCommand('./run.sh --flag=1 <in 2>>err a2>b'), {
    argv: ['./run.sh', '--flag=1', 'a2'],
    redirects: [{ fd: 0, op: '<', target: 'in' }, { fd: 2, op: '>>', target: 'err' }, { fd: 1, op: '>', target: 'b' }],
  })
  assert.equal(simpleCommand("'cat' '3'>x")?.argv, ['cat', '3'], 'quoted digits are a word, not a descriptor')
  for (const t of [
    'echo hi', "'echo' hi", 'CC=gcc make', 'a && b', 'cat $X', 'cat <<EOF', '-x', 'cat a | b', 'time cat', 'cat *.txt',
    'f; g', 'cat "a"', '{ cat; }', 'cat a # c', 'cat 3>x', 'cat 12>x', 'cat >>&2', 'cat <&0', 'cat 2>&-', "cat > ''",
    'cat >', "cat 'open", 'cat ~/x', 'cat a\nb', 'cat >|x', 'cat &>x', '', '%1',
  ]) assert.is(simpleCommand(t), undefined, JSON.stringify(t))
  assert.is(simpleCommand('cat' + ' >x'.repeat(64))?.redirects.length, 64)
  assert.is(simpleCommand('cat' + ' >x'.repeat(65)), undefined, "more redirections than the spawner takes: bash's")
})

/** Commands, and for those that fail before their program runs, what both messages must say (the wording may differ). */
const cases: [string, RegExp?][] = [
  ["printf 'x y' > in.txt"],
  ['cat in.txt in.txt > both.txt'],
  ['cat in.txt >> both.txt'],
  ['cat missing.txt'],
  ['cat < missing.txt', /missing\.txt: No such file or directory/],
  ['cat in.txt > no/such/dir/out.txt', /no\/such\/dir\/out\.txt: No such file or directory/],
  ['no-such-program-here x', /no-such-program-here: (command )?not found/],
  ['no-such-program-here > made-anyway.txt', /not found/], // bash opens the file first
  ['cat < missing.txt > never-made.txt', /missing\.txt: No such file or directory/], // and stops at the first failure
  ['./not-executable.sh', /not-executable\.sh: Permission denied/],
  ['./', /Is a directory/],
  ['./no-shebang.sh'],
  ['sh -c "exit 3"'],
  ["sh -c 'exit 3'"],
  ["sh -c 'kill -TERM $$'", /^Terminated\n$/],
  ["sh -c 'echo out; echo err >&2' 2>&1 > mixed.txt"],
  ["sh -c 'echo out; echo err >&2' > both-streams.txt 2>&1"],
  ["sh -c 'read x; echo \"stdin=[$x]\"'"],
  ['env > env.txt'],
  ["sh -c 'umask' > umask.txt"],
  ["sh -c 'pwd' > pwd.txt"],
  ["stat -c '%a' in.txt"],
  ['stat -L -c %i /proc/self/fd/1 /proc/self/fd/2', /^(\d+)\n\1\n$/], // stdout and stderr are one pipe
]

/** Run every case through runCommand in a process of its own; what each gave, and the files it left. */
interface Result {
  text: string
  code: number
  out: string
}

function runAll(spawner: boolean): { results: Result[]; files: string } {
  const dir = mkdtempSync(join(tmpdir(), 'auton-spawner-'))
  writeFileSync(join(dir, 'not-executable.sh'), '#!/bin/sh\necho no\n')
  writeFileSync(join(dir, 'no-shebang.sh'), 'echo "a script without #!: $0"\n')
  chmodSync(join(dir, 'no-shebang.sh'), 0o755)
  const src = fileURLToPath(new URL('../../lib/runners/shell-pool.ts', import.meta.url))
  const script = `
    const { runCommand } = await import(${JSON.stringify(src)})
    process.umask(0o027)
    const env = { PATH: process.env.PATH, HOME: '/nowhere', LANG: 'C.UTF-8', V: "it's" }
    const results = []
    for (const text of ${JSON.stringify(cases.map(([c]) => c))}) {
      let out = ''
      const code = await runCommand(${JSON.stringify(dir)}, text, (s) => (out += s), env).done
      results.push({ text, code, out: out.replaceAll(${JSON.stringify(dir)}, '.') })
    }
    const { execSync } = await import('node:child_process')
    const kinds = execSync('ps -o comm= --ppid ' + process.pid).toString().split('\\n').filter(Boolean).map((c) => c.replace(/-[0-9a-f]+$/, '')).sort()
    console.log(JSON.stringify({ results, kinds }))
    process.exit(0)
  `
  const env = { ...process.env, AUTON_SPAWNER: spawner ? '1' : '0' }
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env, encoding: 'utf8' })
  assert.is(child.status, 0, child.stderr)
  const got = JSON.parse(child.stdout) as { results: Result[]; kinds: string[] }
  assert.equal(got.kinds.includes('spawner'), spawner, `workers: ${got.kinds.join(' ')}`)
  // env's order is each runner's own; the set of variables is what must agree
  const list = 'for f in $(ls | sort); do echo "== $f $(stat -c %a $f)"; if [ $f = env.txt ]; then sort $f; else cat $f; fi; done'
  const files = spawnSync('sh', ['-c', list], { cwd: dir, encoding: 'utf8' }).stdout
  return { results: got.results, files: files.replaceAll(dir, 'DIR') }
}

const hasSpawner = spawnerBinary() !== undefined

;(hasSpawner ? test : test.skip)('the spawner and bash give the same status, output and files', () => {
  const bash = runAll(false)
  const spawned = runAll(true)
  cases.forEach(([text, message], i) => {
    const [b, s] = [bash.results[i], spawned.results[i]]
    assert.is(s.code, b.code, text)
    if (!message) assert.is(s.out, b.out, text)
    else for (const r of [b, s]) assert.match(r.out, message, `${text}: ${r.out}`)
  })
  assert.is(spawned.files, bash.files)
  // and the cases do what they say (a check that both got wrong the same way would pass above)
  const code = (text: string) => bash.results.find((r) => r.text === text)!
  assert.is(code('no-such-program-here x').code, 127)
  assert.is(code('cat < missing.txt').code, 1)
  assert.is(code('./not-executable.sh').code, 126)
  assert.is(code("sh -c 'kill -TERM $$'").code, 143)
  assert.is(code('./no-shebang.sh').out, 'a script without #!: ./no-shebang.sh\n')
  assert.is(code("sh -c 'read x; echo \"stdin=[$x]\"'").out, 'stdin=[]\n')
  assert.match(bash.files, /== made-anyway\.txt 640\n/)
  assert.not.match(bash.files, /never-made/)
  assert.match(bash.files, /== umask\.txt 640\n0027\n/)
  assert.match(bash.files, /== mixed\.txt 640\nout\n/)
  assert.match(bash.files, /== both-streams\.txt 640\nout\nerr\n/)
  const envTxt = bash.files.split('== env.txt')[1].split('\n==')[0]
  assert.equal(envTxt.trim().split('\n').slice(1).map((l) => l.split('=')[0]), ['HOME', 'LANG', 'PATH', 'PWD', 'SHLVL', 'V'])
  assert.match(envTxt, /\nPWD=DIR\nSHLVL=1\nV=it's$/)
})

;(hasSpawner ? test : test.skip)('a spawner removed from the cache while auton runs is built again when the next one starts', () => {
  const cacheHome = mkdtempSync(join(tmpdir(), 'auton-xdg-'))
  const src = fileURLToPath(new URL('../../lib/runners/shell-pool.ts', import.meta.url))
  const script = `
    const { runCommand } = await import(${JSON.stringify(src)})
    const { readdirSync, rmSync } = await import('node:fs')
    const env = { PATH: process.env.PATH }
    const run = (text) => runCommand(${JSON.stringify(tmpdir())}, text, () => {}, env).done
    const first = await run('cat /dev/null')
    const built = readdirSync(${JSON.stringify(join(cacheHome, 'auton'))})
    rmSync(${JSON.stringify(join(cacheHome, 'auton'))}, { recursive: true })
    // two at once: the idle spawner takes one, a new one (from a rebuilt binary) the other
    const both = await Promise.all([run("sh -c 'sleep 0.2'"), run("sh -c 'sleep 0.2'")])
    console.log(JSON.stringify({ first, built, both, again: readdirSync(${JSON.stringify(join(cacheHome, 'auton'))}) }))
    process.exit(0)
  `
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, XDG_CACHE_HOME: cacheHome }, encoding: 'utf8',
  })
  assert.is(child.status, 0, child.stderr)
  const got = JSON.parse(child.stdout) as { first: number; built: string[]; both: number[]; again: string[] }
  assert.is(got.first, 0)
  assert.equal(got.both, [0, 0])
  assert.equal(got.built.length, 1)
  assert.match(got.built[0], new RegExp(`^spawner-[0-9a-f]{16}-${process.arch}$`))
  assert.equal(got.again, got.built)
})

test.run()
