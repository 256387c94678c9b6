// qemu-report.ts — the work behind rules/qemu.ts's boot-report target.

import { spawnSync } from 'node:child_process'
import { readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { QemuSession } from '../kernels/tools/qemu.js'
import type { Arch } from '../kernels/tools/port.js'
import { readIds } from '../SLM/tools/dataset-ids.js'
import { modelProvenance } from './model-provenance.js'

export interface BootReportJob {
  cwd: string
  arch: Arch
  /** The QEMU binary and machine arguments (kernels/<arch>/build.ts, through kernel()). */
  qemu: { binary: string; args: string[] }
  elf: string
  bare: string
  slmRun: string
  model: string
  probes: string
  extraProbes: number
  tokens: number
  json: string
  md: string
  signal: AbortSignal
  log(text: string): void
  progress(message: string): void
}

export const HEADLINE = 'PCI device 8086:10d3 is'
const READY = /SLM: Neural backend ready/
const PROMPT = /auton> $/

interface QueryResult {
  prompt: string
  kernel: string
  host: string
  match: boolean
  tokensPerSecond: number
  seconds: number
  expected?: string
  vendorOk?: boolean
  exact?: boolean
}

export async function runBootReport(j: BootReportJob): Promise<void> {
  const at = (p: string) => join(j.cwd, p)
  const probes = readFileSync(at(j.probes), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { prompt: string; answer: string; vendor: string })
  const prompts = [HEADLINE, ...probes.map((p) => p.prompt).filter((p) => p !== HEADLINE).slice(0, j.extraProbes)]
  const truth = new Map(probes.map((p) => [p.prompt, p]))

  // The host's answers first: the same core on the same GGUF.
  const host = new Map<string, string>()
  for (const p of prompts) {
    const r = spawnSync(at(j.slmRun), [at(j.model), '--prompt', p, '--n', String(j.tokens)], { encoding: 'utf8', timeout: 60_000 })
    if (r.status !== 0) throw new Error(`slm-run failed on "${p}": ${r.error?.message ?? r.stderr}`)
    j.log(`host slm-run "${p}": ${r.stdout.trim()}\n${r.stderr}`)
    host.set(p, r.stdout.trimEnd())
  }

  const s = QemuSession.start({ binary: j.qemu.binary, args: j.qemu.args, kernel: at(j.elf), cwd: j.cwd, signal: j.signal, onOutput: j.log })
  const queries: QueryResult[] = []
  let info = ''
  let readyMs = 0
  try {
    j.progress('booting')
    await s.waitFor(READY, 180_000)
    readyMs = s.elapsed()
    await s.waitFor(PROMPT, 180_000)
    info = await s.command('slm info', { timeoutMs: 30_000 })
    for (const p of prompts) {
      j.progress(`query ${queries.length + 1}/${prompts.length}`)
      const out = await s.command(`slm query "${p}" ${j.tokens}`, { timeoutMs: 60_000 })
      const m = /\((\d+) prompt \+ (\d+) generated tokens in ([\d.]+) s: ([\d.]+) tokens\/s\)/.exec(out)
      const answerLine = out.split('\n').find((l) => l.startsWith(p)) ?? ''
      const kernel = answerLine.slice(p.length)
      const hostAnswer = host.get(p)!.startsWith(p) ? host.get(p)!.slice(p.length) : host.get(p)!
      const t = truth.get(p)
      queries.push({
        prompt: p,
        kernel,
        host: hostAnswer,
        match: kernel === cutLikeKernel(hostAnswer),
        tokensPerSecond: m ? Number(m[4]) : 0,
        seconds: m ? Number(m[3]) : 0,
        expected: t?.answer,
        vendorOk: t ? kernel.trim().startsWith(t.vendor) : undefined,
        exact: t ? kernel.trim().replace(/\.$/, '') === t.answer.replace(/\.$/, '') : undefined,
      })
    }
    await s.poweroff('poweroff', 10_000)
  } finally {
    await s.kill()
  }

  const pci = lspci(s.transcript)
  const report = {
    arch: j.arch,
    kernel: j.elf,
    model: j.model,
    bootToReadyMs: readyMs,
    kernelBytes: statSync(at(j.elf)).size,
    kernelBytesWithoutModel: statSync(at(j.bare)).size,
    info: info.trim(),
    provenance: modelProvenance(j.cwd, j.model, info),
    queries,
    allMatchHost: queries.every((q) => q.match),
    pci,
    transcript: s.transcript,
  }
  mkdirSync(dirname(at(j.json)), { recursive: true })
  writeFileSync(at(j.json), JSON.stringify(report, null, 2) + '\n')
  writeFileSync(at(j.md), markdown(report))
  if (!report.allMatchHost) {
    const bad = queries.filter((q) => !q.match).map((q) => `  ${q.prompt}\n    kernel: ${q.kernel}\n    host:   ${q.host}`).join('\n')
    throw new Error(`the ${j.arch} kernel's answers differ from the host slm-run's (report written to ${j.md}):\n${bad}`)
  }
  if (!report.provenance.trusted) {
    throw new Error(`the ${j.arch} kernel's model is not trusted: ${report.provenance.note} (report written to ${j.md})`)
  }
}

/**
 * The kernel's shell ends an answer at a newline or at a '.' followed by a space
 * (kernels/services/kmodel.c); slm-run prints all it generated. The GPT-2 pre-tokenizer never
 * puts '.' and a following space in one token, so cutting the host's text at the same place
 * compares the same tokens.
 */
export function cutLikeKernel(s: string): string {
  let i = 0
  for (; i < s.length; i++) {
    if (s[i] === '\n') break
    if (i > 0 && s[i - 1] === '.' && s[i] === ' ') break
  }
  return s.slice(0, i)
}

interface PciRow { ids: string; cls: string; answer: string; truth: string; vendorOk: boolean; exact: boolean }

/** The boot-time listing: "PCI 00:02.0 8086:10d3 Ethernet | model: Intel Corporation …". */
function lspci(transcript: string): PciRow[] {
  const db = readIds('/usr/share/misc/pci.ids', 'pci.ids')
  const vendors = new Map(db.vendors.map((v) => [v.id, v]))
  const devices = new Map(db.devices.map((d) => [`${d.vendorId}:${d.deviceId}`, d]))
  const rows: PciRow[] = []
  for (const line of transcript.split('\n')) {
    const m = /^PCI [0-9a-f]{2}:[0-9a-f]{2}\.\d ([0-9a-f]{4}):([0-9a-f]{4}) (.*?) \| model: (.*)$/.exec(line.trim())
    if (!m) continue
    const vendor = vendors.get(m[1])
    const dev = devices.get(`${m[1]}:${m[2]}`)
    const truth = vendor ? `${vendor.name}${dev ? " " + dev.deviceName : ""}` : "(unknown vendor)"
    const answer = m[4].trim().replace(/\.$/, '')
    rows.push({ ids: `${m[1]}:${m[2]}`, cls: m[3], answer, truth, vendorOk: !!vendor && answer.startsWith(vendor.name), exact: answer === truth })
  }
  return rows
}

function markdown(r: {
  arch: string; bootToReadyMs: number; kernelBytes: number; kernelBytesWithoutModel: number; info: string
  provenance: { trusted: boolean; kernel: string | null; note?: string }
  queries: QueryResult[]; allMatchHost: boolean; pci: PciRow[]; transcript: string
}): string {
  const q = r.queries.map((x) =>
    `| \`${x.prompt}\` | ${x.kernel.trim()} | ${x.match ? 'yes' : '**no**'} | ${x.tokensPerSecond.toFixed(1)} | ${x.seconds.toFixed(2)} s | ${x.expected ?? ''} |`).join('\n')
  const p = r.pci.map((x) => `| ${x.ids} | ${x.cls} | ${x.answer} | ${x.truth} | ${x.vendorOk ? 'yes' : 'no'} | ${x.exact ? 'yes' : 'no'} |`).join('\n')
  return `# QEMU boot report: ${r.arch}

- Boot to \`SLM: Neural backend ready\`: ${(r.bootToReadyMs / 1000).toFixed(2)} s (QEMU software emulation, from process start)
- Kernel size: ${r.kernelBytes} bytes with the model, ${r.kernelBytesWithoutModel} without
- Every answer equals the host \`slm-run\` token for token: ${r.allMatchHost ? 'yes' : '**no**'}
- Model provenance: ${r.provenance.trusted ? `the build's model (statement sha256:${r.provenance.kernel})` : '**NOT TRUSTED**'}${r.provenance.note ? ` — ${r.provenance.note}` : ''}

## slm info

\`\`\`
${r.info}
\`\`\`

## Queries

| prompt | kernel's answer | = host | tokens/s | time | pci.ids truth |
|---|---|---|---|---|---|
${q}

## PCI devices named by the model at boot

| ids | class | model says | pci.ids | vendor right | exact |
|---|---|---|---|---|---|
${p}

## Serial transcript

\`\`\`
${r.transcript.trim()}
\`\`\`
`
}
