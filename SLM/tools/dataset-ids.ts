// Parser for the pci.ids / usb.ids databases (same layout, Debian packages `pci.ids`, `usb.ids`):
//   vendor  vendor_name              (4 hex digits, two spaces)
//   <TAB>device  device_name
//   <TAB><TAB>subvendor subdevice  subsystem_name   (ignored: too many, too little signal)
// Other top-level sections ("C 02  Network controller", usb.ids "HID ..." etc.) end the
// vendor list's scope, so their indented lines are never mistaken for devices.
import { existsSync, readFileSync } from 'node:fs';

export interface IdsDevice {
  vendorId: string; // lowercase hex, 4 digits
  vendorName: string;
  deviceId: string; // lowercase hex, 4 digits
  deviceName: string;
}

export interface IdsDatabase {
  file: string;
  version: string | null;
  vendors: { id: string; name: string }[];
  devices: IdsDevice[];
}

const VENDOR = /^([0-9a-fA-F]{4})\s+(\S.*)$/;
const DEVICE = /^\t([0-9a-fA-F]{4})\s+(\S.*)$/;

/** Reads an ids file; a missing file is an error that names the Debian package to install. */
export function readIds(file: string, debianPackage: string): IdsDatabase {
  if (!existsSync(file)) {
    throw new Error(
      `dataset: ${file} not found. It comes from the Debian package \`${debianPackage}\`: ` +
        `run \`apt-get install -y ${debianPackage}\` (or pass another path).`,
    );
  }
  return parseIds(readFileSync(file, 'utf8'), file);
}

export function parseIds(text: string, file = '<text>'): IdsDatabase {
  const db: IdsDatabase = { file, version: null, vendors: [], devices: [] };
  let vendor: { id: string; name: string } | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith('#')) {
      const v = /^#\s*Version:\s*(\S+)/.exec(line);
      if (v && db.version === null) db.version = v[1];
      continue;
    }
    if (line.trim() === '') continue;
    if (!line.startsWith('\t')) {
      const m = VENDOR.exec(line);
      vendor = m ? { id: m[1].toLowerCase(), name: m[2].trim() } : null;
      if (vendor) db.vendors.push(vendor);
      continue;
    }
    const d = DEVICE.exec(line);
    if (d && vendor) {
      db.devices.push({
        vendorId: vendor.id,
        vendorName: vendor.name,
        deviceId: d[1].toLowerCase(),
        deviceName: d[2].trim(),
      });
    }
  }
  return db;
}

/** `PCI device 8086:10d3 is Intel Corporation 82574L Gigabit Network Connection.` */
export function deviceSentence(bus: string, d: IdsDevice): string {
  return `${deviceSubject(bus, d)} ${deviceAnswer(d)}${endsWithPeriod(d.deviceName) ? '' : '.'}`;
}

/** The probe prompt: the sentence up to and including "is". */
export function deviceSubject(bus: string, d: IdsDevice): string {
  return `${bus} device ${d.vendorId}:${d.deviceId} is`;
}

/** What the model should complete after the prompt (no final period). */
export function deviceAnswer(d: IdsDevice): string {
  return `${d.vendorName} ${d.deviceName}`;
}

/** `PCI vendor 8086 is Intel Corporation.` — teaches the id → vendor mapping directly. */
export function vendorSentence(bus: string, v: { id: string; name: string }): string {
  return `${bus} vendor ${v.id} is ${v.name}${endsWithPeriod(v.name) ? '' : '.'}`;
}

function endsWithPeriod(s: string): boolean {
  return s.endsWith('.');
}
