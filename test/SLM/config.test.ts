import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPreset, writeConfig, validatePreset, estimate, listPresets } from '../../SLM/tools/config.js';

const tmp = mkdtempSync(join(tmpdir(), 'auton-config-'));

test('the presets load and have the documented sizes', () => {
  assert.equal(listPresets(), ['micro', 'small_50M', 'smoke', 'tiny_10M']);
  const micro = loadPreset('micro');
  assert.is(micro.vocab_size, 1024);
  assert.ok(micro.estimates.params > 0.9e6 && micro.estimates.params < 1.2e6, `micro params ${micro.estimates.params}`);
  assert.ok(Math.abs(loadPreset('tiny_10M').estimates.params - 10e6) < 1.5e6);
  assert.ok(Math.abs(loadPreset('small_50M').estimates.params - 50e6) < 6e6);
  assert.is(loadPreset().name, 'micro');
});

test('parameter count matches the tensors of the contract, by hand', () => {
  const c = loadPreset('micro');
  const D = 128, QD = 128, KVD = 64, F = 384, V = 1024, L = 4;
  const byHand = V * D + L * (D + QD * D + 2 * KVD * D + D * QD + D + 3 * F * D) + D + V * D;
  assert.is(c.estimates.params, byHand);
  assert.is(c.head_dim, 32);
  // training FLOPs: 6 per matmul weight per token plus attention over seq_len
  assert.is(c.estimates.flops_per_token, 6 * (byHand - V * D - L * 2 * D - D) + 12 * L * 128 * QD);
  assert.ok(c.estimates.train_memory_bytes > 5 * 4 * byHand);
});

test('writeConfig writes config.json that loadPreset reads back', async () => {
  const out = join(tmp, 'a', 'config.json');
  const c = await writeConfig('micro', out);
  const json = JSON.parse(readFileSync(out, 'utf8'));
  assert.is(json.name, 'micro');
  assert.is(json.train.batch_size, c.train.batch_size);
  assert.is(json.estimates.params, c.estimates.params);
  assert.equal(loadPreset(out), c);
});

test('a preset by path, and an unknown name names the presets', () => {
  const y = join(tmp, 'mine.yaml');
  writeFileSync(y, readFileSync(join(import.meta.dirname, '../../SLM/configs/micro.yaml'), 'utf8').replace('name: micro', 'name: mine'));
  assert.is(loadPreset(y).name, 'mine');
  assert.throws(() => loadPreset('nope'), /preset "nope" not found.*micro, small_50M, smoke, tiny_10M/);
});

test('bad shapes are rejected with messages that say what to fix', () => {
  const base = loadPreset('micro');
  const bad = (patch: object, re: RegExp) => {
    try {
      validatePreset({ ...base, ...patch }, 'bad.yaml');
      assert.unreachable(`accepted ${JSON.stringify(patch)}`);
    } catch (e) {
      assert.match((e as Error).message, re);
      assert.match((e as Error).message, /invalid SLM preset bad\.yaml/);
    }
  };
  bad({ dim: 100 }, /dim 100 must be a multiple of 32/);
  bad({ ffn_dim: 300 }, /ffn_dim 300 must be a multiple of 32/);
  bad({ n_heads: 3 }, /dim 128 must be divisible by n_heads 3/);
  bad({ dim: 96, n_heads: 32 }, /head_dim = dim\/n_heads = 3 must be even/);
  bad({ n_kv_heads: 3 }, /n_heads 4 must be a multiple of n_kv_heads 3/);
  bad({ vocab_size: 70000 }, /vocab_size must be <= 65536/);
  bad({ train: { ...base.train, lr: -1 } }, /train\.lr/);
  bad({ train: { ...base.train, min_lr: 1 } }, /min_lr 1 must be <= lr/);
  bad({ extra: 1 }, /extra/);
});

test('estimate grows with the model', () => {
  const c = loadPreset('micro');
  const bigger = estimate({ ...c, n_layers: 8 });
  assert.ok(bigger.params > c.estimates.params && bigger.flops_per_token > c.estimates.flops_per_token);
});

test.run();
