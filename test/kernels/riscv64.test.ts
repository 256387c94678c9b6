// riscv64.test.ts — the riscv64 port booted in real QEMU (virt, OpenSBI as -bios default).
//
// 1. A bring-up kernel (the port + kernels/aarch64/bringup/bringup_main.c, no common code)
//    checks every platform.h function and the trap dump.
// 2. The real kernel (kbuild) boots to the shell, answers `help` and `lspci`, powers off.
// 3. With the inference core present, a tiny GGUF embedded in the kernel loads and answers
//    `slm query`.
// Every QEMU gets a hard deadline and is killed in `finally`. OpenSBI reads one byte off
// the UART while it starts, so input is only typed once the kernel prompts for it.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import {
  REPO_ROOT, archBuild, buildKernel, compileArgs, linkArgs, objectPath, shellLine, type Arch,
} from '../../kernels/tools/kbuild.js'
import { riscv64Build as port } from '../../kernels/riscv64/build.js'

const ARCH: Arch = 'riscv64'
const tmp = mkdtempSync(path.join(tmpdir(), `auton-${ARCH}-`))
const rel = (p: string) => path.relative(REPO_ROOT, p) // kbuild paths are relative to the repo root

/** A QEMU whose serial console is our stdin/stdout. */
class Serial {
  out = ''
  readonly proc: ChildProcess
  readonly exit: Promise<number | null>
  constructor(argv: string[]) {
    this.proc = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] })
    this.proc.stdout!.on('data', (d) => (this.out += d))
    this.proc.stderr!.on('data', (d) => (this.out += d))
    this.exit = new Promise((resolve) => this.proc.on('exit', (code) => resolve(code)))
  }
  /** Resolves once the output after `from` matches; fails with the output so far. */
  async waitFor(re: RegExp, ms: number, from = 0): Promise<RegExpMatchArray> {
    const end = Date.now() + ms
    for (;;) {
      const m = this.out.slice(from).match(re)
      if (m) return m
      if (Date.now() > end || this.proc.exitCode !== null) {
        throw new Error(`no ${re} within ${ms} ms; serial output:\n${this.out}`)
      }
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  /** Types a line (the shell takes CR as Enter) and waits for the next prompt. */
  async command(line: string, ms = 5000): Promise<string> {
    const from = this.out.length
    this.proc.stdin!.write(line + '\r')
    await this.waitFor(/auton> $/, ms, from + line.length)
    return this.out.slice(from)
  }
  async exited(ms: number): Promise<number | null> {
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms))
    const code = await Promise.race([this.exit, timer])
    if (code === 'timeout') throw new Error(`QEMU still running ${ms} ms after poweroff; output:\n${this.out}`)
    return code
  }
  kill() {
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL')
  }
}

/** Boots with the port's QEMU arguments (kernels/riscv64/build.ts), `machine` replacing -M. */
function boot(elf: string, machine?: string[]): Serial {
  const args = [...port.qemu.args]
  if (machine) args.splice(args.indexOf('-M'), 2, ...machine)
  return new Serial([port.qemu.binary, ...args, '-serial', 'stdio', '-monitor', 'none', '-kernel', elf])
}

function run(argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0], argv.slice(1), { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    p.stdout.on('data', (d) => (out += d))
    p.stderr.on('data', (d) => (out += d))
    p.on('error', reject)
    p.on('close', (c) => (c === 0 ? resolve() : reject(new Error(`${shellLine(argv)} failed:\n${out}`))))
  })
}

/** The port's own sources + the bring-up main, linked without kernels/common. */
async function buildBringup(): Promise<string> {
  const b = archBuild(ARCH)
  const out = rel(path.join(tmp, 'bringup'))
  const objs: string[] = []
  for (const src of [...b.archSources, 'kernels/aarch64/bringup/bringup_main.c']) {
    const obj = objectPath(src, out)
    mkdirSync(path.join(REPO_ROOT, path.dirname(obj)), { recursive: true })
    await run(compileArgs(b, src, obj))
    objs.push(obj)
  }
  const elf = `${out}/bringup.elf`
  await run(linkArgs(b, objs, elf))
  return path.join(REPO_ROOT, elf)
}

let bringupElf: Promise<string> | undefined

test('bring-up: memory from the DTB, PCI via ECAM, FP, unaligned access, timer, SBI off', async () => {
  bringupElf ??= buildBringup()
  const q = boot(await bringupElf)
  try {
    await q.waitFor(/key> $/, 10_000)
    assert.match(q.out, 'bringup: arch riscv64')
    // 256 MiB at 0x80000000: above the image up to the DTB near the top, then past it
    assert.match(q.out, /mem: 0x000000008[0-9a-f]{7} len 2(4|5)\d MiB\r\nmem: 0x000000008f[0-9a-f]{6} len \d MiB/)
    assert.match(q.out, 'pci: 00:0 0x0000000000081b36') // QEMU's host bridge 1b36:0008
    assert.match(q.out, 'pci: 00:1 0x0000000010d38086') // -device e1000e, 8086:10d3
    assert.match(q.out, 'float: 3375')
    assert.match(q.out, 'unaligned: 0x0000000005040302')
    const ns = Number(q.out.match(/time: (\d+) ns/)![1])
    assert.ok(ns > 0 && ns < 1e9, `plat_time_ns advanced ${ns} ns`)
    q.proc.stdin!.write('x')
    await q.waitFor(/got x\r\npoweroff\r\n/, 5000)
    assert.is(await q.exited(5000), 0)
  } finally {
    q.kill()
  }
})

test('bring-up: a store access fault prints scause/sepc/stval and the registers, then powers off', async () => {
  bringupElf ??= buildBringup()
  const q = boot(await bringupElf)
  try {
    await q.waitFor(/key> $/, 10_000)
    q.proc.stdin!.write('t') // the bring-up main then stores to 0xdead0000
    await q.waitFor(/t4  =0x[0-9a-f]{16} t5  =0x[0-9a-f]{16} t6  =0x[0-9a-f]{16}\r\n/, 5000)
    assert.match(q.out, 'PANIC: trap: store access fault')
    assert.match(q.out, /scause=0x0000000000000007 sepc=0x00000000802[0-9a-f]{5} stval=0x00000000dead0000/)
    assert.match(q.out, /sp  =0x00000000803[0-9a-f]{5}/)
    assert.is(await q.exited(5000), 0)
  } finally {
    q.kill()
  }
})

test('kernel without a model: banner, help, lspci, poweroff', async () => {
  const built = await buildKernel({ arch: ARCH, outDir: rel(path.join(tmp, 'nomodel')) })
  const t0 = Date.now()
  const q = boot(path.join(REPO_ROOT, built.elf))
  try {
    await q.waitFor(/auton> $/, 10_000)
    const bootMs = Date.now() - t0
    assert.match(q.out, `auton kernel (${ARCH})`)
    assert.match(q.out, 'SLM: no embedded model')
    assert.ok(bootMs < 5000, `boot to prompt took ${bootMs} ms`)
    assert.match(await q.command('help'), 'slm query')
    assert.match(await q.command('lspci'), /00:01\.0 8086:10d3/)
    q.proc.stdin!.write('poweroff\r')
    assert.is(await q.exited(5000), 0)
  } finally {
    q.kill()
  }
})

test('kernel with an embedded tiny GGUF: the model loads and `slm query` answers', async () => {
  if (!archBuild(ARCH).slmCore) {
    console.log(`  (${ARCH}: kernels/common/slm.h not there yet; model boot skipped)`)
    return
  }
  const { TINY_CONFIG, tinyTokenizerJson, tinyTensors } = await import('../helpers/tiny-model.js')
  const { buildGguf } = await import('../../SLM/tools/export.js')
  const { encodeGguf } = await import('../../SLM/tools/gguf-write.js')
  const gguf = encodeGguf(buildGguf(TINY_CONFIG, tinyTokenizerJson(), tinyTensors(), 'q8_0'))
  const model = path.join(tmp, 'tiny-q8_0.gguf')
  writeFileSync(model, gguf)
  const built = await buildKernel({ arch: ARCH, outDir: rel(path.join(tmp, 'model')), model: rel(model) })
  const q = boot(path.join(REPO_ROOT, built.elf))
  try {
    await q.waitFor(/auton> $/, 15_000)
    assert.match(q.out, `SLM: Loading embedded model (${gguf.length} bytes)`)
    assert.match(q.out, 'SLM: Neural backend ready')
    const t0 = Date.now()
    const answer = await q.command('slm query "PCI device 8086:10d3 is" 8', 30_000)
    assert.not.match(answer, /error|PANIC/i)
    assert.ok(answer.split('\n').length > 2, `slm query printed an answer:\n${answer}`)
    console.log(`  (${ARCH}: slm query, 8 tokens of the tiny model: ${Date.now() - t0} ms)`)
    q.proc.stdin!.write('poweroff\r')
    assert.is(await q.exited(5000), 0)
  } finally {
    q.kill()
  }
})

test.after(() => rmSync(tmp, { recursive: true, force: true }))

test.run()
