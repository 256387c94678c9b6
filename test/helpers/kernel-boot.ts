// kernel-boot.ts — what test/kernels/<arch>.test.ts share: building the kernels (no model,
// a tiny random-weight GGUF), the bring-up kernel of the DTB ports, the host build of the
// same inference core (slm-run), booting in QEMU, and the checks every port must pass.
// Each arch test keeps only what is its own (PCI slot, trap dump, power-off path).

import * as assert from 'uvu/assert'
import { execFileSync } from 'node:child_process'
import { mkdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { REPO_ROOT, archBuild, buildKernel, compileArgs, linkArgs, objectPath, slmRunArgs, type Arch } from '../../kernels/tools/kbuild.js'
import { QemuSession } from '../../kernels/tools/qemu.js'
import { buildGguf } from '../../SLM/tools/export.js'
import { writeGguf } from '../../SLM/tools/gguf-write.js'
import { TINY_CONFIG, tinyTensors, tinyTokenizerJson } from './tiny-model.js'

export interface TestKernels {
  /** name → ELF: `plain` (no model), `tiny` (the tiny GGUF), and the extra models. */
  elves: Record<string, string>
  tinyModel: string
  /** The host build of the same core, to compare answers with. */
  slmRun: string
}

/** Builds in `dir`: the tiny Q8_0 GGUF, kernels `plain`, `tiny` and one per `extra` model
 *  (name → GGUF path; objects compiled once), and slm-run. */
export async function buildTestKernels(arch: Arch, dir: string, extra: Record<string, string> = {}): Promise<TestKernels> {
  const tinyModel = path.join(dir, 'tiny-q8_0.gguf')
  await writeGguf(tinyModel, buildGguf(TINY_CONFIG, tinyTokenizerJson(), tinyTensors(), 'q8_0'))
  const r = await buildKernel({ arch, outDir: path.join(dir, 'k'), models: { plain: '', ...extra, tiny: tinyModel } })
  return { elves: r.elves, tinyModel, slmRun: buildHostSlmRun(dir) }
}

/** slm-run in `dir`, built exactly as rules/kernel.ts's slmRun() target builds it. */
export function buildHostSlmRun(dir: string): string {
  const out = path.join(dir, 'slm-run')
  const [cc, ...args] = slmRunArgs(out)
  execFileSync(cc, args, { cwd: REPO_ROOT, stdio: 'pipe' })
  return out
}

/** A DTB port's own sources (kernels/fdt included) + kernels/aarch64/bringup/bringup_main.c,
 *  linked without kernels/services and kernels/inference: checks platform.h alone. Returns the ELF. */
export function buildBringup(arch: Arch, dir: string): string {
  const b = archBuild(arch)
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

/** Boots with kbuild's QEMU arguments for `arch`; `machine` replaces the -M value. */
export function bootKernel(arch: Arch, kernel: string, machine?: string): QemuSession {
  const { binary, args } = archBuild(arch).qemu
  const argv = [...args]
  if (machine) argv[argv.indexOf('-M') + 1] = machine
  return QemuSession.start({ binary, args: argv, kernel })
}

/** Waits for each pattern in turn, the first (QEMU starting) up to 10 s, the rest up to 5 s. */
export async function bootAndExpect(s: QemuSession, patterns: RegExp[]): Promise<void> {
  for (const [i, re] of patterns.entries()) await s.waitFor(re, i === 0 ? 10_000 : 5000)
}

/** A model-less kernel at its prompt: help lists every command and the page allocator
 *  manages most of the 256 MiB QEMU was given. Returns the `mem` output. */
export async function expectModelLessShell(s: QemuSession): Promise<string> {
  const help = await s.command('help')
  for (const c of ['help', 'mem', 'lspci', 'slm info', 'slm query', 'poweroff']) assert.ok(help.includes(c), `help lists ${c}:\n${help}`)
  const mem = await s.command('mem')
  const m = /pages: (\d+) total, (\d+) free/.exec(mem)
  assert.ok(m && Number(m[1]) > 60000 && Number(m[1]) < 65536, mem)
  return mem
}

/** The tiny model's boot lines: loading (its exact size), its metadata, backend ready. */
export async function expectTinyModelBoot(s: QemuSession, tinyModel: string): Promise<void> {
  await bootAndExpect(s, [
    new RegExp(`SLM: Loading embedded model \\(${statSync(tinyModel).size} bytes\\)`),
    /SLM: model tiny-test: llama, Q8_0, \d+ parameters/,
    /SLM: Neural backend ready/,
  ])
}

export const DEVICE_PROMPT = 'PCI device 8086:10d3 is'

/** At the prompt: `slm query` on the tiny model answers within 5 s under TCG, and its
 *  visible text starts slm-run's greedy completion on the host. Returns the completion. */
export async function expectQueryLikeHost(s: QemuSession, k: TestKernels): Promise<string> {
  const out = await s.command(`slm query "${DEVICE_PROMPT}" 12`, { timeoutMs: 20_000 })
  const m = /^PCI device 8086:10d3 is(.*)\n\((\d+) prompt \+ (\d+) generated tokens in ([\d.]+) s: ([\d.]+) tokens\/s\)/.exec(out)
  assert.ok(m, `query output:\n${out}`)
  const [, completion, , generated, secs] = m!
  assert.ok(Number(generated) >= 1 && Number(generated) <= 12, out)
  assert.ok(Number(secs) < 5, `answered in ${secs} s under TCG; the budget is 5 s`)
  const host = execFileSync(k.slmRun, [k.tinyModel, '--prompt', DEVICE_PROMPT, '--n', '12', '--greedy'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  const visible = (t: string) => t.replace(/[^\x20-\x7e]/g, '')
  assert.ok(visible(completion).length > 0, 'kernel produced visible text')
  assert.ok(visible(host).startsWith(visible(completion)), `kernel ${JSON.stringify(completion)} vs host ${JSON.stringify(host)}`)
  return completion
}
