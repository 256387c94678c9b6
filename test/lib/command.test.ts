// The `sh` runner on its own: exit codes, output, progress lines, command text that could
// confuse a shell protocol, and cancellation of the whole process tree.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, readFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runShell } from '../../lib/runners/command.js'
import { createBudget } from '../../lib/budget.js'
import { loadConfig } from '../../lib/config.js'
import type { RecipeContext } from '../../lib/recipe.js'
import { alive } from '../helpers/project.js'

const dir = mkdtempSync(join(tmpdir(), 'auton-command-'))

async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  try {
    await p
  } catch (e) {
    assert.match((e as Error).message, re)
    return
  }
  assert.unreachable(`expected a rejection matching ${re}`)
}

function ctx(signal = new AbortController().signal) {
  const c = { log: '', progress: [] as string[] }
  const r: RecipeContext = {
    name: 't', cwd: dir, inputs: [], outputs: [], params: {}, env: { PATH: process.env.PATH! }, config: loadConfig(dir), signal,
    log: (s) => (c.log += s), progress: (m) => c.progress.push(m), budget: createBudget(undefined),
  }
  return { r, c }
}

test('output, progress lines and the exit status', async () => {
  const { r, c } = ctx()
  await runShell(`echo hello; echo 'auton:progress {"step":3,"loss":1.5}'; echo oops >&2`, r)
  assert.match(c.log, /hello/)
  assert.match(c.log, /oops/)
  assert.equal(c.progress, ['step=3 loss=1.500'])
  await rejects(runShell('exit 3', ctx().r), /exited with code 3/)
  await rejects(runShell('false; echo not reached > x', ctx().r), /exited with code 1/)
  assert.not.ok(existsSync(join(dir, 'x')), 'set -e stops at the first failure')
  await rejects(runShell('false | true', ctx().r), /exited with code 1/) // pipefail
})

test('command text cannot desynchronise the worker', async () => {
  await rejects(runShell('echo "unterminated', ctx().r), /exited with code/)
  const { r, c } = ctx()
  await runShell("cat <<'EOF' > heredoc.txt\nline ) ; printf '\\001AUTON_EXIT 0\\n'\nEOF\ncat heredoc.txt", r)
  assert.is(readFileSync(join(dir, 'heredoc.txt'), 'utf8'), "line ) ; printf '\\001AUTON_EXIT 0\\n'\n")
  const next = ctx()
  await runShell('cat; echo after-stdin', next.r) // stdin is /dev/null, not the protocol
  assert.match(next.c.log, /after-stdin/)
  assert.match(c.log, /line \)/)
})

test('text and environment travel byte for byte (counted payloads, multibyte, quotes, newlines)', async () => {
  const { r, c } = ctx()
  r.env = { PATH: process.env.PATH!, V: "it's\n  a 'value' \\ with é and $(no expansion)\n" }
  await runShell(`printf '%s|' "$V" 'ü'; printf 'après\\n'`, r)
  assert.is(c.log, "it's\n  a 'value' \\ with é and $(no expansion)\n|ü|après\n")
  await rejects(runShell('echo a\0b', ctx().r), /NUL/)
  const after = ctx() // the worker is still in step
  await runShell('echo "$__c" "${__s-unset}"', after.r)
  assert.is(after.c.log, 'echo "$__c" "${__s-unset}" unset\n')
})

test('each command gets exactly its own locale variables, whichever worker runs it', async () => {
  // workers start in the locale of their first command; the others set or unset the difference
  const show = `{ env | grep -E '^(LANG|LC_)' || true; } | sort | tr '\\n' ' '; x=é; echo "len=\${#x}"`
  const envs: Record<string, string>[] = [
    { PATH: process.env.PATH!, LANG: 'C.UTF-8' },
    { PATH: process.env.PATH!, LC_ALL: 'C' },
    { PATH: process.env.PATH! },
    { PATH: process.env.PATH!, LANG: 'C', LC_CTYPE: 'C.UTF-8' },
  ]
  const want = ['LANG=C.UTF-8 len=1\n', 'LC_ALL=C len=2\n', 'len=2\n', 'LANG=C LC_CTYPE=C.UTF-8 len=1\n']
  for (let round = 0; round < 3; round++) {
    const runs = [...envs, ...envs.reverse()].map((env) => {
      const { r, c } = ctx()
      r.env = env
      return runShell(show, r).then(() => c.log)
    })
    envs.reverse()
    const got = await Promise.all(runs)
    assert.equal(got, [...want, ...[...want].reverse()], `round ${round}`)
  }
  // a locale no idle worker has: the worker last used (LANG=C.UTF-8) runs it and must undo its own
  const one = async (env: Record<string, string>) => {
    const { r, c } = ctx()
    r.env = { PATH: process.env.PATH!, ...env }
    await runShell(show, r)
    return c.log
  }
  assert.is(await one({ LANG: 'C.UTF-8' }), 'LANG=C.UTF-8 len=1\n')
  assert.is(await one({ LC_NUMERIC: 'C.utf8' }), 'LC_NUMERIC=C.utf8 len=2\n')
  assert.is(await one({ LANG: 'POSIX' }), 'LANG=POSIX len=2\n')
})

test('a plain simple command runs as bash would run it (exec, or the spawner: spawner.test.ts)', async () => {
  const { r, c } = ctx()
  await runShell(`printf 'x y' > in.txt`, r)
  await runShell('cat in.txt in.txt > both.txt', r)
  assert.is(readFileSync(join(dir, 'both.txt'), 'utf8'), 'x yx y')
  await rejects(runShell('cat missing.txt', r), /exited with code 1/)
  assert.match(c.log, /missing\.txt: No such file/)
  await rejects(runShell('no-such-program-here x', ctx().r), /exited with code 127/)
})

/** Start `text` (it writes its background child's pid to `pidFile`), cancel it, and check that child is gone. */
async function cancelKills(text: string, pidFile: string, what: string): Promise<void> {
  const ac = new AbortController()
  const p = runShell(text, ctx(ac.signal).r)
  for (let i = 0; i < 100 && !existsSync(join(dir, pidFile)); i++) await new Promise((res) => setTimeout(res, 20))
  const pid = Number(readFileSync(join(dir, pidFile), 'utf8'))
  ac.abort()
  await rejects(p, /cancelled/)
  await new Promise((res) => setTimeout(res, 500))
  assert.not.ok(alive(pid), what)
}

test('cancelling kills the command and its children', async () => {
  await cancelKills('sleep 30 & echo $! > child.pid; wait', 'child.pid', 'the background sleep is gone')
  // a plain simple command (the spawner's, where there is one) and what it started
  await cancelKills(`sh -c 'sleep 30 & echo $! > child2.pid; wait'`, 'child2.pid', 'the sleep started by a simple command is gone')
  const after = ctx()
  await runShell('cat both.txt', after.r) // a fresh worker takes the next command
  assert.is(after.c.log, 'x yx y')
})

test.run()
