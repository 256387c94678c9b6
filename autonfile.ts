// autonfile.ts — the AUTON pipeline (see README.md and specs/).
//
//   dataset → tokenizer → tokens → config → checkpoint → eval
//                                               └→ gguf-{f32,q8_0,q4_0} → kernel-<arch>.elf → qemu-boot-report
// Kernel objects do not depend on the model, so they compile while it trains.
import { target, config } from 'auton'
import { loadPreset } from './SLM/tools/config.js'
import { dataset, tokenizer, tokens, modelConfig, trainer, checkpoint, evaluation, gguf } from './rules/slm.js'
import { kernel, slmRun } from './rules/kernel.js'
import { bootReport } from './rules/qemu.js'
import { ARCHES } from './kernels/tools/kbuild.js'

const preset = config().slm.preset
const model = loadPreset(preset)

const corpus = dataset()
const tok = tokenizer(corpus, model.vocab_size)
const bins = tokens(corpus, tok)
const cfg = modelConfig(preset)
const trainBin = trainer()
const ckpt = checkpoint(cfg, tok, bins, trainBin)
evaluation(ckpt, tok, bins, corpus, trainBin)

const ggufs = (['f32', 'q8_0', 'q4_0'] as const).map((t) => gguf(t, ckpt, tok, cfg))
target('gguf', { inputs: ggufs, description: 'every GGUF export' })
const embedded = ggufs[1] // Q8_0: small, and it matches llama.cpp token for token

const host = slmRun()
const reports = ARCHES.map((arch) => {
  const k = kernel(arch, embedded)
  return bootReport({ arch, elf: k.elf, bare: k.bare, slmRun: host, model: embedded, probes: corpus })
})
target('qemu-boot-report', { inputs: reports, default: true, description: 'boot every kernel in QEMU and query the model' })
