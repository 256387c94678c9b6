// Builds the x86_64 kernel and boots it under QEMU (TCG): banner, shell commands, the
// model-less and corrupt-model boots, the trap handler. Each boot takes about a second.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { archBuild, buildKernel } from '../../kernels/tools/kbuild.ts'
import { QemuSession } from '../../kernels/tools/qemu.ts'

const dir = mkdtempSync(path.join(tmpdir(), 'auton-x86-'))
const qemu = archBuild('x86_64').qemu
let plainElf = ''
let corruptElf = ''
const corrupt = Buffer.concat([Buffer.from('GGUF'), Buffer.from([3, 0, 0, 0]), Buffer.alloc(200, 0xab)])

test.before(async () => {
  plainElf = (await buildKernel({ arch: 'x86_64', outDir: path.join(dir, 'plain') })).elf
  writeFileSync(path.join(dir, 'corrupt.gguf'), corrupt)
  corruptElf = (await buildKernel({ arch: 'x86_64', outDir: path.join(dir, 'corrupt'), model: path.join(dir, 'corrupt.gguf') })).elf
})

test.after(() => rmSync(dir, { recursive: true, force: true }))

function boot(kernel: string): QemuSession {
  return QemuSession.start({ binary: qemu.binary, args: qemu.args, kernel })
}

test('model-less kernel boots to the shell; help, mem, lspci and errors work', async () => {
  const s = boot(plainElf)
  try {
    await s.waitFor(/auton kernel \(x86_64\)/, 10_000)
    await s.waitFor(/SLM: no embedded model/, 5000)
    await s.waitFor(/PCI 00:03\.0 8086:10d3 Ethernet controller/, 5000)
    await s.waitFor(/boot: shell ready \d+ ms/, 5000)
    await s.waitFor(/auton> /, 5000)

    const help = await s.command('help')
    for (const c of ['help', 'mem', 'lspci', 'slm info', 'slm query', 'poweroff']) assert.ok(help.includes(c), `help lists ${c}:\n${help}`)

    const mem = await s.command('mem')
    const m = /pages: (\d+) total, (\d+) free/.exec(mem)
    assert.ok(m, mem)
    // QEMU was given 256 MiB: the allocator must manage most of it, and have used only its bitmap
    assert.ok(Number(m![1]) > 60000 && Number(m![1]) < 65536, mem)
    assert.ok(Number(m![1]) - Number(m![2]) <= 4, mem)
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
  const s = boot(plainElf)
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
  const s = boot(corruptElf)
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
  const s = boot(plainElf)
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

test.run()
