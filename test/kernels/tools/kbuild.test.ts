// The build description: the right sources and flags per arch, and the model embedding
// contract (exact symbol names, 32-byte alignment, empty model → size 0).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ARCHES, REPO_ROOT, archBuild, binarySymbolPrefix, buildKernel, compileArgs, hostCoreSources, objectPath, slmRunArgs } from '../../../kernels/tools/kbuild.js'

const dir = mkdtempSync(path.join(tmpdir(), 'auton-kbuild-'))
test.after(() => rmSync(dir, { recursive: true, force: true }))

function symbols(elf: string): Map<string, bigint> {
  const out = execFileSync('nm', [elf], { encoding: 'utf8' })
  const m = new Map<string, bigint>()
  for (const line of out.split('\n')) {
    const [addr, , name] = line.trim().split(/\s+/)
    if (name) m.set(name, BigInt('0x' + addr))
  }
  return m
}

test('x86_64 description: boot code, shared code, SSE2 without AVX, depfiles', () => {
  const b = archBuild('x86_64')
  assert.ok(b.archSources.includes('kernels/x86_64/boot.S'))
  assert.ok(b.commonSources.includes('kernels/services/kmain.c'))
  assert.ok(b.commonSources.includes('kernels/inference/model.c'))
  assert.ok(b.commonSources.every((f) => /^kernels\/(inference|services)\/[^/]+\.c$/.test(f)))
  for (const f of ['-O2', '-msse2', '-mno-avx', '-mno-red-zone', '-ffreestanding']) assert.ok(b.cflags.includes(f), f)
  const argv = compileArgs(b, 'kernels/services/shell.c', 'o/services/shell.o', 'o/services/shell.d')
  assert.equal(argv.slice(-7), ['-MMD', '-MF', 'o/services/shell.d', '-c', 'kernels/services/shell.c', '-o', 'o/services/shell.o'])
  assert.is(objectPath('kernels/x86_64/boot.S', 'b'), 'b/x86_64/boot.o')
  assert.is(binarySymbolPrefix('build/my-model.gguf'), '_binary_build_my_model_gguf')
})

test('membership is the folder: the host core is kernels/inference, the kernels add kernels/services', () => {
  const host = hostCoreSources()
  assert.ok(host.length > 0 && host.every((f) => f.startsWith('kernels/inference/')))
  assert.ok(host.includes('kernels/inference/model.c'))
  for (const arch of ARCHES) {
    const b = archBuild(arch)
    assert.ok(host.every((f) => b.commonSources.includes(f)), `${arch} compiles the whole core`)
    assert.ok(b.commonSources.includes('kernels/services/shell.c'), `${arch} has the shell`)
  }
  assert.not.ok(slmRunArgs('out').some((a) => a.includes('kernels/services')), 'slm-run has no kernel-only code')
})

test('the ports do not import kbuild (kbuild imports them)', () => {
  for (const arch of ARCHES) {
    const src = readFileSync(path.join(REPO_ROOT, `kernels/${arch}/build.ts`), 'utf8')
    assert.not.match(src, /from ['"][^'"]*kbuild(\.js)?['"]/, `kernels/${arch}/build.ts imports kbuild`)
  }
})

test('embedded model: exact symbols, 32-byte aligned, bytes intact; empty model → size 0', async () => {
  const model = path.join(dir, 'odd name-1.gguf') // a path objcopy would mangle
  // odd length, so a misplaced section would show up
  const bytes = Buffer.from('GGUF' + 'x'.repeat(1001))
  writeFileSync(model, bytes)
  const r = await buildKernel({ arch: 'x86_64', outDir: path.join(dir, 'm'), models: { m: model, e: '' } })
  const sym = symbols(r.elves.m)
  const start = sym.get('slm_model_start')!, end = sym.get('slm_model_end')!
  assert.ok(start !== undefined && end !== undefined, 'symbols present')
  assert.is(end - start, BigInt(bytes.length))
  assert.is(start % 32n, 0n)
  assert.is(sym.get('slm_model_size'), BigInt(bytes.length))
  assert.not.ok([...sym.keys()].some((k) => k.startsWith('_binary_')), 'no mangled objcopy names left')
  const dumpPath = path.join(dir, 'section.bin')
  execFileSync('objcopy', ['-O', 'binary', '--only-section=.slm_model', r.elves.m, dumpPath])
  assert.ok(readFileSync(dumpPath).equals(bytes), 'section holds the model bytes')

  const es = symbols(r.elves.e)
  assert.is(es.get('slm_model_end')! - es.get('slm_model_start')!, 0n)
})

test.run()
