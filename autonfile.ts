// autonfile.ts — the AUTON pipeline (see README.md and specs/).
//
//   dataset → tokenizer → tokens → config → checkpoint → eval
//                                               └→ gguf-{f32,q8_0,q4_0} → kernel-<arch>.elf → qemu-boot-report
//                                               └→ onnx (model.onnx)
// Kernel objects do not depend on the model, so they compile while it trains.
// Only 'auton' and 'auton/rules': the same file, with auton.toml, builds the whole pipeline in
// any project that installed auton (the sources the rules compile come from the package).
import { target, config } from 'auton'
import {
  dataset, tokenizer, tokens, modelConfig, trainer, checkpoint, evaluation, gguf, quantized, onnx,
  kernel, slmRun, bootReport, architect, review, loadPreset, ARCHES,
} from 'auton/rules'

const preset = config().slm.preset
// slm.preset = "agent": the architect agent proposes the model (needs [agents.models] architect)
const vocabSize = preset === 'agent' ? 1024 : loadPreset(preset).vocab_size

const corpus = dataset()
const tok = tokenizer(corpus, vocabSize)
const bins = tokens(corpus, tok)
const cfg = modelConfig(
  preset === 'agent' ? architect({ stats: corpus.outputs[3], paramBudget: 2_000_000, vocabSize }) : preset,
)
const trainBin = trainer()
const ckpt = checkpoint(cfg, bins, trainBin, config().slm) // [slm] executor, resources: where it trains
const metrics = evaluation(ckpt, tok, bins, corpus, trainBin)

const ggufs = (['f32', 'q8_0', 'q4_0'] as const).map((t) => gguf(t, ckpt, tok, cfg))
target('gguf', { inputs: ggufs, description: 'every GGUF export' })
const onnxModel = onnx(ckpt, cfg) // model.onnx, for any ONNX runtime
const embedded = ggufs[1] // Q8_0: small, and it matches llama.cpp token for token

const host = slmRun()
const quant = quantized(ggufs, corpus, host)
const reports = ARCHES.map((arch) => {
  const k = kernel(arch, embedded)
  return bootReport({ arch, elf: k.elf, bare: k.bare, qemu: k.qemu, slmRun: host, model: embedded, probes: corpus })
})
// The default: every kernel booted and queried, plus the metrics the reports are read with.
target('qemu-boot-report', {
  inputs: [...reports, metrics, quant, onnxModel],
  default: true,
  description: 'boot every kernel in QEMU and query the model; eval and quantization metrics; the ONNX export',
})

// Not in the default closure: `auton build review` needs [agents.models] reviewer in auton.toml.
review({ metrics: [metrics.outputs[0]], bootReports: reports.map((r) => r.outputs[1]) })
