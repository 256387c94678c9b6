// auton/rules — the AUTON pipeline's rule factories, for any project's autonfile.
//
//   import { target, config } from 'auton'
//   import { dataset, tokenizer, tokens, modelConfig, trainer, checkpoint, gguf, kernel, slmRun, bootReport } from 'auton/rules'
//
// Each factory declares targets (and returns their handles) when the autonfile runs; pass a
// handle as another factory's input and the edge exists. The sources the rules compile or
// read (the C trainer, the kernels, the presets) come from the installed package; every
// output goes into the project (SLM/datasets, SLM/models, build/, reports/). The repo's own
// autonfile.ts composes all of them: copy it, with auton.toml, into a project and it builds
// the whole pipeline there.
//
// Loaded by the autonfile loader (jiti): these modules are TypeScript and run only inside
// `auton build`, where target() has a build to declare into.

/** Model half: corpus → tokenizer → tokens → config → trained checkpoint → eval and exports. */
export {
  dataset, tokenizer, tokens, modelConfig, modelConfig as config, trainer, checkpoint, evaluation, gguf, onnx, quantized,
  DATA, MODELS,
} from './slm.js'
export type { DatasetOptions, QuantType } from './slm.js'

/** Metal half: kernel-<arch>.elf with the model embedded, the host build of the same core. */
export { kernel, slmRun, ARCHES } from './kernel.js'
export type { Arch, KernelOptions, KernelTargets } from './kernel.js'

/** Boot a kernel in QEMU, query the model on its serial shell, write reports/qemu-boot-<arch>.{json,md}. */
export { bootReport } from './qemu.js'
export type { BootReportInputs } from './qemu.js'

/** LLM agent steps (need [agents.models] in auton.toml): the architect proposes a preset, review judges a build. */
export { architect, review, architectTools, Verdict } from './agents.js'
export type { ArchitectOptions, ReviewOptions } from './agents.js'

/** Presets: read and validate SLM/configs/<name>.yaml (or a path to your own). */
export { loadPreset, listPresets, validatePreset, estimate } from '../SLM/tools/config.js'
export type { Config as ModelPreset, Estimates } from '../SLM/tools/config.js'

/** Where the package's own sources are, as the project's builds name them. */
export { PACKAGE_ROOT, packageFile, packageFiles, packagePrefix } from './sources.js'
