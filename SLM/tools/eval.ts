// The evaluation stage: validation perplexity (per token, on val.bin) and probe accuracy
// (greedy completion of "PCI device VVVV:DDDD is"), written to metrics.json, plus loss.svg
// from train_log.jsonl. Inference runs in the trainer binary (`slm-train --eval` and
// `--generate`), which shares its forward pass with training.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTokenizer } from './bpe.js';
import { readTrainLog, renderLossSvg } from './plot.js';

export interface EvalOptions {
  trainer: string;        // path to the slm-train binary
  ckpt: string;           // model.safetensors
  tokenizer: string;      // tokenizer.json
  valBin: string;         // val.bin
  probes: string;         // probes.jsonl
  outDir: string;         // receives metrics.json and loss.svg
  trainLog?: string;      // train_log.jsonl (loss.svg is skipped without it)
  maxValTokens?: number;  // cap on validation tokens (0 = all)
  threads?: number;
}

export interface Probe { prompt: string; answer: string; vendor: string }

export interface ProbeResult { prompt: string; expected: string; completion: string; vendor_ok: boolean; exact: boolean }

export interface Metrics {
  val_loss: number;
  val_ppl: number;
  val_tokens: number;
  probes: number;
  vendor_accuracy: number;
  exact_match: number;
  step: number | null;
  examples: ProbeResult[];   // the first 20, for reading
}

function run(bin: string, args: string[], input: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const p = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('error', (e) => reject(new Error(`cannot run ${bin}: ${e.message} (build the trainer first)`)));
    p.on('close', (code) => code === 0 ? resolvePromise(out)
      : reject(new Error(`${bin} ${args.join(' ')} exited ${code}: ${err.trim()}`)));
    p.stdin.end(input);
  });
}

// The completion names the expected text if it starts with it and the next character
// does not continue a word ("Intel Corporation" is not matched by "Intel Corporations").
function startsWithName(completion: string, name: string): boolean {
  return completion.startsWith(name) && !/^[A-Za-z0-9]/.test(completion.slice(name.length));
}

export function scoreProbe(p: Probe, completion: string): ProbeResult {
  const c = completion.split('\n')[0].trim();
  return {
    prompt: p.prompt,
    expected: p.answer,
    completion: c,
    vendor_ok: startsWithName(c, p.vendor),
    exact: c === p.answer || c === `${p.answer}.` || startsWithName(c, `${p.answer}.`),
  };
}

export function readProbes(file: string): Probe[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l, i) => {
    const p = JSON.parse(l) as Probe;
    if (typeof p.prompt !== 'string' || typeof p.answer !== 'string' || typeof p.vendor !== 'string') {
      throw new Error(`${file}:${i + 1}: a probe needs string fields prompt, answer, vendor`);
    }
    return p;
  });
}

/** Greedy completions for many prompts in one trainer process. */
export async function generate(trainer: string, ckpt: string, prompts: number[][], maxNew: number,
                               stopId: number, threads?: number): Promise<number[][]> {
  const args = ['--generate', '--ckpt', ckpt, '--n', String(maxNew), '--stop', String(stopId)];
  if (threads) args.push('--threads', String(threads));
  const out = await run(trainer, args, prompts.map((p) => p.join(' ')).join('\n') + '\n');
  const lines = out.split('\n').slice(0, prompts.length);
  if (lines.length < prompts.length) throw new Error(`${trainer} --generate returned ${lines.length} of ${prompts.length} completions`);
  return lines.map((l) => l.trim() ? l.trim().split(/\s+/).map(Number) : []);
}

export async function evaluate(o: EvalOptions): Promise<Metrics> {
  for (const [what, f] of [['trainer', o.trainer], ['checkpoint', o.ckpt], ['tokenizer', o.tokenizer], ['val.bin', o.valBin], ['probes', o.probes]]) {
    if (!existsSync(f)) throw new Error(`evaluate: ${what} ${f} does not exist`);
  }
  mkdirSync(o.outDir, { recursive: true });
  const threads = o.threads ? ['--threads', String(o.threads)] : [];
  const ppl = JSON.parse(await run(o.trainer, ['--eval', '--ckpt', o.ckpt, '--val', o.valBin,
    '--max-tokens', String(o.maxValTokens ?? 0), ...threads], ''));

  const tok = loadTokenizer(o.tokenizer);
  const probes = readProbes(o.probes);
  const prompts = probes.map((p) => [tok.eotId, ...tok.encode(p.prompt)]);
  const maxNew = Math.max(8, ...probes.map((p) => tok.encode(` ${p.answer}.`).length + 2));
  const outs = await generate(o.trainer, o.ckpt, prompts, maxNew, tok.eotId, o.threads);
  const results = probes.map((p, i) => scoreProbe(p, tok.decode(outs[i].filter((id) => id !== tok.eotId))));

  let step: number | null = null;
  if (o.trainLog && existsSync(o.trainLog)) {
    const log = readTrainLog(o.trainLog);
    step = log.length ? log[log.length - 1].step : null;
    writeFileSync(join(o.outDir, 'loss.svg'), renderLossSvg(log, `training loss (${probes.length} probes, step ${step})`));
  }
  const n = Math.max(1, results.length);
  const metrics: Metrics = {
    val_loss: ppl.val_loss,
    val_ppl: ppl.ppl,
    val_tokens: ppl.tokens,
    probes: results.length,
    vendor_accuracy: results.filter((r) => r.vendor_ok).length / n,
    exact_match: results.filter((r) => r.exact).length / n,
    step,
    examples: results.slice(0, 20),
  };
  writeFileSync(join(o.outDir, 'metrics.json'), JSON.stringify(metrics, null, 2) + '\n');
  return metrics;
}
