// Builds the x86_64 kernel and boots it under QEMU (TCG): banner, shell commands, the
// model-less and corrupt-model boots, the trap handler, and a tiny random-weight model that
// must answer exactly as the host build of the same inference core (slm-run) does.
// Objects are compiled once and linked three times; each boot takes a second or two.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import {
  bootAndExpect, bootKernel, buildTestKernels, expectModelLessShell, expectQueryLikeHost, expectTinyModelBoot,
  type TestKernels,
} from '../helpers/kernel-boot.js'

const dir = mkdtempSync(path.join(tmpdir(), 'auton-x86-'))
const corrupt = Buffer.concat([Buffer.from('GGUF'), Buffer.from([3, 0, 0, 0]), Buffer.alloc(200, 0xab)])
let k: TestKernels

test.before(async () => {
  writeFileSync(path.join(dir, 'corrupt.gguf'), corrupt)
  k = await buildTestKernels('x86_64', dir, { corrupt: path.join(dir, 'corrupt.gguf') })
})

test.after(() => rmSync(dir, { recursive: true, force: true }))

const boot = (kernel: string) => bootKernel('x86_64', kernel)

test('model-less kernel boots to the shell; help, mem, lspci and errors work', async () => {
  const s = boot(k.elves.plain)
  try {
    await bootAndExpect(s, [/auton kernel \(x86_64\)/, /SLM: no embedded model/, /PCI 00:03\.0 8086:10d3 Ethernet controller/,
      /boot: shell ready \d+ ms/, /auton> /])

    const mem = await expectModelLessShell(s)
    // the allocator has used only its bitmap
    const m = /pages: (\d+) total, (\d+) free/.exec(mem)!
    assert.ok(Number(m[1]) - Number(m[2]) <= 4, mem)
    assert.match(mem, /embedded model 0 bytes/)

    assert.match(await s.command('lspci'), /8086:1237 Host bridge/)
    assert.match(await s.command('frobnicate now'), /error: unknown command 'frobnicate'/)
    assert.match(await s.command('slm query "PCI device'), /error: unterminated "/)
    assert.match(await s.command('slm query PCI device'), /error: usage: slm query "<prompt>"/)
    assert.match(await s.command('slm query "PCI device 8086:10d3 is"'), /error: no model loaded/)
    assert.match(await s.command('slm bogus'), /error: usage: slm info \| slm query/)
    assert.is(await s.poweroff(), 0) // ACPI shutdown: QEMU exits cleanly
  } finally {
    await s.kill()
  }
})

test('line editing: backspace and Ctrl-U edit the line before it runs', async () => {
  const s = boot(k.elves.plain)
  try {
    await s.waitFor(/auton> /, 10_000)
    // "hxlp" + backspace x3 + "elp" = "help"; Ctrl-U discards "garbage" first
    const out = await s.command('garbage\x15hxlp\x7f\x7f\x7felp')
    assert.match(out, /commands:/)
    assert.not.match(out, /unknown command/)
  } finally {
    await s.kill()
  }
})

test('corrupt embedded model is reported and the shell still comes up', async () => {
  const s = boot(k.elves.corrupt)
  try {
    await s.waitFor(new RegExp(`SLM: Loading embedded model \\(${corrupt.length} bytes\\)`), 10_000)
    await s.waitFor(/SLM: model rejected: \S.*/, 5000)
    await s.waitFor(/auton> /, 5000)
    assert.not.match(s.transcript, /Neural backend ready/)
    assert.match(await s.command('help'), /commands:/)
    assert.match(await s.command('slm info'), /error: no model loaded/)
  } finally {
    await s.kill()
  }
})

test('a CPU exception prints a register dump instead of resetting', async () => {
  const s = boot(k.elves.plain)
  try {
    await s.waitFor(/auton> /, 10_000)
    s.send('trap')
    await s.waitFor(/EXCEPTION 6: Invalid opcode .* at RIP=0x[0-9a-f]{16}/, 5000)
    await s.waitFor(/RAX=[0-9a-f]{16} RBX=/, 5000)
    await s.waitFor(/CR0=[0-9a-f]{16} CR2=/, 5000)
    assert.is(await s.poweroff('', 5000), 33) // isa-debug-exit(0x10) → (0x10 << 1) | 1
  } finally {
    await s.kill()
  }
})

test('embedded model loads, describes the e1000e and answers like the host build', async () => {
  const s = boot(k.elves.tiny)
  try {
    await expectTinyModelBoot(s, k.tinyModel)
    const pci = await s.waitFor(/PCI 00:03\.0 8086:10d3 Ethernet controller \| model: (.*)\n/, 20_000)
    await s.waitFor(/auton> /, 20_000)

    const completion = await expectQueryLikeHost(s, k)
    // The SSE2 dot products equal the portable reference bit for bit, in the kernel itself.
    assert.match(await s.command('slm check', { timeoutMs: 20_000 }), /slm check: \d+ dot products bit-identical across portable sse2; using sse2/)
    // The boot-time description asked the same greedy question (with a longer cap; control
    // characters shown as '?').
    const shown = completion.trimStart().replace(/[\x00-\x1f\x7f]/g, '?')
    assert.ok(pci[1].startsWith(shown), `boot said ${JSON.stringify(pci[1])}, query said ${JSON.stringify(shown)}`)

    assert.match(await s.command('slm info'), /SLM: dim 64, layers 2, heads 4 \(kv 2\), ffn 128, vocab 300/)
    assert.is(await s.poweroff(), 0)
  } finally {
    await s.kill()
  }
})

test.run()
