// bench/watch/run.ts — latency of `auton build --watch`: from a source file's write to its
// rebuilt output on disk, median over repeated edits.
//
//   npx tsx bench/watch/run.ts [--edits 20] [--targets 1,200]
//
// For each graph size N, a temp project holds N independent targets `tK: src/K.txt →
// out/K.txt` (cp) and one `all` target over them. A watcher builds `all`; then each edit
// writes new bytes to src/0.txt and the clock stops when out/0.txt holds them (polled
// every 2 ms). The other N-1 targets must be found up to date, so N shows what the
// per-cycle check of an unchanged graph costs. Edits are 400 ms apart, so each is a
// separate cycle. The number includes the 100 ms debounce.

import { readFileSync } from 'node:fs'
import { Project, waitFor } from '../../test/helpers/project.js'

const args = process.argv.slice(2)
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : dflt
}
const edits = Number(opt('edits', '20'))
const sizes = opt('targets', '1,200').split(',').map(Number)

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function bench(n: number): Promise<number[]> {
  const files: Record<string, string> = {}
  const lines = [`import { target, sh } from 'auton'`, `const ts = []`]
  lines.push(`for (let k = 0; k < ${n}; k++) ts.push(target('t' + k, { inputs: ['src/' + k + '.txt'], outputs: ['out/' + k + '.txt'], run: sh\`cp src/\${k}.txt out/\${k}.txt\` }))`)
  lines.push(`target('all', { inputs: ts, default: true })`)
  files['autonfile.ts'] = lines.join('\n') + '\n'
  for (let k = 0; k < n; k++) files[`src/${k}.txt`] = `source ${k}\n`
  const p = new Project(files)
  const child = p.spawn(['build', '--watch'])
  let err = ''
  child.stderr!.on('data', (d: Buffer) => (err += d))
  child.stdout!.resume()
  const idle = () => (err.match(/^watch: build (ok|FAILED)/gm) ?? []).length
  try {
    await waitFor(() => idle() >= 1, 120_000, `the first build\n${err}`)
    const out = p.path('out/0.txt')
    const times: number[] = []
    for (let i = 0; i < edits; i++) {
      const want = `edit ${i} ${Date.now()}\n`
      const t0 = performance.now()
      p.write('src/0.txt', want)
      for (;;) {
        let got = ''
        try {
          got = readFileSync(out, 'utf8')
        } catch {
          // being replaced
        }
        if (got === want) break
        if (performance.now() - t0 > 20_000) throw new Error(`edit ${i} not rebuilt within 20 s\n${err}`)
        await sleep(2)
      }
      times.push(performance.now() - t0)
      await waitFor(() => idle() >= i + 2, 20_000, `build after edit ${i}\n${err}`)
      await sleep(400)
    }
    return times
  } finally {
    child.kill('SIGINT')
    await new Promise((r) => child.once('exit', r))
    p.remove()
  }
}

const q = (xs: number[], f: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(f * xs.length))]

console.log(`| targets | edits | median ms | p90 ms | min ms |`)
console.log(`|---:|---:|---:|---:|---:|`)
for (const n of sizes) {
  const t = await bench(n)
  console.log(`| ${n} | ${t.length} | ${q(t, 0.5).toFixed(0)} | ${q(t, 0.9).toFixed(0)} | ${Math.min(...t).toFixed(0)} |`)
}
