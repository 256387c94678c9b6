// The `dataset` stage: an OS/hardware corpus from Debian-packaged text, split and mixed for a
// tiny model. Output (outDir): train.txt, val.txt, probes.jsonl, stats.json (see specs/data.md).
//
// Why this mix: the model is ~1M parameters trained for a few CPU minutes, and it is judged on
// completing "PCI device 8086:10d3 is" with the right vendor and device. So PCI sentences
// dominate (repeated, reshuffled each pass, until the byte budget is full), vendor sentences
// teach the id → vendor map directly, and man-page prose / usb.ids stay a small minority that
// keeps the model a language model. A bounded size means training sees the data many times.
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  readIds, deviceSentence, deviceSubject, deviceAnswer, vendorSentence,
  type IdsDatabase, type IdsDevice,
} from './dataset-ids.js';
import { manPagePath, readManPage } from './dataset-man.js';
import { rng, shuffled, unitHash } from './dataset-random.js';
import { coverage, textStats, type TextStats, type Coverage } from './dataset-stats.js';
import {
  DEFAULT_MAN_DIR, DEFAULT_MAN_PAGES, DEFAULT_PCI_IDS, DEFAULT_USB_IDS, PINNED_DEVICES,
} from './dataset-sources.js';

export interface DatasetOptions {
  outDir: string;
  /** Seeds every shuffle and the probe sample (the train/val split does not depend on it). */
  seed?: number;
  /** Size of train.txt in bytes (default 3 MB); val.txt gets maxBytes * valFraction. */
  maxBytes?: number;
  /** Share of bytes given to man-page prose (default 0.10). */
  proseFraction?: number;
  /** Share of bytes given to usb.ids sentences when that file is present (default 0.05). */
  usbFraction?: number;
  /** Share of devices (and man pages) held out for validation, by hash of their id (0.05). */
  valFraction?: number;
  /** Number of probe questions sampled from training devices (default 200). */
  probeCount?: number;
  pciIds?: string;
  /** null: no USB. The default path is optional (skipped if absent); an explicit one is not. */
  usbIds?: string | null;
  manDir?: string;
  manPages?: readonly string[];
  /**
   * The user's own text (e.g. the files of `dataset({ extraFiles })` in rules/slm.ts): each
   * paragraph (blank-line separated, its lines joined by spaces) enters the corpus once,
   * in train or val by a hash of (name, paragraph index), taking bytes from the PCI share.
   * At most half of each split's budget; what does not fit is dropped (stats.json says so).
   */
  extra?: readonly { name: string; text: string }[];
}

export interface Probe {
  prompt: string;
  answer: string;
  vendor: string;
  vendor_id: string;
  device_id: string;
}

export interface SplitStats extends TextStats {
  /** `extra` only when the user's own text was given (so the default corpus is unchanged). */
  bySource: Record<Source, { lines: number; bytes: number; passes: number }> & { extra?: { lines: number; bytes: number; passes: number } };
}

export interface DatasetStats {
  options: Required<Omit<DatasetOptions, 'outDir' | 'manPages' | 'extra'>>;
  sources: {
    pci: SourceStats;
    usb: SourceStats | { skipped: string };
    man: { dir: string; pages: number; trainPages: string[]; valPages: string[]; redirects: string[] };
    extra?: { files: string[]; paragraphs: number; trainParagraphs: number; valParagraphs: number; dropped: number };
  };
  train: SplitStats;
  val: SplitStats;
  coverage: Coverage;
  probes: { count: number; pinned: string[] };
}

interface SourceStats {
  file: string;
  version: string | null;
  vendors: number;
  devices: number;
  trainDevices: number;
  valDevices: number;
}

type Source = 'pci' | 'usb' | 'man';
interface Item { text: string; device?: IdsDevice }

export async function buildDataset(opts: DatasetOptions): Promise<DatasetStats> {
  const o = {
    seed: opts.seed ?? 1337,
    maxBytes: opts.maxBytes ?? 3_000_000,
    proseFraction: opts.proseFraction ?? 0.1,
    usbFraction: opts.usbFraction ?? 0.05,
    valFraction: opts.valFraction ?? 0.05,
    probeCount: opts.probeCount ?? 200,
    pciIds: opts.pciIds ?? DEFAULT_PCI_IDS,
    usbIds: opts.usbIds === undefined ? DEFAULT_USB_IDS : opts.usbIds,
    manDir: opts.manDir ?? DEFAULT_MAN_DIR,
  };
  checkOptions(o);
  const next = rng(o.seed);

  // Sources, each split by a hash of its stable id: the same device is in val on every build.
  const pci = readIds(o.pciIds, 'pci.ids');
  const pciSplit = splitDevices(pci, 'PCI', o.valFraction);
  let usbSplit: ReturnType<typeof splitDevices> | null = null;
  let usb: IdsDatabase | null = null;
  let usbSkipped = 'usbIds: null';
  if (o.usbIds !== null) {
    if (opts.usbIds === undefined && !existsSync(o.usbIds)) {
      usbSkipped = `${o.usbIds} absent (Debian package \`usb.ids\`)`;
    } else {
      usb = readIds(o.usbIds, 'usb.ids');
      usbSplit = splitDevices(usb, 'USB', o.valFraction);
    }
  }
  const man = readManPages(o.manDir, opts.manPages ?? DEFAULT_MAN_PAGES, o.valFraction);
  const extra = splitExtra(opts.extra ?? [], o.valFraction);
  let extraDropped = 0;

  const build = (split: 'train' | 'val', budget: number) => {
    const proseItems = takeProse(split === 'train' ? man.train : man.val, budget * o.proseFraction, next);
    const usbItems = usbSplit
      ? fill(usbSplit[split], budget * o.usbFraction, false, next)
      : { items: [], passes: 0 };
    const extraItems = fill(extra[split], budget / 2, false, next);
    extraDropped += extra[split].length - extraItems.items.length;
    const pciBudget = budget - bytesOf(proseItems) - bytesOf(usbItems.items) - bytesOf(extraItems.items);
    const pciItems = fill(pciSplit[split], pciBudget, split === 'train', next);
    const items = shuffled([...pciItems.items, ...usbItems.items, ...proseItems, ...extraItems.items], next);
    const lines = items.map((i) => i.text);
    const stats: SplitStats = {
      ...textStats(lines),
      bySource: {
        pci: sourceStats(pciItems.items, pciItems.passes),
        usb: sourceStats(usbItems.items, usbItems.passes),
        man: sourceStats(proseItems, 1),
        ...(opts.extra?.length ? { extra: sourceStats(extraItems.items, extraItems.passes) } : {}),
      },
    };
    return { lines, items: pciItems.items, stats };
  };
  const train = build('train', o.maxBytes);
  const val = build('val', Math.round(o.maxBytes * o.valFraction));

  const probes = sampleProbes(train.items, o.probeCount, o.seed);

  const stats: DatasetStats = {
    options: o,
    sources: {
      pci: sourceSummary(pci, pciSplit),
      usb: usb && usbSplit ? sourceSummary(usb, usbSplit) : { skipped: usbSkipped },
      man: {
        dir: o.manDir,
        pages: man.train.length + man.val.length,
        trainPages: man.train.map((p) => p.name),
        valPages: man.val.map((p) => p.name),
        redirects: man.redirects,
      },
      ...(opts.extra?.length ? {
        extra: {
          files: opts.extra.map((e) => e.name),
          paragraphs: extra.train.length + extra.val.length,
          trainParagraphs: extra.train.length,
          valParagraphs: extra.val.length,
          dropped: extraDropped,
        },
      } : {}),
    },
    train: train.stats,
    val: val.stats,
    coverage: coverage(train.lines, val.lines),
    probes: { count: probes.length, pinned: PINNED_DEVICES.filter((k) => probes.some((p) => `${p.vendor_id}:${p.device_id}` === k)) },
  };

  mkdirSync(opts.outDir, { recursive: true });
  writeFileSync(join(opts.outDir, 'train.txt'), train.lines.join('\n') + '\n');
  writeFileSync(join(opts.outDir, 'val.txt'), val.lines.join('\n') + '\n');
  writeFileSync(join(opts.outDir, 'probes.jsonl'), probes.map((p) => JSON.stringify(p)).join('\n') + '\n');
  writeFileSync(join(opts.outDir, 'stats.json'), JSON.stringify(stats, null, 2) + '\n');
  return stats;
}

function checkOptions(o: { maxBytes: number; proseFraction: number; usbFraction: number; valFraction: number; probeCount: number; seed: number }): void {
  const frac = (name: string, v: number) => {
    if (!(v >= 0 && v < 1)) throw new Error(`dataset: option ${name}=${v} must be in [0, 1)`);
  };
  frac('proseFraction', o.proseFraction);
  frac('usbFraction', o.usbFraction);
  frac('valFraction', o.valFraction);
  if (o.proseFraction + o.usbFraction >= 0.9) {
    throw new Error(`dataset: proseFraction + usbFraction = ${o.proseFraction + o.usbFraction} leaves too little room for PCI sentences (keep it under 0.9)`);
  }
  if (!(o.maxBytes >= 10_000)) throw new Error(`dataset: option maxBytes=${o.maxBytes} must be at least 10000`);
  if (!Number.isInteger(o.probeCount) || o.probeCount < 0) throw new Error(`dataset: option probeCount=${o.probeCount} must be a non-negative integer`);
  if (!Number.isInteger(o.seed)) throw new Error(`dataset: option seed=${o.seed} must be an integer`);
}

/** Device and vendor sentences of one bus, split by device id; pinned devices stay in train. */
function splitDevices(db: IdsDatabase, bus: string, valFraction: number) {
  const train: Item[] = [];
  const val: Item[] = [];
  for (const d of db.devices) {
    const key = `${d.vendorId}:${d.deviceId}`;
    const isVal = !PINNED_DEVICES.includes(key) && unitHash(`${bus}:${key}`) < valFraction;
    (isVal ? val : train).push({ text: deviceSentence(bus, d), device: bus === 'PCI' ? d : undefined });
  }
  // Vendors are not devices: all vendor sentences train the id → name map.
  for (const v of db.vendors) train.push({ text: vendorSentence(bus, v) });
  return { train, val };
}

function sourceSummary(db: IdsDatabase, split: { train: Item[]; val: Item[] }): SourceStats {
  return {
    file: db.file,
    version: db.version,
    vendors: db.vendors.length,
    devices: db.devices.length,
    trainDevices: db.devices.length - split.val.length,
    valDevices: split.val.length,
  };
}

interface Page { name: string; paragraphs: string[] }

/** The user's text as one-line paragraphs, split into train/val by a stable hash. */
function splitExtra(files: readonly { name: string; text: string }[], valFraction: number) {
  const train: Item[] = [];
  const val: Item[] = [];
  for (const f of files) {
    const paragraphs = f.text.split(/\n\s*\n/).map((p) => p.replace(/\s+/g, ' ').trim()).filter((p) => p.length > 0);
    paragraphs.forEach((text, i) => (unitHash(`extra:${f.name}:${i}`) < valFraction ? val : train).push({ text }));
  }
  return { train, val };
}

function readManPages(manDir: string, names: readonly string[], valFraction: number) {
  const train: Page[] = [];
  const val: Page[] = [];
  const redirects: string[] = [];
  for (const name of names) {
    const paragraphs = readManPage(manPagePath(manDir, name));
    if (paragraphs === null) { redirects.push(name); continue; }
    (unitHash(`man:${name}`) < valFraction ? val : train).push({ name, paragraphs });
  }
  return { train, val, redirects };
}

/**
 * Prose up to `budget` bytes, breadth first: in rounds, each page (in seeded order) adds its
 * next paragraphs up to an equal share, so a small budget still samples many pages.
 */
function takeProse(pages: Page[], budget: number, next: () => number): Item[] {
  const out: Item[] = [];
  if (pages.length === 0 || budget <= 0) return out;
  const order = shuffled(pages, next);
  const pos = new Array(order.length).fill(0);
  const share = Math.max(1, Math.floor(budget / order.length));
  let total = 0;
  let progress = true;
  while (progress && total < budget) {
    progress = false;
    for (let i = 0; i < order.length && total < budget; i++) {
      let taken = 0;
      const paras = order[i].paragraphs;
      while (pos[i] < paras.length && taken < share) {
        const b = lineBytes(paras[pos[i]]);
        if (total + b > budget) { total = budget; break; }
        out.push({ text: paras[pos[i]++] });
        taken += b;
        total += b;
        progress = true;
      }
    }
  }
  return out;
}

/**
 * Whole shuffled passes over `items` until `budget` bytes (one partial pass when `repeat` is
 * false). Pinned devices lead the first pass so a small budget never drops them.
 */
function fill(items: Item[], budget: number, repeat: boolean, next: () => number) {
  const out: Item[] = [];
  const isPinned = (i: Item) => !!i.device && PINNED_DEVICES.includes(`${i.device.vendorId}:${i.device.deviceId}`);
  let total = 0;
  let passes = 0;
  if (items.length === 0) return { items: out, passes };
  for (let pass = 0; total < budget && (repeat || pass === 0); pass++) {
    const order = pass === 0
      ? [...items.filter(isPinned), ...shuffled(items.filter((i) => !isPinned(i)), next)]
      : shuffled(items, next);
    let n = 0;
    for (const item of order) {
      const b = lineBytes(item.text);
      if (total + b > budget) break;
      out.push(item);
      total += b;
      n++;
    }
    passes += n / order.length;
    if (n < order.length) break;
  }
  return { items: out, passes: Math.round(passes * 1000) / 1000 };
}

/** Probes from PCI devices that are really in train.txt, pinned ones first. */
function sampleProbes(trainItems: Item[], count: number, seed: number): Probe[] {
  const seen = new Map<string, IdsDevice>();
  for (const i of trainItems) if (i.device) seen.set(`${i.device.vendorId}:${i.device.deviceId}`, i.device);
  const keys = [...seen.keys()].sort();
  const pinned = PINNED_DEVICES.filter((k) => seen.has(k));
  const rest = shuffled(keys.filter((k) => !pinned.includes(k)), rng(seed ^ 0x5eed));
  return [...pinned, ...rest].slice(0, count).map((k) => {
    const d = seen.get(k)!;
    return {
      prompt: deviceSubject('PCI', d),
      answer: deviceAnswer(d),
      vendor: d.vendorName,
      vendor_id: d.vendorId,
      device_id: d.deviceId,
    };
  });
}

function sourceStats(items: Item[], passes: number) {
  return { lines: items.length, bytes: bytesOf(items), passes };
}

function bytesOf(items: Item[]): number {
  let b = 0;
  for (const i of items) b += lineBytes(i.text);
  return b;
}

function lineBytes(text: string): number {
  return Buffer.byteLength(text, 'utf8') + 1;
}
