import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDataset } from '../../SLM/tools/dataset.js';
import { parseIds, deviceSentence } from '../../SLM/tools/dataset-ids.js';
import { roffToParagraphs } from '../../SLM/tools/dataset-man.js';

// Real Debian sources (packages pci.ids, manpages, manpages-dev); a small usb.ids fixture
// keeps the USB numbers independent of whether the usb.ids package is installed.
const tmp = mkdtempSync(join(tmpdir(), 'auton-dataset-'));
const usbIds = join(tmp, 'usb.ids');
writeFileSync(usbIds, [
  '# Version: 2099.01.01', '046d  Logitech, Inc.', '\tc52b  Unifying Receiver', '\tc077  M105 Optical Mouse',
  '\t\t0001  interface line, ignored', '1d6b  Linux Foundation', '\t0002  2.0 root hub', '\t0003  3.0 root hub',
  'C 09  Hub', '\t00  Unused', '',
].join('\n'));
const MAX = 300_000;

async function rejects(fn: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected an error matching ${pattern}`);
}
const read = (dir: string, f: string) => readFileSync(join(dir, f), 'utf8');
const lines = (dir: string, f: string) => read(dir, f).split('\n').filter(Boolean);
const deviceKeys = (ls: string[]) =>
  new Set(ls.map((l) => /^PCI device ([0-9a-f]{4}:[0-9a-f]{4}) is /.exec(l)?.[1]).filter(Boolean) as string[]);

const a = join(tmp, 'a');
let statsA: Awaited<ReturnType<typeof buildDataset>>;
test.before(async () => {
  statsA = await buildDataset({ outDir: a, maxBytes: MAX, usbIds });
});

test('train.txt fills the byte budget with the PCI-heavy mix', () => {
  const train = read(a, 'train.txt');
  const bytes = Buffer.byteLength(train);
  assert.ok(bytes <= MAX && bytes > MAX * 0.98, `train.txt is ${bytes} bytes for a ${MAX} budget`);
  assert.is(statsA.train.bytes, bytes);
  const by = statsA.train.bySource;
  assert.ok(by.man.bytes <= MAX * 0.1 && by.man.bytes > MAX * 0.09, `prose ${by.man.bytes}`);
  assert.ok(by.usb.lines === 6, `usb lines ${by.usb.lines}`); // 4 devices + 2 vendors, one pass
  assert.ok(by.pci.bytes > MAX * 0.8);
  const ls = lines(a, 'train.txt');
  assert.ok(ls.includes('PCI device 8086:10d3 is Intel Corporation 82574L Gigabit Network Connection.'));
  assert.ok(ls.includes('PCI device 8086:100e is Intel Corporation 82540EM Gigabit Ethernet Controller.'));
  assert.ok(ls.includes('PCI vendor 8086 is Intel Corporation.') || statsA.train.bySource.pci.passes < 1);
  assert.ok(ls.includes('USB device 046d:c52b is Logitech, Inc. Unifying Receiver.'));
  assert.not.ok(ls.some((l) => l.includes('interface line') || l.includes('Unused')));
  assert.ok(ls.every((l) => !l.includes('\\f') && !/^\.[A-Z]{1,2} /.test(l)), 'roff leaked into prose');
});

test('validation devices never appear in training', () => {
  const train = deviceKeys(lines(a, 'train.txt'));
  const val = deviceKeys(lines(a, 'val.txt'));
  assert.ok(val.size > 100, `only ${val.size} val devices`);
  for (const k of val) assert.not.ok(train.has(k), `${k} is in both splits`);
  assert.is(statsA.sources.pci.valDevices + statsA.sources.pci.trainDevices, statsA.sources.pci.devices);
  assert.is(statsA.sources.man.valPages.filter((p) => statsA.sources.man.trainPages.includes(p)).length, 0);
});

test('probes are training devices, pinned demo devices first', () => {
  const probes = lines(a, 'probes.jsonl').map((l) => JSON.parse(l));
  assert.is(probes.length, 200);
  assert.equal(probes[0], {
    prompt: 'PCI device 8086:10d3 is',
    answer: 'Intel Corporation 82574L Gigabit Network Connection',
    vendor: 'Intel Corporation',
    vendor_id: '8086',
    device_id: '10d3',
  });
  assert.is(`${probes[1].vendor_id}:${probes[1].device_id}`, '8086:100e');
  const train = new Set(lines(a, 'train.txt'));
  for (const p of probes) {
    assert.ok(train.has(`${p.prompt} ${p.answer}.`) || train.has(`${p.prompt} ${p.answer}`), `probe not in train: ${p.prompt}`);
    assert.ok(p.answer.startsWith(p.vendor + ' '));
  }
  assert.is(new Set(probes.map((p) => p.prompt)).size, 200);
});

test('stats report sizes and coverage', () => {
  const s = JSON.parse(read(a, 'stats.json'));
  assert.is(s.train.lines, lines(a, 'train.txt').length);
  assert.is(s.val.bytes, Buffer.byteLength(read(a, 'val.txt')));
  assert.is(s.sources.pci.file, '/usr/share/misc/pci.ids');
  assert.ok(s.sources.pci.devices > 10000 && s.sources.pci.vendors > 1000);
  assert.is(s.sources.usb.devices, 4);
  assert.ok(s.coverage.valCharCoverage > 0.99 && s.coverage.valWordCoverage > 0.5 && s.coverage.valWordCoverage < 1);
  assert.equal(s.probes.pinned, ['8086:10d3', '8086:100e']);
});

test('same options give byte-identical output; another seed reshuffles but keeps the split', async () => {
  const b = join(tmp, 'b');
  await buildDataset({ outDir: b, maxBytes: MAX, usbIds });
  for (const f of ['train.txt', 'val.txt', 'probes.jsonl', 'stats.json']) assert.ok(read(a, f) === read(b, f), `${f} differs`);
  const c = join(tmp, 'c');
  await buildDataset({ outDir: c, maxBytes: MAX, usbIds, seed: 7 });
  assert.ok(read(a, 'train.txt') !== read(c, 'train.txt'));
  const valA = deviceKeys(lines(a, 'val.txt'));
  const trainC = deviceKeys(lines(c, 'train.txt'));
  for (const k of valA) assert.not.ok(trainC.has(k), `${k}: split moved with the seed`);
});

test('missing sources name the Debian package to install', async () => {
  const out = join(tmp, 'err');
  await rejects(() => buildDataset({ outDir: out, pciIds: join(tmp, 'nope/pci.ids') }), /apt-get install -y pci\.ids/);
  await rejects(() => buildDataset({ outDir: out, usbIds: join(tmp, 'nope/usb.ids') }), /usb\.ids/);
  await rejects(() => buildDataset({ outDir: out, usbIds: null, manPages: ['nosuchcall.2'] }), /manpages-dev/);
  await rejects(() => buildDataset({ outDir: out, usbIds: null, manPages: ['nosuchdev.4'] }), /`manpages`/);
  await rejects(() => buildDataset({ outDir: out, proseFraction: 1.5 }), /proseFraction/);
});

test('parseIds reads vendors and devices, not subsystems or class sections', () => {
  const db = parseIds('# Version: 1\n8086  Intel Corporation\n\t10D3  82574L Gigabit Network Connection\n\t\t8086 a01f  sub\nC 02  Network controller\n\t00  Ethernet controller\n');
  assert.is(db.version, '1');
  assert.equal(db.vendors, [{ id: '8086', name: 'Intel Corporation' }]);
  assert.is(db.devices.length, 1);
  assert.is(deviceSentence('PCI', db.devices[0]), 'PCI device 8086:10d3 is Intel Corporation 82574L Gigabit Network Connection.');
  assert.is(deviceSentence('PCI', { ...db.devices[0], deviceName: 'Foo Inc.' }), 'PCI device 8086:10d3 is Intel Corporation Foo Inc.');
});

test('roffToParagraphs strips macros and escapes, skips code and boilerplate', () => {
  const roff = [
    '.\\" comment', '.TH TEST 7', '.SH NAME', 'test \\- a test page for the parser', '.SH SYNOPSIS', '.B int main(void);',
    '.SH DESCRIPTION', 'The', '.BR open (2)', 'call uses \\fBflags\\fP and \\(lqquotes\\(rq here.', '.PP',
    '.nf', 'int x = 1;', '.fi', 'Second paragraph with \\e backslash and \\-dash.', '.TP', '.B O_RDONLY',
    'Open for reading only.', '.SH SEE ALSO', '.BR close (2)',
  ].join('\n');
  assert.equal(roffToParagraphs(roff), [
    'test - a test page for the parser',
    'The open(2) call uses flags and "quotes" here.',
    'Second paragraph with \\ backslash and -dash.',
    'O_RDONLY Open for reading only.',
  ]);
  assert.is(roffToParagraphs('.so man2/other.2\n'), null);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
