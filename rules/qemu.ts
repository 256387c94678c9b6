// qemu.ts — rule factory: boot a kernel in QEMU, talk to its serial shell, write a report.
//
// The report (reports/qemu-boot-<arch>.json and .md) has: time from QEMU start to
// "SLM: Neural backend ready", `slm info`, each probe query with the kernel's answer,
// its tokens/s and time, whether it equals the host slm-run's answer for the same GGUF
// token for token (it must: the same C core runs in both), the boot-time PCI listing
// ("lspci by language model") scored against pci.ids, and the kernel's size with and
// without the model. QEMU is always killed; a hung or crashed boot fails the target with
// the serial log in its message.

import { target, type TargetHandle } from 'auton'

export interface BootReportInputs {
  arch: 'x86_64' | 'aarch64' | 'riscv64'
  elf: TargetHandle
  bare: TargetHandle
  /** How QEMU boots this arch (kernel()'s `qemu`): a param, so the key covers exactly this arch's machine. */
  qemu: { binary: string; args: string[] }
  slmRun: TargetHandle
  model: TargetHandle
  probes: TargetHandle
  /** How many probe prompts to ask besides the headline one. */
  extraProbes?: number
  tokens?: number
}

export function bootReport(i: BootReportInputs): TargetHandle {
  const json = `reports/qemu-boot-${i.arch}.json`
  const md = `reports/qemu-boot-${i.arch}.md`
  return target(`qemu-boot-report-${i.arch}`, {
    inputs: [i.elf, i.bare, i.slmRun, i.model, i.probes, '/usr/share/misc/pci.ids'],
    outputs: [json, md],
    pool: 'qemu',
    tools: [`${i.qemu.binary} --version`],
    params: { arch: i.arch, qemu: i.qemu, extraProbes: i.extraProbes ?? 4, tokens: i.tokens ?? 16 },
    description: `boot kernel-${i.arch}.elf in QEMU and query the model on its serial shell`,
    run: async (ctx) => {
      const { runBootReport } = await import('./qemu-report.js')
      await runBootReport({
        cwd: ctx.cwd,
        arch: i.arch,
        qemu: ctx.params.qemu as { binary: string; args: string[] },
        elf: i.elf.outputs[0],
        bare: i.bare.outputs[0],
        slmRun: i.slmRun.outputs[0],
        model: i.model.outputs[0],
        probes: i.probes.outputs[2],
        extraProbes: ctx.params.extraProbes as number,
        tokens: ctx.params.tokens as number,
        json,
        md,
        signal: ctx.signal,
        log: ctx.log,
        progress: ctx.progress,
      })
    },
  })
}
