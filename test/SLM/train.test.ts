// The C trainer, compiled here with the flags the build uses, run as a real process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors } from '../../SLM/tools/safetensors.js';

const root = join(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'auton-train-'));
const bin = join(tmp, 'slm-train');

// A periodic token stream: eot 1 2 ... 12, so a trained model must continue 1 2 3 with 4 5 6.
const EOT = 63;
const PERIOD = [EOT, ...Array.from({ length: 12 }, (_, i) => i + 1)];
function writeTokens(file: string, reps: number) {
  writeFileSync(file, Buffer.from(new Uint16Array(Array.from({ length: reps }, () => PERIOD).flat()).buffer));
}
const config = {
  name: 't', vocab_size: 64, dim: 32, n_layers: 2, n_heads: 4, n_kv_heads: 2, ffn_dim: 64, seq_len: 16,
  rope_theta: 10000, norm_eps: 1e-5,
  train: { batch_size: 8, steps: 60, lr: 1e-2, min_lr: 1e-3, warmup: 5, weight_decay: 0.1, beta1: 0.9, beta2: 0.95,
           grad_clip: 1, seed: 3, eval_every: 20, ckpt_every: 20 },
};

function train(out: string, ...extra: string[]) {
  return execFileSync(bin, ['--config', join(tmp, 'config.json'), '--train', join(tmp, 'train.bin'),
    '--val', join(tmp, 'val.bin'), '--out', out, ...extra], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

test.before(() => {
  const sources = readdirSync(join(root, 'SLM/train')).filter((f) => f.endsWith('.c')).map((f) => join(root, 'SLM/train', f));
  execFileSync('gcc', ['-O3', '-march=native', '-fopenmp', '-o', bin, ...sources, '-lm']);
  writeFileSync(join(tmp, 'config.json'), JSON.stringify(config));
  writeTokens(join(tmp, 'train.bin'), 300);
  writeTokens(join(tmp, 'val.bin'), 40);
});

test('--gradcheck: analytic gradients of every tensor match finite differences', () => {
  const r = spawnSync(bin, ['--gradcheck'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stdout + r.stderr);
  const m = /max relative error ([0-9.e+-]+) .* over (\d+) tensors: PASS/.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.ok(Number(m![1]) < 1e-2);
  assert.is(Number(m![2]), 21);   // embd + 2 layers x 9 + output norm + output
});

test('trains: loss falls, progress lines, checkpoint with the contract names and shapes', () => {
  const out = join(tmp, 'a');
  const stdout = train(out, '--threads', '2');
  const progress = stdout.split('\n').filter((l) => l.startsWith('auton:progress ')).map((l) => JSON.parse(l.slice(15)));
  assert.ok(progress.length >= 6);
  assert.is(progress.at(-1).step, 60);
  assert.is(progress.at(-1).steps, 60);
  assert.ok(progress.at(-1).tok_s > 0);
  const log = readFileSync(join(out, 'train_log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const vals = log.filter((e) => 'val_loss' in e);
  assert.equal(vals.map((e) => e.step), [0, 20, 40, 60]);
  assert.ok(vals[0].val_loss > 3.5, `initial loss ~ ln(64): ${vals[0].val_loss}`);
  assert.ok(vals.at(-1).val_loss < 0.1, `learns the periodic stream: ${vals.at(-1).val_loss}`);

  const st = readSafetensors(join(out, 'model.safetensors'));
  assert.is(st.metadata.step, '60');
  assert.is(JSON.parse(st.metadata.config).dim, 32);
  const expect: [string, number[]][] = [['token_embd.weight', [64, 32]]];
  for (let i = 0; i < 2; i++) {
    expect.push([`blk.${i}.attn_norm.weight`, [32]], [`blk.${i}.attn_q.weight`, [32, 32]], [`blk.${i}.attn_k.weight`, [16, 32]],
      [`blk.${i}.attn_v.weight`, [16, 32]], [`blk.${i}.attn_output.weight`, [32, 32]], [`blk.${i}.ffn_norm.weight`, [32]],
      [`blk.${i}.ffn_gate.weight`, [64, 32]], [`blk.${i}.ffn_up.weight`, [64, 32]], [`blk.${i}.ffn_down.weight`, [32, 64]]);
  }
  expect.push(['output_norm.weight', [32]], ['output.weight', [64, 32]]);
  assert.equal([...st.tensors.entries()].map(([n, t]) => [n, t.shape]), expect);
});

test('deterministic: the same run gives the same bytes, whatever the thread count', () => {
  train(join(tmp, 'b'), '--threads', '1');
  assert.ok(readFileSync(join(tmp, 'a/model.safetensors')).equals(readFileSync(join(tmp, 'b/model.safetensors'))));
});

test('--resume continues from the last checkpoint exactly', () => {
  const out = join(tmp, 'c');
  train(out, '--stop-at', '20');
  assert.is(readSafetensors(join(out, 'model.safetensors')).metadata.step, '20');
  const stdout = train(out, '--resume');
  assert.match(stdout, /auton:progress \{"step":20,/);
  assert.ok(readFileSync(join(tmp, 'a/model.safetensors')).equals(readFileSync(join(out, 'model.safetensors'))));
  const steps = readFileSync(join(out, 'train_log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).step);
  assert.equal(steps, [0, 10, 20, 30, 40, 50, 60]);
});

test('--init-from continues from another run\'s weights with a fresh schedule; another architecture is refused', () => {
  const a = readFileSync(join(tmp, 'a/train_log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const out = join(tmp, 'e');
  const stderr = spawnSync(bin, ['--config', join(tmp, 'config.json'), '--train', join(tmp, 'train.bin'), '--val',
    join(tmp, 'val.bin'), '--out', out, '--init-from', join(tmp, 'a/model.safetensors')], { encoding: 'utf8' });
  assert.is(stderr.status, 0, stderr.stderr);
  const log = readFileSync(join(out, 'train_log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.is(log[0].step, 0);
  assert.ok(Math.abs(log[0].val_loss - a.at(-1).val_loss) < 1e-6, 'step 0 is the other run\'s final model');
  assert.ok(log[0].val_loss < a[0].val_loss / 4, `${log[0].val_loss} vs a fresh ${a[0].val_loss}`);
  assert.is(log.at(-1).step, 60);
  writeFileSync(join(tmp, 'wide.json'), JSON.stringify({ ...config, dim: 64 }));
  const r = spawnSync(bin, ['--config', join(tmp, 'wide.json'), '--train', join(tmp, 'train.bin'), '--val', join(tmp, 'val.bin'),
    '--out', join(tmp, 'f'), '--init-from', join(tmp, 'a/model.safetensors')], { encoding: 'utf8' });
  assert.is(r.status, 2);
  assert.match(r.stderr, /--init-from .*model\.safetensors: not an slm-train checkpoint of this architecture/);
});

test('--eval matches the logged validation loss; --generate continues the pattern', () => {
  const ckpt = join(tmp, 'a/model.safetensors');
  const ev = JSON.parse(execFileSync(bin, ['--eval', '--ckpt', ckpt, '--val', join(tmp, 'val.bin')], { encoding: 'utf8' }));
  const log = readFileSync(join(tmp, 'a/train_log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(Math.abs(ev.val_loss - log.at(-1).val_loss) < 1e-6, `${ev.val_loss} vs ${log.at(-1).val_loss}`);
  assert.ok(Math.abs(ev.ppl - Math.exp(ev.val_loss)) < 1e-3);
  const gen = execFileSync(bin, ['--generate', '--ckpt', ckpt, '--n', '12', '--stop', String(EOT)],
    { input: `${EOT} 1 2 3\n${EOT} 7 8\n`, encoding: 'utf8' });
  assert.equal(gen.trim().split('\n'), ['4 5 6 7 8 9 10 11 12 63', '9 10 11 12 63']);
});

test('errors say what is wrong', () => {
  writeFileSync(join(tmp, 'bad.bin'), Buffer.from(new Uint16Array([1, 2, 64, 3]).buffer));
  const r = spawnSync(bin, ['--config', join(tmp, 'config.json'), '--train', join(tmp, 'bad.bin'), '--val', join(tmp, 'val.bin'),
    '--out', join(tmp, 'd')], { encoding: 'utf8' });
  assert.is(r.status, 2);
  assert.match(r.stderr, /bad\.bin: token id 64 at position 2 is >= vocab_size 64/);
  writeFileSync(join(tmp, 'bad.json'), JSON.stringify({ ...config, n_kv_heads: 3 }));
  const r2 = spawnSync(bin, ['--config', join(tmp, 'bad.json'), '--train', join(tmp, 'train.bin'), '--val', join(tmp, 'val.bin'),
    '--out', join(tmp, 'd')], { encoding: 'utf8' });
  assert.match(r2.stderr, /n_heads 4 must be a multiple of n_kv_heads 3/);
});

test.run();
