// aarch64.test.ts — the aarch64 port booted in real QEMU (virt, cortex-a57, TCG).
//
// A bring-up kernel (the port + kernels/aarch64/bringup/bringup_main.c, no common code)
// checks every platform.h function and the exception dump, at EL1 and entered at EL2.
// The real kernel (objects compiled once, linked without a model and with a tiny
// random-weight GGUF) boots to the shell, powers off through PSCI, dumps registers on
// `trap`, and answers `slm query` as the host build of the same core (slm-run) does.
// Every QEMU has a hard deadline and is killed in `finally`; each boot takes about a second.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { REPO_ROOT, archBuild, buildKernel, compileArgs, linkArgs, objectPath, type Arch } from '../../kernels/tools/kbuild.ts'
import { QemuSession } from '../../kernels/tools/qemu.ts'
import { buildGguf } from '../../SLM/tools/export.ts'
import { writeGguf } from '../../SLM/tools/gguf-write.ts'
import { TINY_CONFIG, tinyTensors, tinyTokenizerJson } from '../helpers/tiny-model.ts'

const ARCH: Arch = 'aarch64'
const b = archBuild(ARCH)
const dir = mkdtempSync(path.join(tmpdir(), `auton-${ARCH}-`))
const tinyModel = path.join(dir, 'tiny-q8_0.gguf')
const slmRun = path.join(dir, 'slm-run')
let elves: Record<string, string> = {}
let bringup = ''

/** The port's own sources + the bring-up main, linked without kernels/common. */
function buildBringup(): string {
  const out = path.join(dir, 'bringup')
  const objs = [...b.archSources, 'kernels/aarch64/bringup/bringup_main.c'].map((src) => {
    const obj = objectPath(src, out)
    mkdirSync(path.dirname(obj), { recursive: true })
    const [cc, ...args] = compileArgs(b, src, obj)
    execFileSync(cc, args, { cwd: REPO_ROOT, stdio: 'pipe' })
    return obj
  })
  const [cc, ...args] = linkArgs(b, objs, `${out}/bringup.elf`)
  execFileSync(cc, args, { cwd: REPO_ROOT, stdio: 'pipe' })
  return `${out}/bringup.elf`
}

test.before(async () => {
  await writeGguf(tinyModel, buildGguf(TINY_CONFIG, tinyTokenizerJson(), tinyTensors(), 'q8_0'))
  const r = await buildKernel({ arch: ARCH, outDir: path.join(dir, 'k'), models: { plain: '', tiny: tinyModel } })
  elves = r.elves
  bringup = buildBringup()
  // The host build of the same core, as in x86_64.test.ts.
  const kernelOnly = ['kmain.c', 'kmodel.c', 'mem.c', 'palloc.c', 'pci.c', 'printf.c', 'shell.c', 'string.c']
  const core = b.commonSources.filter((f) => !kernelOnly.includes(path.basename(f)))
  execFileSync('gcc', ['-O2', '-ffp-contract=off', '-Ikernels/common', 'kernels/host/slm-run.c', ...core, '-lm', '-o', slmRun],
    { cwd: REPO_ROOT, stdio: 'pipe' })
})

test.after(() => rmSync(dir, { recursive: true, force: true }))

/** Boots with kbuild's QEMU arguments for this arch; `machine` replaces the -M value. */
function boot(kernel: string, machine?: string): QemuSession {
  const args = [...b.qemu.args]
  if (machine) args[args.indexOf('-M') + 1] = machine
  return QemuSession.start({ binary: b.qemu.binary, args, kernel })
}

test('bring-up: memory from the DTB, PCI via ECAM, FP, unaligned access, timer, PSCI off', async () => {
  const s = boot(bringup)
  try {
    await s.waitFor(/key> /, 10_000)
    const t = s.transcript
    assert.match(t, 'bringup: arch aarch64')
    // 256 MiB at 0x40000000, less the 2 MiB below the image (the DTB) and the image itself
    assert.match(t, /mem: 0x000000004[0-9a-f]{7} len 25[0-3] MiB/)
    assert.match(t, 'pci: 00:0 0x0000000000081b36') // QEMU's host bridge 1b36:0008
    assert.match(t, 'pci: 00:1 0x0000000010d38086') // -device e1000e, 8086:10d3
    assert.match(t, 'float: 3375')
    assert.match(t, 'unaligned: 0x0000000005040302') // needs the MMU on (Normal memory)
    const ns = Number(/time: (\d+) ns/.exec(t)![1])
    assert.ok(ns > 0 && ns < 1e9, `plat_time_ns advanced ${ns} ns`)
    assert.is(await s.poweroff('x'), 0) // one key, then plat_poweroff()
    assert.match(s.transcript, 'got x\npoweroff\n')
  } finally {
    await s.kill()
  }
})

test('bring-up: a data abort prints ESR/ELR/FAR and the registers, then powers off', async () => {
  const s = boot(bringup)
  try {
    await s.waitFor(/key> /, 10_000)
    s.send('t') // the bring-up main then stores to 0xdead0000
    await s.waitFor(/PANIC: synchronous from EL1 exception: data abort\n/, 5000)
    await s.waitFor(/ESR=0x0000000096[0-9a-f]{6} ELR=0x000000004[0-9a-f]{7} FAR=0x00000000dead0000\n/, 5000)
    await s.waitFor(/x28=0x[0-9a-f]{16} x29=0x[0-9a-f]{16} x30=0x[0-9a-f]{16}\n/, 5000)
    assert.match(s.transcript, /x0 =0x00000000dead0000/)
    assert.is(await s.poweroff('', 5000), 0) // the handler powered off by itself
  } finally {
    await s.kill()
  }
})

test('bring-up: entered at EL2 (virtualization=on) it drops to EL1 and powers off via smc', async () => {
  const s = boot(bringup, 'virt,virtualization=on')
  try {
    await s.waitFor(/key> /, 10_000)
    assert.match(s.transcript, 'float: 3375') // CPACR_EL1 set after the drop
    s.send('t')
    await s.waitFor(/PANIC: synchronous from EL1 exception: data abort\n/, 5000) // we run at EL1
    assert.is(await s.poweroff('', 5000), 0) // the DTB names smc for PSCI here
  } finally {
    await s.kill()
  }
})

test('kernel without a model: banner, help, mem, lspci, poweroff', async () => {
  const s = boot(elves.plain)
  try {
    await s.waitFor(/auton kernel \(aarch64\)/, 10_000)
    await s.waitFor(/SLM: no embedded model/, 5000)
    await s.waitFor(/PCI 00:01\.0 8086:10d3 Ethernet controller/, 5000)
    await s.waitFor(/auton> /, 5000)
    assert.ok(s.elapsed() < 5000, `boot to prompt took ${s.elapsed()} ms`)
    const help = await s.command('help')
    for (const c of ['help', 'mem', 'lspci', 'slm query', 'poweroff']) assert.ok(help.includes(c), `help lists ${c}:\n${help}`)
    const mem = await s.command('mem')
    const m = /pages: (\d+) total, (\d+) free/.exec(mem)
    assert.ok(m && Number(m[1]) > 60000 && Number(m[1]) < 65536, mem) // most of 256 MiB
    assert.match(await s.command('lspci'), /00:00\.0 1b36:0008 Host bridge/)
    assert.is(await s.poweroff(), 0) // PSCI SYSTEM_OFF: QEMU exits cleanly
  } finally {
    await s.kill()
  }
})

test('`trap` (brk) prints the exception and the registers, then powers off', async () => {
  const s = boot(elves.plain)
  try {
    await s.waitFor(/auton> /, 10_000)
    s.send('trap')
    await s.waitFor(/PANIC: synchronous from EL1 exception: BRK\n/, 5000)
    await s.waitFor(/ESR=0x00000000f2[0-9a-f]{6} ELR=0x000000004[0-9a-f]{7} FAR=/, 5000)
    await s.waitFor(/x30=0x[0-9a-f]{16}\n/, 5000)
    assert.is(await s.poweroff('', 5000), 0)
  } finally {
    await s.kill()
  }
})

test('embedded model loads and answers like the host build', async () => {
  const s = boot(elves.tiny)
  try {
    await s.waitFor(new RegExp(`SLM: Loading embedded model \\(${statSync(tinyModel).size} bytes\\)`), 10_000)
    await s.waitFor(/SLM: model tiny-test: llama, Q8_0, \d+ parameters/, 5000)
    await s.waitFor(/SLM: Neural backend ready/, 5000)
    await s.waitFor(/auton> /, 20_000)
    const prompt = 'PCI device 8086:10d3 is'
    const out = await s.command(`slm query "${prompt}" 12`, { timeoutMs: 20_000 })
    const m = /^PCI device 8086:10d3 is(.*)\n\((\d+) prompt \+ (\d+) generated tokens in ([\d.]+) s/.exec(out)
    assert.ok(m, `query output:\n${out}`)
    const [, completion, , generated, secs] = m!
    assert.ok(Number(generated) >= 1 && Number(generated) <= 12, out)
    assert.ok(Number(secs) < 5, `answered in ${secs} s under TCG; the budget is 5 s`)
    const host = execFileSync(slmRun, [tinyModel, '--prompt', prompt, '--n', '12', '--greedy'], { encoding: 'utf8', stdio: 'pipe' })
    const visible = (t: string) => t.replace(/[^\x20-\x7e]/g, '')
    assert.ok(visible(completion).length > 0, 'kernel produced visible text')
    assert.ok(visible(host).startsWith(visible(completion)), `kernel ${JSON.stringify(completion)} vs host ${JSON.stringify(host)}`)
    assert.is(await s.poweroff(), 0)
  } finally {
    await s.kill()
  }
})

test.run()
