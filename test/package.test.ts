// auton as a package in someone else's project: `npm pack` of this repository, installed
// into empty temp projects from the npm cache, as the README's "Use auton in your project"
// says. One project runs `auton init`, the first build, a second build, and then the README's
// composed pipeline (its own text in the corpus, one arch) type-checked and built; another
// gets this repository's autonfile.ts and auton.toml (smoke preset) unchanged and builds
// qemu-boot-report-x86_64: the kernel, compiled from the package's sources, answers.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const REPO = join(import.meta.dirname, '..')
const TSC = join(REPO, 'node_modules/typescript/bin/tsc')
const tmp = mkdtempSync(join(tmpdir(), 'auton-package-'))
const t0 = Date.now()
const timings: string[] = []
let tarball = ''

interface Run { code: number | null; out: string }
function run(cmd: string, args: string[], cwd: string, timeoutMs = 300_000): Run {
  const started = Date.now()
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } })
  timings.push(`${cmd} ${args.join(' ')}: ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}` }
}
function summary(r: Run): { ran: number; restored: number; upToDate: number } {
  const line = r.out.split('\n').reverse().find((l) => l.startsWith('{') && l.includes('"summary"'))
  assert.ok(line, `no JSON summary in:\n${r.out.slice(-2000)}`)
  return JSON.parse(line!).summary ?? JSON.parse(line!)
}
function project(name: string): string {
  const dir = join(tmp, name)
  mkdirSync(dir)
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true }) + '\n')
  const r = run('npm', ['i', '--prefer-offline', '--no-audit', '--no-fund', tarball], dir)
  assert.is(r.code, 0, `npm i ${tarball}:\n${r.out}`)
  return dir
}
/** The README's "Use auton in your project" section, and its fenced blocks of one language. */
function readmeBlocks(lang: string): string[] {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8')
  const start = readme.indexOf('## Use auton in your project')
  assert.ok(start >= 0, 'README has a section "Use auton in your project"')
  const end = readme.indexOf('\n## ', start + 5)
  const section = readme.slice(start, end < 0 ? undefined : end)
  return [...section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1])
}

test.after(() => {
  rmSync(tmp, { recursive: true, force: true })
  console.log(`\npackage.test.ts: ${((Date.now() - t0) / 1000).toFixed(0)} s in all\n  ${timings.join('\n  ')}`)
})

test('npm pack: the compiled engine, the rules and their sources; no tests, fixtures or outputs', () => {
  const r = run('npm', ['pack', '--json', '--pack-destination', tmp], REPO, 180_000)
  assert.is(r.code, 0, r.out)
  const json = JSON.parse(r.out.slice(r.out.indexOf('[\n'), r.out.lastIndexOf(']') + 1))[0]
  tarball = join(tmp, json.filename)
  assert.ok(existsSync(tarball))
  const files: string[] = json.files.map((f: { path: string }) => f.path)
  for (const f of ['bin/auton.cjs', 'dist/lib/cli.js', 'dist/lib/index.d.ts', 'dist/rules/index.d.ts', 'rules/index.ts',
    'rules/slm.ts', 'SLM/tools/dataset.ts', 'SLM/train/main.c', 'SLM/configs/smoke.yaml', 'kernels/x86_64/linker.ld',
    'kernels/x86_64/build.ts', 'kernels/inference/slm.h', 'kernels/host/slm-run.c', 'kernels/tools/kbuild.ts',
    'lib/commands/provenance.ts', 'specs/architecture.md', 'README.md', 'package.json']) {
    assert.ok(files.includes(f), `the package has ${f}`)
  }
  const unwanted = files.filter((f) => /^(test|bench|docs|scripts|cache|build|reports|\.ci|\.auton|node_modules)\/|^SLM\/(datasets|models)\/|^kernels\/fuzz\/|\.test\.ts$/.test(f))
  assert.equal(unwanted, [], 'no tests, fixtures, benchmarks or build outputs')
  console.log(`  tarball ${json.filename}: ${(json.size / 1024).toFixed(0)} KiB packed, ${(json.unpackedSize / 1024 / 1024).toFixed(1)} MiB unpacked, ${files.length} files`)
  assert.ok(json.size < 4 * 1024 * 1024, `the tarball stays small (${json.size} bytes)`)
})

let a = ''
test('auton init in an empty project writes the starter and builds it; never overwrites', () => {
  a = project('starter')
  const sh = readmeBlocks('sh').join('\n')
  for (const c of ['npm pack', 'npm i ', 'npx auton init', 'npx auton build']) assert.ok(sh.includes(c), `the README says ${c}`)
  const r = run('npx', ['auton', 'init'], a)
  assert.is(r.code, 0, r.out)
  for (const f of ['autonfile.ts', 'auton.toml', 'tsconfig.json', 'notes/hello.txt', '.gitignore']) assert.ok(existsSync(join(a, f)), f)
  assert.match(readFileSync(join(a, 'build/summary.md'), 'utf8'), /# Most frequent words\n\s+\d+ \w+/)
  const ignored = readFileSync(join(a, '.gitignore'), 'utf8').split('\n')
  assert.ok(ignored.includes('.auton/') && ignored.includes('cache/'), ignored.join(' '))
  const starter = readFileSync(join(a, 'autonfile.ts'), 'utf8')
  assert.match(starter, /inputs: \['notes\/\*\.txt'\]/, 'a glob input')
  assert.match(starter, /inputs: \[words\]/, 'a handle as an input')
  assert.match(starter, /default: true/)

  writeFileSync(join(a, 'autonfile.ts'), starter + '// mine\n')
  const again = run('npx', ['auton', 'init'], a)
  assert.is(again.code, 1, again.out)
  assert.match(again.out, /autonfile\.ts and auton\.toml already exist.*never overwrites/)
  assert.ok(readFileSync(join(a, 'autonfile.ts'), 'utf8').endsWith('// mine\n'), 'the autonfile is untouched')
  const second = run('npx', ['auton', 'build', '--json'], a)
  assert.is(second.code, 0, second.out)
  assert.is(summary(second).ran, 0, 'the second build does nothing')
})

test("the README's pipeline type-checks, a misspelt option is a readable type error, and it builds", () => {
  const [pipeline] = readmeBlocks('ts')
  assert.ok(pipeline?.includes("from 'auton/rules'"), 'the README composes the pipeline from auton/rules')
  writeFileSync(join(a, 'pipeline.ts'), pipeline)
  mkdirSync(join(a, 'docs'))
  const mine = 'Zorblax the widget vendor ships a frobnicator card'
  writeFileSync(join(a, 'docs/intro.md'), `# My notes\n\n${mine}\nwith two lines.\n\n${'Another paragraph of my own text. '.repeat(3)}\n`)
  appendFileSync(join(a, 'auton.toml'), '\n[slm]\npreset = "smoke"\n')

  const tsc = (file: string) => run(process.execPath, [TSC, '--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022', '--module', 'esnext', '--moduleResolution', 'bundler', file], a)
  const ok = tsc('pipeline.ts')
  assert.is(ok.code, 0, ok.out)
  const starter = run(process.execPath, [TSC, '-p', 'tsconfig.json'], a) // the tsconfig auton init wrote
  assert.is(starter.code, 0, starter.out)
  writeFileSync(join(a, 'wrong.ts'), pipeline.replace('extraFiles:', 'extraFile:'))
  const bad = tsc('wrong.ts')
  assert.is(bad.code, 2, bad.out)
  assert.match(bad.out, /wrong\.ts\(\d+,\d+\): error TS2561: .*'extraFile' does not exist in type 'DatasetOptions'\. Did you mean to write 'extraFiles'\?/)
  rmSync(join(a, 'wrong.ts'))

  const r = run('npx', ['auton', 'build', '-f', 'pipeline.ts', '--json'], a, 600_000)
  assert.is(r.code, 0, r.out.slice(-4000))
  const report = JSON.parse(readFileSync(join(a, 'reports/qemu-boot-x86_64.json'), 'utf8'))
  assert.ok(report.allMatchHost && report.queries[0].kernel.trim().length > 0, JSON.stringify(report.queries?.[0]))
  const stats = JSON.parse(readFileSync(join(a, 'SLM/datasets/corpus/stats.json'), 'utf8'))
  assert.equal(stats.sources.extra.files, ['docs/intro.md'])
  const corpus = readFileSync(join(a, 'SLM/datasets/corpus/train.txt'), 'utf8') + readFileSync(join(a, 'SLM/datasets/corpus/val.txt'), 'utf8')
  assert.ok(corpus.includes(`${mine} with two lines.`), 'my paragraph is in the corpus, as one line')
})

test("this repository's autonfile.ts and auton.toml build the pipeline unchanged in another project", () => {
  const b = project('pipeline')
  copyFileSync(join(REPO, 'autonfile.ts'), join(b, 'autonfile.ts'))
  const toml = readFileSync(join(REPO, 'auton.toml'), 'utf8')
  assert.match(toml, /^preset = "micro"/m)
  writeFileSync(join(b, 'auton.toml'), toml.replace(/^preset = "micro"/m, 'preset = "smoke"'))
  const r = run('npx', ['auton', 'build', 'qemu-boot-report-x86_64', '--json'], b, 600_000)
  assert.is(r.code, 0, r.out.slice(-4000))
  const report = JSON.parse(readFileSync(join(b, 'reports/qemu-boot-x86_64.json'), 'utf8'))
  assert.match(report.transcript, /SLM: Neural backend ready/)
  assert.ok(report.queries.length >= 2 && report.queries.every((q: { kernel: string }) => q.kernel.trim().length > 0), 'the kernel answers')
  assert.ok(report.allMatchHost, 'token for token what the host slm-run says')
  assert.ok(report.provenance.trusted, `the kernel runs the model this project built: ${JSON.stringify(report.provenance)}`)
  // compiled from the package, written into the project
  const log = r.out
  assert.match(log, /-Inode_modules\/auton\/kernels\/inference/)
  for (const out of ['build', 'SLM/models', 'SLM/datasets', 'reports']) {
    assert.ok(existsSync(join(b, out)), `${out} in the project`)
    assert.not.ok(existsSync(join(b, 'node_modules/auton', out)), `nothing written to node_modules/auton/${out}`)
  }
  const again = run('npx', ['auton', 'build', 'qemu-boot-report-x86_64', '--json'], b)
  assert.is(again.code, 0, again.out)
  assert.is(summary(again).ran, 0, 'a second build does nothing')
})

test.run()
