// autonfile.ts — the AUTON pipeline (see README.md and specs/).
//
//   dataset → tokenizer → tokens → config → checkpoint → eval
//                                               └→ gguf → kernel-<arch>.elf → qemu-boot-report
import { config } from 'auton'
import { loadPreset } from './SLM/tools/config.js'
import { dataset, tokenizer, tokens, modelConfig, trainer, checkpoint, evaluation } from './rules/slm.js'

const preset = config().slm.preset
const model = loadPreset(preset)

const corpus = dataset()
const tok = tokenizer(corpus, model.vocab_size)
const bins = tokens(corpus, tok)
const cfg = modelConfig(preset)
const trainBin = trainer()
const ckpt = checkpoint(cfg, tok, bins, trainBin)
evaluation(ckpt, tok, bins, corpus, trainBin)
