// Builds the x86_64 kernel and boots it under QEMU (TCG): banner, shell commands, the
// model-less and corrupt-model boots, the trap handler, and a tiny random-weight model that
// must answer exactly as the host build of the same inference core (slm-run) does.
// Objects are compiled once and linked three times; each boot takes a second or two.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { REPO_ROOT, archBuild, buildKernel } from '../../kernels/tools/kbuild.js'
import { QemuSession } from '../../kernels/tools/qemu.js'
import { buildGguf } from '../../SLM/tools/export.js'
import { writeGguf } from '../../SLM/tools/gguf-write.js'
import { TINY_CONFIG, tinyTensors, tinyTokenizerJson } from '../helpers/tiny-model.js'

const dir = mkdtempSync(path.join(tmpdir(), 'auton-x86-'))
const b = archBuild('x86_64')
const qemu = b.qemu
const corrupt = Buffer.concat([Buffer.from('GGUF'), Buffer.from([3, 0, 0, 0]), Buffer.alloc(200, 0xab)])
const tinyModel = path.join(dir, 'tiny-q8_0.gguf')
const slmRun = path.join(dir, 'slm-run')
let elves: Record<string, string> = {}

test.before(async () => {
  writeFileSync(path.join(dir, 'corrupt.gguf'), corrupt)
  await writeGguf(tinyModel, buildGguf(TINY_CONFIG, tinyTokenizerJson(), tinyTensors(), 'q8_0'))
  const r = await buildKernel({
    arch: 'x86_64', outDir: path.join(dir, 'k'),
    models: { plain: '', corrupt: path.join(dir, 'corrupt.gguf'), tiny: tinyModel },
  })
  elves = r.elves
  // The host build of the same core: kernel-only files (libc replacements, shell, boot) left out.
  const kernelOnly = ['kmain.c', 'kmodel.c', 'mem.c', 'palloc.c', 'pci.c', 'printf.c', 'shell.c', 'string.c']
  const core = b.commonSources.filter((f) => !kernelOnly.includes(path.basename(f)))
  execFileSync('gcc', ['-O2', '-ffp-contract=off', '-Ikernels/common', 'kernels/host/slm-run.c', ...core, '-lm', '-o', slmRun],
    { cwd: REPO_ROOT, stdio: 'pipe' })
})

test.after(() => rmSync(dir, { recursive: true, force: true }))

function boot(kernel: string): QemuSession {
  return QemuSession.start({ binary: qemu.binary, args: qemu.args, kernel })
}

test('model-less kernel boots to the shell; help, mem, lspci and errors work', async () => {
  const s = boot(elves.plain)
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
  const s = boot(elves.plain)
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
  const s = boot(elves.corrupt)
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
  const s = boot(elves.plain)
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
  const s = boot(elves.tiny)
  try {
    await s.waitFor(new RegExp(`SLM: Loading embedded model \\(${statSync(tinyModel).size} bytes\\)`), 10_000)
    await s.waitFor(/SLM: model tiny-test: llama, Q8_0, \d+ parameters/, 5000)
    await s.waitFor(/SLM: Neural backend ready/, 5000)
    const pci = await s.waitFor(/PCI 00:03\.0 8086:10d3 Ethernet controller \| model: (.*)\n/, 20_000)
    await s.waitFor(/auton> /, 20_000)

    const prompt = 'PCI device 8086:10d3 is'
    const out = await s.command(`slm query "${prompt}" 12`, { timeoutMs: 20_000 })
    const m = /^PCI device 8086:10d3 is(.*)\n\((\d+) prompt \+ (\d+) generated tokens in ([\d.]+) s: ([\d.]+) tokens\/s\)/.exec(out)
    assert.ok(m, `query output:\n${out}`)
    const [, completion, , generated, secs] = m!
    assert.ok(Number(generated) >= 1 && Number(generated) <= 12, out)
    assert.ok(Number(secs) < 5, `answered in ${secs} s under TCG; the budget is 5 s`)
    // The boot-time description asked the same greedy question (with a longer cap; control
    // characters shown as '?').
    const shown = completion.trimStart().replace(/[\x00-\x1f\x7f]/g, '?')
    assert.ok(pci[1].startsWith(shown), `boot said ${JSON.stringify(pci[1])}, query said ${JSON.stringify(shown)}`)

    // Same core on the host: the kernel's text must be the start of the host's completion.
    const host = execFileSync(slmRun, [tinyModel, '--prompt', prompt, '--n', '12', '--greedy'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    const visible = (t: string) => t.replace(/[^\x20-\x7e]/g, '')
    assert.ok(visible(completion).length > 0, 'kernel produced visible text')
    assert.ok(visible(host).startsWith(visible(completion)), `kernel ${JSON.stringify(completion)} vs host ${JSON.stringify(host)}`)

    assert.match(await s.command('slm info'), /SLM: dim 64, layers 2, heads 4 \(kv 2\), ffn 128, vocab 300/)
    assert.is(await s.poweroff(), 0)
  } finally {
    await s.kill()
  }
})

test.run()
