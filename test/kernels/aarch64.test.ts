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
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { type Arch } from '../../kernels/tools/kbuild.ts'
import {
  bootAndExpect, bootKernel, buildBringup, buildTestKernels, expectModelLessShell, expectQueryLikeHost,
  expectTinyModelBoot, type TestKernels,
} from '../helpers/kernel-boot.ts'

const ARCH: Arch = 'aarch64'
const dir = mkdtempSync(path.join(tmpdir(), `auton-${ARCH}-`))
let k: TestKernels
let bringup = ''

test.before(async () => {
  k = await buildTestKernels(ARCH, dir)
  bringup = buildBringup(ARCH, dir)
})

test.after(() => rmSync(dir, { recursive: true, force: true }))

const boot = (kernel: string, machine?: string) => bootKernel(ARCH, kernel, machine)

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
  const s = boot(k.elves.plain)
  try {
    await bootAndExpect(s, [/auton kernel \(aarch64\)/, /SLM: no embedded model/, /PCI 00:01\.0 8086:10d3 Ethernet controller/, /auton> /])
    assert.ok(s.elapsed() < 5000, `boot to prompt took ${s.elapsed()} ms`)
    await expectModelLessShell(s)
    assert.match(await s.command('lspci'), /00:00\.0 1b36:0008 Host bridge/)
    assert.is(await s.poweroff(), 0) // PSCI SYSTEM_OFF: QEMU exits cleanly
  } finally {
    await s.kill()
  }
})

test('`trap` (brk) prints the exception and the registers, then powers off', async () => {
  const s = boot(k.elves.plain)
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
  const s = boot(k.elves.tiny)
  try {
    await expectTinyModelBoot(s, k.tinyModel)
    await s.waitFor(/auton> /, 20_000)
    await expectQueryLikeHost(s, k)
    // The NEON dot products equal the portable reference bit for bit, in the kernel itself.
    assert.match(await s.command('slm check', { timeoutMs: 20_000 }), /slm check: \d+ dot products bit-identical across portable neon; using neon/)
    assert.is(await s.poweroff(), 0)
  } finally {
    await s.kill()
  }
})

test.run()
