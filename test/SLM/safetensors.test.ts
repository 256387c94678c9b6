import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors, halfToFloat } from '../../SLM/tools/safetensors.js';

const tmp = mkdtempSync(join(tmpdir(), 'auton-st-'));

test('write then read returns the same tensors, order and metadata', () => {
  const f = join(tmp, 'a.safetensors');
  const w = Float32Array.from({ length: 6 }, (_, i) => i * 0.5 - 1);
  writeSafetensors(f, new Map([['b.weight', { shape: [2, 3], data: w }], ['a.norm', { shape: [3], data: [1, 2, 3] }]]),
    { config: '{"dim":3}', step: '7' });
  const r = readSafetensors(f);
  assert.equal(r.metadata, { config: '{"dim":3}', step: '7' });
  assert.equal([...r.tensors.keys()], ['b.weight', 'a.norm']);
  assert.equal(r.tensors.get('b.weight')!.shape, [2, 3]);
  assert.equal([...r.tensors.get('b.weight')!.data], [...w]);
  assert.equal([...r.tensors.get('a.norm')!.data], [1, 2, 3]);
});

test('the layout follows the safetensors format byte for byte', () => {
  const f = join(tmp, 'b.safetensors');
  writeSafetensors(f, { x: { shape: [1], data: [1.5] } });
  const buf = readFileSync(f);
  const n = Number(buf.readBigUInt64LE(0));
  assert.is((8 + n) % 8, 0, 'data is 8-byte aligned');
  const header = JSON.parse(buf.subarray(8, 8 + n).toString());
  assert.equal(header, { x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } });
  assert.is(buf.readFloatLE(8 + n), 1.5);
  assert.is(buf.length, 8 + n + 4);
});

test('reads F16 and BF16 written by other tools', () => {
  const header = JSON.stringify({ h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, b: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] } });
  const hb = Buffer.from(header);
  const buf = Buffer.alloc(8 + hb.length + 6);
  buf.writeBigUInt64LE(BigInt(hb.length));
  hb.copy(buf, 8);
  buf.writeUInt16LE(0x3c00, 8 + hb.length);       // 1.0
  buf.writeUInt16LE(0xc000, 8 + hb.length + 2);   // -2.0
  buf.writeUInt16LE(0x4049, 8 + hb.length + 4);   // bf16 3.140625
  const f = join(tmp, 'c.safetensors');
  writeFileSync(f, buf);
  const r = readSafetensors(f);
  assert.equal([...r.tensors.get('h')!.data], [1, -2]);
  assert.is(r.tensors.get('b')!.data[0], 3.140625);
  assert.is(halfToFloat(0x7bff), 65504);
});

test('corrupt files give errors that name the file and the problem', () => {
  const f = join(tmp, 'bad.safetensors');
  writeFileSync(f, Buffer.from([1, 2, 3]));
  assert.throws(() => readSafetensors(f), /too short/);
  const hb = Buffer.from(JSON.stringify({ t: { dtype: 'F32', shape: [4], data_offsets: [0, 8] } }));
  const buf = Buffer.alloc(8 + hb.length + 8);
  buf.writeBigUInt64LE(BigInt(hb.length));
  hb.copy(buf, 8);
  writeFileSync(f, buf);
  assert.throws(() => readSafetensors(f), /bad\.safetensors: tensor t: data_offsets \[0, 8\] do not match shape \[4\]/);
  assert.throws(() => writeSafetensors(f, { t: { shape: [2, 2], data: [1] } }), /shape \[2,2\] \(4 values\) but 1/);
});

test.run();
