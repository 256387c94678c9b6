// report.test.ts — `auton report` on a real build, rendered by headless Chromium.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inflateSync } from 'node:zlib'
import { Project, show } from '../helpers/project.js'

// two independent branches that run at the same time, and a join
const AUTONFILE = `import { target, sh } from 'auton'
const left = target('left', { inputs: ['src/a.txt'], outputs: ['out/left.txt'], run: sh\`sleep 0.4; cat src/a.txt > out/left.txt\` })
const right = target('right', { inputs: ['src/a.txt'], outputs: ['out/right.txt'], run: sh\`sleep 0.4; rev src/a.txt > out/right.txt\` })
target('joined', { inputs: [left, right], outputs: ['out/joined.txt'], default: true, run: sh\`cat \${left} \${right} > out/joined.txt\` })
`
const LOSS_SVG = `<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" width="320" height="160"><rect width="320" height="160" fill="#fff"/>
<polyline points="0,10 80,60 160,100 320,140" fill="none" stroke="#c00" stroke-width="3"/><text x="10" y="150">LOSS-CURVE-MARK</text>
<script>alert(1)</script></svg>`
const METRICS = JSON.stringify({ val_loss: 1.2345, exact_match: 0.75, examples: [{ prompt: 'PCI device 8086:10d3 is', completion: 'Intel' }] })
const BOOT = '# QEMU boot x86_64\n\n```\nslm> slm query "PCI device 8086:10d3 is"\nIntel Corporation 82574L\n```\n'

/** A built project with every kind of artifact the report picks up. */
const PROJECT = {
  'autonfile.ts': AUTONFILE,
  'src/a.txt': 'abc\n',
  'SLM/models/micro/loss.svg': LOSS_SVG,
  'SLM/models/micro/metrics.json': METRICS,
  'reports/qemu-boot-x86_64.md': BOOT,
}

const t = suite('auton report')

t('writes one self-contained page: graph, timeline, caches, loss, metrics, boot transcript', async () => {
  const p = new Project(PROJECT)
  try {
    const b = await p.build('-j', '2')
    assert.is(b.code, 0, show(b))
    const r = await p.run(['report'])
    assert.is(r.code, 0, show(r))
    const html = p.read('.auton/report.html')
    for (const name of ['left', 'right', 'joined']) assert.match(html, `>${name}<`)
    assert.match(html, /aria-label="build graph"/)
    assert.match(html, /aria-label="timeline"/)
    assert.match(html, /3 recipe run\(s\) on 2 lane\(s\)/, 'left and right ran in parallel')
    assert.match(html, /LOSS-CURVE-MARK/)
    assert.not.match(html, /<script/i, 'no scripts, not even from an inlined SVG')
    assert.match(html, /exact_match/)
    assert.match(html, /0\.7500/)
    assert.match(html, /Intel Corporation 82574L/)
    assert.match(html, /slm&gt; slm query/)
    // nothing is fetched from anywhere: the only URLs are SVG namespaces
    const urls = [...html.matchAll(/(?:src|href)\s*=\s*["']([^"'#][^"']*)/g)].map((m) => m[1])
    assert.equal(urls, [])
    assert.not.match(html, /@import|url\(http/)

    // a second build restores from the local cache: the report says so
    p.write('src/a.txt', 'xyz\n')
    assert.is((await p.build()).code, 0)
    p.write('src/a.txt', 'abc\n')
    assert.is((await p.build()).code, 0)
    assert.is((await p.run(['report'])).code, 0)
    assert.match(p.read('.auton/report.html'), /Restored from the local cache: 3; from the remote cache: 0/)
  } finally {
    p.remove()
  }
})

t('renders in headless Chromium to a non-trivial screenshot', async () => {
  const p = new Project(PROJECT)
  const profile = mkdtempSync(join(tmpdir(), 'auton-chromium-'))
  try {
    assert.is((await p.build('-j', '2')).code, 0)
    assert.is((await p.run(['report'])).code, 0)
    const png = process.env.AUTON_REPORT_PNG ?? join(profile, 'report.png')
    const r = spawnSync('/usr/bin/chromium', [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', `--user-data-dir=${profile}`, `--screenshot=${png}`, '--window-size=1280,2000',
      `file://${p.path('.auton/report.html')}`,
    ], { timeout: 60_000, encoding: 'utf8' })
    assert.ok(existsSync(png), `chromium wrote no screenshot (status ${r.status}):\n${r.stderr}`)
    assert.ok(statSync(png).size > 20_000, `screenshot is only ${statSync(png).size} bytes`)
    const { width, height, distinct } = pngStats(readFileSync(png))
    assert.is(width, 1280)
    assert.is(height, 2000)
    assert.ok(distinct > 64, `a page with text, boxes and colours has many byte values; got ${distinct}`)
  } finally {
    p.remove()
    rmSync(profile, { recursive: true, force: true })
  }
})

/** Width, height and how many distinct byte values the decompressed scanlines hold. */
function pngStats(buf: Buffer): { width: number; height: number; distinct: number } {
  assert.is(buf.subarray(1, 4).toString(), 'PNG')
  const idat: Buffer[] = []
  let width = 0
  let height = 0
  for (let off = 8; off < buf.length; ) {
    const len = buf.readUInt32BE(off)
    const type = buf.subarray(off + 4, off + 8).toString()
    const data = buf.subarray(off + 8, off + 8 + len)
    if (type === 'IHDR') {
      width = data.readUInt32BE(0)
      height = data.readUInt32BE(4)
    } else if (type === 'IDAT') idat.push(data)
    off += 12 + len
  }
  const raw = inflateSync(Buffer.concat(idat))
  const seen = new Set<number>()
  for (let i = 0; i < raw.length; i += 7) seen.add(raw[i])
  return { width, height, distinct: seen.size }
}

t.run()
