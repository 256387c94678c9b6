// kernel.ts — rule factory: kernel-<arch>.elf from kernels/<arch> + kernels/inference + kernels/services + a GGUF.
//
// One target per object file (gcc -MMD depfiles make headers discovered inputs, so editing
// one source recompiles one object), one for the embedded model object, one for the link.
// The build description itself is data in kernels/tools/kbuild.ts.

import { target, sh, type TargetHandle } from 'auton'
import {
  archBuild, objectPath, compileArgs, embedArgs, emptyModelArgs, linkArgs, hostCoreSources, slmRunArgs,
  type Arch, type ArchBuild,
} from '../kernels/tools/kbuild.js'
import { packageFiles, packagePrefix } from './sources.js'

export type { Arch }
export { ARCHES } from '../kernels/tools/kbuild.js'

// kbuild describes a build with paths relative to auton's root (kernels/x86_64/boot.S,
// -Ikernels/inference, -Tkernels/x86_64/linker.ld). In a project that installed auton the
// same files are under the package (sources.ts): `at` is that prefix ('' in auton's checkout).
const relocateArg = (a: string, at: string) => a.replace(/^(-I|-T)?kernels\//, (_m, flag: string | undefined) => `${flag ?? ''}${at}kernels/`)

function relocate(b: ArchBuild, at: string): ArchBuild {
  if (at === '') return b
  const r = (a: string) => relocateArg(a, at)
  return {
    ...b,
    cflags: b.cflags.map(r), ldflags: b.ldflags.map(r), linkerScript: r(b.linkerScript),
    archSources: b.archSources.map(r), commonSources: b.commonSources.map(r),
  }
}

export interface KernelTargets {
  /** The ELF with the model embedded. */
  elf: TargetHandle
  /** The same kernel without a model (boots and says so). */
  bare: TargetHandle
  /** How QEMU boots it (data from kernels/<arch>/build.ts, for the boot report's params). */
  qemu: { binary: string; args: string[] }
}

export interface KernelOptions {
  /** Where the objects and the ELFs go, in the project (default build/kernel-<arch>). */
  buildDir?: string
}

/**
 * kernel-<arch>.elf: the freestanding kernel with `model` (a GGUF target) embedded, and the
 * same kernel without a model. Sources come from auton (kernels/); outputs go to `buildDir`.
 */
export function kernel(arch: Arch, model: TargetHandle, opts: KernelOptions = {}): KernelTargets {
  const at = packagePrefix()
  const b = relocate(archBuild(arch), at)
  const dir = opts.buildDir ?? `build/kernel-${arch}`
  const tools = [`${b.cc} --version`]
  const objs = [...b.archSources, ...b.commonSources].map((src) => {
    const obj = objectPath(src.slice(at.length), dir)
    const dep = obj.replace(/\.o$/, '.d')
    return target(obj, {
      inputs: [src],
      outputs: [obj, dep],
      depfile: dep,
      tools,
      run: sh`${compileArgs(b, src, obj, dep)}`,
      description: `compile ${src} for ${arch}`,
    })
  })
  // objcopy refuses an empty input: an empty model file gives a model-less kernel. A command,
  // not a function: its key is exactly this arch's embed command.
  const gguf = model.outputs[0]
  const modelObj = target(`${dir}/model.o`, {
    inputs: [model],
    outputs: [`${dir}/model.o`],
    tools: [`${b.objcopy} --version`, ...tools],
    run: sh`if [ -s ${gguf} ]; then ${embedArgs(b, gguf, `${dir}/model.o`)}; else ${emptyModelArgs(b, `${dir}/model.o`)}; fi`,
    description: `embed the model into .slm_model for ${arch}`,
  })
  const noModel = target(`${dir}/empty-model.o`, {
    inputs: [],
    outputs: [`${dir}/empty-model.o`],
    tools,
    run: sh`${emptyModelArgs(b, `${dir}/empty-model.o`)}`,
  })
  const objFiles = objs.map((o) => o.outputs[0])
  const link = (name: string, m: TargetHandle, elfPath: string) =>
    target(name, {
      inputs: [...objs, m, b.linkerScript],
      outputs: [elfPath],
      tools,
      run: sh`${linkArgs(b, [...objFiles, m.outputs[0]], elfPath)}`,
      description: `link the ${arch} kernel`,
    })
  return {
    elf: link(`kernel-${arch}.elf`, modelObj, `${dir}/kernel-${arch}.elf`),
    bare: link(`kernel-${arch}-nomodel.elf`, noModel, `${dir}/kernel-${arch}-nomodel.elf`),
    qemu: { binary: b.qemu.binary, args: [...b.qemu.args] },
  }
}

/**
 * slm-run: the kernels' inference core compiled for the host, for evaluation and for
 * checking the kernels' answers token for token. Same flags that matter for floats as the
 * kernels (-ffp-contract=off: no fused multiply-add), so the arithmetic is the same.
 */
export function slmRun(): TargetHandle {
  const at = packagePrefix()
  const core = hostCoreSources().map((f) => relocateArg(f, at))
  return target('slm-run', {
    inputs: [relocateArg('kernels/host/slm-run.c', at), ...core, ...packageFiles('kernels/inference/*.h')],
    outputs: ['build/bin/slm-run'],
    tools: ['gcc --version'],
    description: 'host build of the kernels\' inference core',
    run: sh`${slmRunArgs('build/bin/slm-run').map((a) => relocateArg(a, at))}`,
  })
}
