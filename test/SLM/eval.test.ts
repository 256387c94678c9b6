// The eval stage end to end on a corpus small enough to memorise: tokenizer, tokens,
// slm-train, then evaluate() (perplexity, probe accuracy, loss.svg).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainTokenizer } from '../../SLM/tools/bpe.js';
import { tokenizeSplits } from '../../SLM/tools/tokenize.js';
import { evaluate, scoreProbe } from '../../SLM/tools/eval.js';
import { renderLossSvg } from '../../SLM/tools/plot.js';

const root = join(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'auton-eval-'));
const bin = join(tmp, 'slm-train');
const DEVICES = [
  ['8086', '10d3', 'Intel Corporation', '82574L Gigabit Network Connection'],
  ['10ec', '8139', 'Realtek Semiconductor Co., Ltd.', 'RTL-8100/8101L/8139 PCI Fast Ethernet Adapter'],
  ['1af4', '1000', 'Red Hat, Inc.', 'Virtio network device'],
];

test('scoreProbe: vendor prefix and exact answer', () => {
  const p = { prompt: 'PCI device 8086:10d3 is', answer: 'Intel Corporation 82574L', vendor: 'Intel Corporation' };
  assert.equal([scoreProbe(p, ' Intel Corporation 82574L.').vendor_ok, scoreProbe(p, ' Intel Corporation 82574L.').exact], [true, true]);
  assert.equal([scoreProbe(p, ' Intel Corporation 8254.').vendor_ok, scoreProbe(p, ' Intel Corporation 8254.').exact], [true, false]);
  assert.is(scoreProbe(p, ' Intel Corporations X').vendor_ok, false);
  assert.is(scoreProbe(p, ' Realtek').vendor_ok, false);
});

test('renderLossSvg draws both curves with axes and labels', () => {
  const svg = renderLossSvg([{ step: 0, val_loss: 7 }, { step: 10, loss: 5 }, { step: 20, loss: 3, val_loss: 3.2 }]);
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, />step</);
  assert.match(svg, /cross-entropy loss/);
  assert.is((svg.match(/<path /g) ?? []).length, 2);
  assert.is((svg.match(/<circle /g) ?? []).length, 2);
  assert.not.match(svg, /NaN/);
});

test('evaluate: a model that memorised the corpus answers every probe', async () => {
  const sources = readdirSync(join(root, 'SLM/train')).filter((f) => f.endsWith('.c')).map((f) => join(root, 'SLM/train', f));
  execFileSync('gcc', ['-O3', '-march=native', '-fopenmp', '-o', bin, ...sources, '-lm']);
  const lines = DEVICES.map(([v, d, vn, dn]) => `PCI device ${v}:${d} is ${vn} ${dn}.`);
  writeFileSync(join(tmp, 'train.txt'), Array.from({ length: 100 }, (_, i) => lines[i % 3]).join('\n') + '\n');
  writeFileSync(join(tmp, 'val.txt'), lines.join('\n') + '\n');
  writeFileSync(join(tmp, 'probes.jsonl'), DEVICES.map(([v, d, vn, dn]) =>
    JSON.stringify({ prompt: `PCI device ${v}:${d} is`, answer: `${vn} ${dn}`, vendor: vn, vendor_id: v, device_id: d })).join('\n') + '\n');
  const tokFile = join(tmp, 'tokenizer.json');
  await trainTokenizer({ trainFile: join(tmp, 'train.txt'), vocabSize: 320, outFile: tokFile });
  await tokenizeSplits({ tokenizerFile: tokFile, trainFile: join(tmp, 'train.txt'), valFile: join(tmp, 'val.txt'), outDir: tmp });
  writeFileSync(join(tmp, 'config.json'), JSON.stringify({
    name: 'e', vocab_size: 320, dim: 64, n_layers: 2, n_heads: 4, n_kv_heads: 2, ffn_dim: 128, seq_len: 64,
    rope_theta: 10000, norm_eps: 1e-5,
    train: { batch_size: 8, steps: 120, lr: 5e-3, min_lr: 5e-4, warmup: 10, weight_decay: 0.1, beta1: 0.9, beta2: 0.95,
             grad_clip: 1, seed: 1, eval_every: 40, ckpt_every: 120 },
  }));
  execFileSync(bin, ['--config', join(tmp, 'config.json'), '--train', join(tmp, 'train.bin'), '--val', join(tmp, 'val.bin'),
    '--out', join(tmp, 'run')], { stdio: 'ignore' });
  const m = await evaluate({ trainer: bin, ckpt: join(tmp, 'run/model.safetensors'), tokenizer: tokFile,
    valBin: join(tmp, 'val.bin'), probes: join(tmp, 'probes.jsonl'), trainLog: join(tmp, 'run/train_log.jsonl'), outDir: join(tmp, 'eval') });
  assert.is(m.probes, 3);
  assert.is(m.vendor_accuracy, 1, JSON.stringify(m.examples, null, 1));
  assert.is(m.exact_match, 1);
  assert.ok(m.val_ppl < 1.5 && m.val_tokens > 0, `ppl ${m.val_ppl}`);
  assert.is(m.step, 120);
  assert.equal(JSON.parse(readFileSync(join(tmp, 'eval/metrics.json'), 'utf8')).vendor_accuracy, 1);
  assert.match(readFileSync(join(tmp, 'eval/loss.svg'), 'utf8'), /validation loss/);
});

test('evaluate: a missing checkpoint is named', async () => {
  try {
    await evaluate({ trainer: bin, ckpt: join(tmp, 'nope.safetensors'), tokenizer: '', valBin: '', probes: '', outDir: tmp });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /checkpoint .*nope\.safetensors does not exist/);
  }
});

test.run();
