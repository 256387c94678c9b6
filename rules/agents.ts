// agents.ts — the AUTON pipeline's LLM agent steps, as rule factories.
//
//   architect: dataset stats + a parameter budget → a model preset (SLM/configs schema),
//              checked with the same estimate the config stage uses. Chosen with
//              `slm.preset = "agent"` in auton.toml; the YAML presets stay the default.
//   review:    eval metrics + the QEMU boot report → reports/review.md and a verdict.
//
// Neither is in the default build's closure: an autonfile declares them only when
// configured (see specs/agents.md), so `auton build` needs no provider and no network.

import { agent, defineTool, type Input, type TargetHandle } from 'auton'
import { z } from 'zod'
import { ConfigSchema, estimate, validatePreset } from '../SLM/tools/config.js'
import { packageFile } from './sources.js'

export interface ArchitectOptions {
  /** The dataset's stats.json (a path another target produces, or a source file). */
  stats: string
  /** Upper bound on all parameters of the proposed model. */
  paramBudget: number
  /** The tokenizer's vocabulary size: the config must use it. */
  vocabSize: number
  /** Upper bound on slm-train's memory (bytes); default 2 GiB. */
  maxTrainMemoryBytes?: number
  /** Model or role; default the 'architect' role of auton.toml [agents.models]. */
  model?: string
  /** Where the proposed preset is written (JSON, loadable by loadPreset). */
  output?: string
  /** A spec file given as system context, e.g. specs/architecture.md. */
  spec?: string
}

/** The architect's tools: the config stage's own validator and estimator. */
export const architectTools = [
  defineTool({
    name: 'validate_config',
    description: 'Check a proposed model config against the preset rules; answers "valid" with its estimates, or every problem found.',
    input: z.object({ config: z.record(z.string(), z.unknown()).describe('the whole config object, train section included') }),
    run: ({ config }) => {
      try {
        const c = validatePreset(config, 'the proposed config')
        return { valid: true, estimates: c.estimates }
      } catch (e) {
        return { valid: false, problems: (e as Error).message }
      }
    },
  }),
  defineTool({
    name: 'estimate_flops',
    description: 'Parameters, training FLOPs per token and training memory (bytes) of a valid config.',
    input: z.object({ config: ConfigSchema }),
    run: ({ config }) => estimate(config),
  }),
]

export function architect(o: ArchitectOptions): TargetHandle {
  const maxMem = o.maxTrainMemoryBytes ?? 2 * 1024 ** 3
  const { paramBudget, vocabSize, stats } = o
  const reference = packageFile('SLM/configs/micro.yaml') // auton's own preset, wherever it is installed
  // The budget rules refine the preset schema, so a violation goes back to the model
  // like any other validation error.
  const schema = ConfigSchema.superRefine((c, ctx) => {
    const e = estimate(c)
    if (c.vocab_size !== vocabSize) ctx.addIssue({ code: 'custom', path: ['vocab_size'], message: `must be ${vocabSize}, the tokenizer's vocabulary` })
    if (e.params > paramBudget) ctx.addIssue({ code: 'custom', path: ['dim'], message: `${e.params} parameters exceed the budget of ${paramBudget}; shrink dim, n_layers or ffn_dim` })
    if (e.train_memory_bytes > maxMem) ctx.addIssue({ code: 'custom', path: ['train', 'batch_size'], message: `training needs ${e.train_memory_bytes} bytes, more than ${maxMem}; shrink batch_size or seq_len` })
  })
  return agent('architect', {
    model: o.model ?? 'architect',
    system:
      'You are the architect of a small llama-style language model (RMSNorm, RoPE, grouped-query attention, SwiGLU) ' +
      'trained from scratch on CPU cores by a C trainer. Propose the model and training config that will learn the ' +
      'corpus best within the given budgets. Use validate_config and estimate_flops before you answer.',
    systemFile: o.spec,
    prompt: (files) =>
      [
        `Parameter budget: ${paramBudget}. Vocabulary size (fixed by the tokenizer): ${vocabSize}. ` +
          `Training memory limit: ${maxMem} bytes.`,
        `Dataset statistics (${stats}):\n${files[stats] ?? '(missing)'}`,
        `A valid preset for reference (SLM/configs/micro.yaml):\n${files[reference] ?? ''}`,
        'Answer with the config object (no head_dim, no estimates: they are derived). Name it "agent".',
      ].join('\n\n'),
    inputs: [stats, reference],
    params: { paramBudget, vocabSize, maxMem },
    schema,
    tools: architectTools,
    outputs: [o.output ?? 'SLM/models/agent/preset.json'],
    description: 'LLM architect: proposes the model config (slm.preset = "agent")',
  })
}

export const Verdict = z.object({
  /** Do the kernel's answers read as sentences about the asked device? */
  coherent: z.boolean(),
  /** Do they name the right vendor/device (compare with the probes' expected answers)? */
  relevant: z.boolean(),
  score: z.number().int().min(0).max(10).describe('0 = useless, 10 = every answer right'),
  findings: z.array(z.string()).describe('what the metrics and the boot transcript show'),
  improvements: z.array(z.string()).describe('concrete next steps: data, model size, training, quantization'),
})
export type Verdict = z.infer<typeof Verdict>

export interface ReviewOptions {
  /** Eval metrics files (e.g. the eval target's metrics.json). */
  metrics: Input[]
  /** The QEMU boot report(s): the serial transcript with the kernel's answers. */
  bootReports: Input[]
  /** Model or role; default the 'reviewer' role of auton.toml [agents.models]. */
  model?: string
  spec?: string
}

export function review(o: ReviewOptions): TargetHandle {
  return agent('review', {
    model: o.model ?? 'reviewer',
    system:
      'You review the result of a build that trains a tiny language model and boots it inside freestanding kernels ' +
      'under QEMU, where it answers questions on a serial shell (`slm query "PCI device 8086:10d3 is"`). Judge from ' +
      'the evidence only: the evaluation metrics and the boot transcripts. Be specific and brief.',
    systemFile: o.spec,
    prompt:
      'Review this build. Write reports/review.md (a short report: summary, evidence quoted from the transcripts, ' +
      'what to improve), then submit the verdict.',
    inputs: [...o.metrics, ...o.bootReports],
    schema: Verdict,
    outputs: ['reports/review.md', 'reports/review.json'],
    check: 'test -s reports/review.md',
    description: 'LLM review of eval metrics and QEMU boot reports',
  })
}
