// bench/inference/qemu.ts — the in-kernel `slm query` time under QEMU (software emulation),
// for each arch, with kernels built from this tree and (--base REV) from an earlier revision.
//
//   npx tsx bench/inference/qemu.ts [--base REV] [--n 32] [--models micro-q8_0,micro-q4_0]
//
// Random-weight models of the presets' shapes (bench/inference/common.ts); the query runs
// --n tokens (random weights rarely stop early) and reports the kernel's own timing line.

import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { ARCHES, archBuild, buildKernel, type Arch } from '../../kernels/tools/kbuild.js'
import { QemuSession } from '../../kernels/tools/qemu.js'
import { PROMPT, checkoutKernels, out, randomModel } from './common.js'
import type { ExportType } from '../../SLM/tools/export.js'

const args = process.argv.slice(2)
const opt = (name: string, def: string) => {
  const i = args.indexOf(name)
  return i < 0 ? def : args[i + 1]
}
const base = opt('--base', '')
const n = Number(opt('--n', '32'))
const models = opt('--models', 'micro-q8_0,micro-q4_0,micro-f32').split(',')
const arches = opt('--arches', ARCHES.join(',')).split(',') as Arch[]

async function kernels(arch: Arch, tree: string | null, paths: Record<string, string>): Promise<Record<string, string>> {
  const outDir = join(out, `k-${tree ? 'base' : 'now'}-${arch}`)
  if (!tree) return (await buildKernel({ arch, outDir, models: paths })).elves
  // the older tree's own kbuild, run on its own sources
  const elves: Record<string, string> = {}
  for (const [name, model] of Object.entries(paths)) {
    const dir = `${outDir}-${name}`
    execFileSync('npx', ['tsx', join(tree, 'kernels/tools/kbuild.ts'), arch, dir, model], { cwd: tree, stdio: 'pipe' })
    elves[name] = join(dir, `kernel-${arch}.elf`)
  }
  return elves
}

async function query(arch: Arch, elf: string): Promise<{ secs: number; tokens: string; check: string }> {
  const { binary, args } = archBuild(arch).qemu
  const s = QemuSession.start({ binary, args, kernel: elf })
  try {
    await s.waitFor(/auton> /, 120_000)
    const o = await s.command(`slm query "${PROMPT}" ${n}`, { timeoutMs: 300_000 })
    const m = /\((\d+) prompt \+ (\d+) generated tokens in ([\d.]+) s/.exec(o)
    if (!m) throw new Error(`${arch}: no timing line in:\n${o}`)
    const c = await s.command('slm check', { timeoutMs: 60_000 })
    return { secs: Number(m[3]), tokens: `${m[1]}+${m[2]}`, check: /using (\S+)/.exec(c)?.[1] ?? '-' }
  } finally {
    await s.kill()
  }
}

const paths: Record<string, string> = {}
for (const m of models) {
  const [preset, type] = m.split('-') as [string, ExportType]
  paths[m] = await randomModel(preset, type)
}
const tree = base ? checkoutKernels(base) : null
const rows: string[] = []
for (const arch of arches) {
  const now = await kernels(arch, null, paths)
  const before = tree ? await kernels(arch, tree, paths) : null
  for (const m of models) {
    const a = before ? await query(arch, before[m]) : null
    const b = await query(arch, now[m])
    rows.push(`| ${arch} | ${m} | ${b.tokens} | ${a ? a.secs.toFixed(3) : '-'} | ${b.secs.toFixed(3)} (${b.check}) | ${a ? (a.secs / b.secs).toFixed(2) + 'x' : '-'} |`)
    console.log(rows[rows.length - 1])
  }
}
console.log(`\nslm query "${PROMPT}" ${n}, QEMU TCG (no KVM), the kernel's own timing`)
console.log(`| arch | model | prompt+gen tokens | before${base ? ` (@${base})` : ''} s | after s (dot path) | speedup |`)
console.log('|---|---|---|---|---|---|')
console.log(rows.join('\n'))
process.exit(0)
