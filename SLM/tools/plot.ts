// loss.svg: train and validation loss against step from train_log.jsonl, as one
// self-contained SVG (no scripts, no external fonts or styles).
import { readFileSync, writeFileSync } from 'node:fs';

export interface LogEntry { step: number; loss?: number; val_loss?: number; lr?: number; tokens_per_s?: number }

export function readTrainLog(file: string): LogEntry[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l, i) => {
    try {
      return JSON.parse(l) as LogEntry;
    } catch {
      throw new Error(`${file}:${i + 1}: not a JSON line: ${l.slice(0, 80)}`);
    }
  });
}

// 1, 2, 5 x 10^k tick spacing giving about `count` ticks over [lo, hi].
function ticks(lo: number, hi: number, count: number): number[] {
  const span = hi - lo || 1, raw = span / count, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderLossSvg(log: LogEntry[], title = 'training loss'): string {
  const W = 640, H = 400, ml = 60, mr = 20, mt = 40, mb = 50;
  const train = log.filter((e) => Number.isFinite(e.loss)).map((e) => [e.step, e.loss!] as const);
  const val = log.filter((e) => Number.isFinite(e.val_loss)).map((e) => [e.step, e.val_loss!] as const);
  const pts = [...train, ...val];
  const xMax = Math.max(1, ...pts.map((p) => p[0])), xMin = 0;
  let yMin = Math.min(...pts.map((p) => p[1])), yMax = Math.max(...pts.map((p) => p[1]));
  if (!pts.length) { yMin = 0; yMax = 1; }
  if (yMax - yMin < 1e-6) { yMin -= 0.5; yMax += 0.5; }
  const pad = (yMax - yMin) * 0.05;
  yMin = Math.max(0, yMin - pad); yMax += pad;
  const X = (x: number) => ml + ((x - xMin) / (xMax - xMin)) * (W - ml - mr);
  const Y = (y: number) => mt + (1 - (y - yMin) / (yMax - yMin)) * (H - mt - mb);
  const path = (p: readonly (readonly [number, number])[]) =>
    p.map(([x, y], i) => `${i ? 'L' : 'M'}${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' ');
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`);
  for (const t of ticks(yMin, yMax, 6)) {
    out.push(`<line x1="${ml}" x2="${W - mr}" y1="${Y(t).toFixed(1)}" y2="${Y(t).toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${ml - 6}" y="${(Y(t) + 4).toFixed(1)}" text-anchor="end">${t}</text>`);
  }
  for (const t of ticks(xMin, xMax, 8)) {
    out.push(`<line x1="${X(t).toFixed(1)}" x2="${X(t).toFixed(1)}" y1="${H - mb}" y2="${H - mb + 5}" stroke="black"/>`);
    out.push(`<text x="${X(t).toFixed(1)}" y="${H - mb + 18}" text-anchor="middle">${t}</text>`);
  }
  out.push(`<line x1="${ml}" y1="${mt}" x2="${ml}" y2="${H - mb}" stroke="black"/>`);
  out.push(`<line x1="${ml}" y1="${H - mb}" x2="${W - mr}" y2="${H - mb}" stroke="black"/>`);
  out.push(`<text x="${(ml + W - mr) / 2}" y="${H - 12}" text-anchor="middle">step</text>`);
  out.push(`<text x="16" y="${(mt + H - mb) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(mt + H - mb) / 2})">cross-entropy loss (nats/token)</text>`);
  if (train.length) out.push(`<path d="${path(train)}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>`);
  if (val.length) {
    out.push(`<path d="${path(val)}" fill="none" stroke="#d62728" stroke-width="1.5" stroke-dasharray="5,3"/>`);
    for (const [x, y] of val) out.push(`<circle cx="${X(x).toFixed(1)}" cy="${Y(y).toFixed(1)}" r="2.5" fill="#d62728"/>`);
  }
  const lx = W - mr - 130;
  out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${mt + 10}" y2="${mt + 10}" stroke="#1f77b4" stroke-width="1.5"/><text x="${lx + 30}" y="${mt + 14}">train loss</text>`);
  out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${mt + 28}" y2="${mt + 28}" stroke="#d62728" stroke-width="1.5" stroke-dasharray="5,3"/><text x="${lx + 30}" y="${mt + 32}">validation loss</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

export function writeLossSvg(trainLog: string, outFile: string, title?: string): void {
  writeFileSync(outFile, renderLossSvg(readTrainLog(trainLog), title));
}
