// The QEMU driver's guarantees: timeouts reject with the transcript and QEMU is dead
// afterwards; an abort signal kills it; a crash (QEMU cannot start) is reported clearly.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { archBuild, buildKernel } from '../../../kernels/tools/kbuild.js'
import { QemuSession, bootScript } from '../../../kernels/tools/qemu.js'

const dir = mkdtempSync(path.join(tmpdir(), 'auton-qemu-'))
const qemu = archBuild('x86_64').qemu
let elf = ''

test.before(async () => { elf = (await buildKernel({ arch: 'x86_64', outDir: dir })).elf })
test.after(() => rmSync(dir, { recursive: true, force: true }))

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true } catch { return false }
}

test('waitFor timeout rejects with the transcript and kills QEMU', async () => {
  const s = QemuSession.start({ binary: qemu.binary, args: qemu.args, kernel: elf })
  const pid = (s as any).child.pid as number
  await s.waitFor(/auton> /, 10_000)
  const err = await s.waitFor(/this never appears/, 800).then(() => null, (e) => e)
  assert.ok(err, 'waitFor must reject')
  assert.match(err.message, /timed out after 800 ms waiting for \/this never appears\//)
  assert.match(err.message, /auton> /) // the transcript tail is in the message
  await s.kill()
  assert.is(s.running, false)
  assert.is(alive(pid), false)
})

test('abort signal kills QEMU and rejects the pending wait', async () => {
  const ac = new AbortController()
  const s = QemuSession.start({ binary: qemu.binary, args: qemu.args, kernel: elf, signal: ac.signal })
  const pending = s.waitFor(/never/, 30_000).then(() => null, (e) => e)
  setTimeout(() => ac.abort(), 300)
  const err = await pending
  assert.match(err?.message ?? '', /aborted/)
  await s.kill()
  assert.is(s.running, false)
})

test('a QEMU that cannot start is reported, not hung on', async () => {
  const s = QemuSession.start({ binary: qemu.binary, args: ['-machine', 'no-such-machine'], kernel: elf })
  const err = await s.waitFor(/auton> /, 10_000).then(() => null, (e) => e)
  assert.match(err?.message ?? '', /QEMU (exited|already exited)/)
  assert.match(s.stderr, /unsupported machine type/)
})

test('bootScript runs the steps, powers off and reports timings', async () => {
  const r = await bootScript({
    binary: qemu.binary, args: qemu.args, kernel: elf,
    steps: [{ expect: /auton> / }, { send: 'mem', expect: /pages: \d+ total/ }],
  })
  assert.is(r.exitCode, 0)
  assert.is(r.stepMs.length, 2)
  assert.ok(r.stepMs[0] > 0 && r.stepMs[1] >= r.stepMs[0])
  assert.match(r.transcript, /auton> mem\n/)
})

test('bootScript rejects when a step fails and leaves no QEMU behind', async () => {
  const err = await bootScript({
    binary: qemu.binary, args: qemu.args, kernel: elf,
    steps: [{ expect: /auton> / }, { send: 'help', expect: /not in the help text/, timeoutMs: 700 }],
  }).then(() => null, (e) => e)
  assert.match(err?.message ?? '', /timed out after 700 ms/)
})

test.run()
