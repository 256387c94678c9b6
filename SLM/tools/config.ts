// The `config` stage: a model preset (SLM/configs/<name>.yaml) validated and written as
// config.json with size, compute and memory estimates. slm-train reads config.json; the
// checkpoint carries it in its safetensors metadata.
import { readFileSync, writeFileSync, mkdirSync, existsSync, readdirSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export const PRESETS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'configs');
export const DEFAULT_PRESET = 'micro';

const int = (min: number) => z.number().int().min(min);
const positive = z.number().positive();

const TrainSchema = z.object({
  batch_size: int(1),
  steps: int(0),
  lr: positive,
  min_lr: z.number().min(0),
  warmup: int(0),
  weight_decay: z.number().min(0),
  beta1: z.number().min(0).lt(1),
  beta2: z.number().min(0).lt(1),
  grad_clip: z.number().min(0),
  seed: int(0),
  eval_every: int(1),
  ckpt_every: int(1),
}).strict();

// The shape rules every later stage relies on (quantization blocks of 32, RoPE pairs, GQA).
export const ConfigSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, _ . - only'),
  vocab_size: int(257).max(65536, 'token ids are stored as uint16: vocab_size must be <= 65536'),
  dim: int(32),
  n_layers: int(1),
  n_heads: int(1),
  n_kv_heads: int(1),
  ffn_dim: int(32),
  seq_len: int(2),
  rope_theta: positive,
  norm_eps: positive,
  train: TrainSchema,
}).strict().superRefine((c, ctx) => {
  const bad = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (c.dim % 32) bad('dim', `dim ${c.dim} must be a multiple of 32 (Q8_0/Q4_0 blocks are 32 wide)`);
  if (c.ffn_dim % 32) bad('ffn_dim', `ffn_dim ${c.ffn_dim} must be a multiple of 32 (Q8_0/Q4_0 blocks are 32 wide)`);
  if (c.dim % c.n_heads) bad('n_heads', `dim ${c.dim} must be divisible by n_heads ${c.n_heads}`);
  else if ((c.dim / c.n_heads) % 2) bad('n_heads', `head_dim = dim/n_heads = ${c.dim / c.n_heads} must be even (RoPE rotates pairs)`);
  if (c.n_heads % c.n_kv_heads) bad('n_kv_heads', `n_heads ${c.n_heads} must be a multiple of n_kv_heads ${c.n_kv_heads} (grouped-query attention)`);
  if (c.train.min_lr > c.train.lr) bad('train', `min_lr ${c.train.min_lr} must be <= lr ${c.train.lr}`);
  if (c.train.warmup > c.train.steps) bad('train', `warmup ${c.train.warmup} must be <= steps ${c.train.steps}`);
});

export type Preset = z.infer<typeof ConfigSchema>;

export interface Estimates {
  params: number;              // all parameters
  non_embedding_params: number; // all but token_embd (the lookup costs no FLOPs)
  flops_per_token: number;     // training: 6 * matmul params + attention (see below)
  train_memory_bytes: number;  // weights, grads, AdamW state, activations of one batch
  checkpoint_bytes: number;    // model.safetensors, F32
}

export type Config = Preset & { head_dim: number; estimates: Estimates };

/** Exact parameter count, FLOPs and memory of slm-train for this preset. */
export function estimate(p: Preset): Estimates {
  const D = p.dim, hd = p.dim / p.n_heads, QD = p.n_heads * hd, KVD = p.n_kv_heads * hd;
  const F = p.ffn_dim, V = p.vocab_size, L = p.n_layers, T = p.seq_len, B = p.train.batch_size;
  const perLayer = 2 * D + D * QD + 2 * D * KVD + QD * D + 3 * D * F;
  const params = V * D + L * perLayer + D + V * D;
  const matmulParams = L * (D * QD + 2 * D * KVD + QD * D + 3 * D * F) + V * D;
  // Forward: 2 FLOPs per weight per token; backward twice that. Attention per token and
  // layer: QK^T and PV over seq_len keys, 2*2*T*QD forward, x3 for training. slm-train
  // computes the full T x T product and masks it, so T (not T/2) is what it spends.
  const flopsPerToken = 6 * matmulParams + 12 * L * T * QD;
  const N = B * T;
  const actPerLayer = N * (4 * D + 2 * QD + 2 * KVD + 3 * F + 2) + B * p.n_heads * T * T;
  const scratch = N * (2 * D + 2 * QD + 2 * KVD + 3 * F) + N * (2 * D + V + 2);
  const trainFloats = 5 * params + L * actPerLayer + scratch;   // params, grads, m, v, W^T
  return {
    params,
    non_embedding_params: params - V * D,
    flops_per_token: flopsPerToken,
    train_memory_bytes: 4 * trainFloats,
    checkpoint_bytes: 4 * params,
  };
}

function formatIssues(where: string, error: z.ZodError): string {
  const lines = error.issues.map((i) => `  ${i.path.join('.') || '(top)'}: ${i.message}`);
  return `invalid SLM preset ${where}:\n${lines.join('\n')}\nfix the YAML (see SLM/configs/micro.yaml for a valid preset)`;
}

/** Validates a parsed preset object; throws an Error listing every problem. */
export function validatePreset(raw: unknown, where = '<object>'): Config {
  const r = ConfigSchema.safeParse(raw && typeof raw === 'object' ? stripDerived(raw as Config) : raw);
  if (!r.success) throw new Error(formatIssues(where, r.error));
  return { ...r.data, head_dim: r.data.dim / r.data.n_heads, estimates: estimate(r.data) };
}

/** A preset by name (SLM/configs/<name>.yaml) or by path to a .yaml/.yml/.json file. */
export function loadPreset(nameOrPath: string = DEFAULT_PRESET): Config {
  const isPath = /[\\/]/.test(nameOrPath) || /\.(ya?ml|json)$/.test(nameOrPath);
  const file = isPath ? resolve(nameOrPath) : join(PRESETS_DIR, `${nameOrPath}.yaml`);
  if (!existsSync(file)) {
    throw new Error(`SLM preset "${nameOrPath}" not found at ${file}; ` +
      `use one of ${listPresets().join(', ')} or a path to a YAML file`);
  }
  const text = readFileSync(file, 'utf8');
  let raw: unknown;
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new Error(`SLM preset ${file}: cannot parse: ${(e as Error).message}`);
  }
  return validatePreset(raw, file);
}

export function listPresets(): string[] {
  try {
    return readdirSync(PRESETS_DIR).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)).sort();
  } catch {
    return [];
  }
}

/**
 * The `config` stage: validates a preset (name, path or loaded Config) and writes it as
 * config.json (with head_dim and estimates) to outFile. Returns what it wrote.
 */
export async function writeConfig(preset: string | Config, outFile: string): Promise<Config> {
  const config = typeof preset === 'string' ? loadPreset(preset) : validatePreset(preset);
  mkdirSync(dirname(resolve(outFile)), { recursive: true });
  const tmp = `${outFile}.tmp`;
  writeFileSync(tmp, JSON.stringify(config, null, 2) + '\n');
  renameSync(tmp, outFile);
  return config;
}

// config.json carries derived fields (head_dim, estimates); they are recomputed, not trusted.
function stripDerived(c: Config | Preset): Preset {
  const { head_dim: _h, estimates: _e, ...rest } = c as Config;
  return rest;
}
