// The build description: the right sources and flags per arch, and the model embedding
// contract (exact symbol names, 32-byte alignment, empty model → size 0).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { archBuild, binarySymbolPrefix, buildKernel, compileArgs, objectPath } from '../../../kernels/tools/kbuild.js'

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

test('x86_64 description: boot code, common code, SSE2 without AVX, depfiles', () => {
  const b = archBuild('x86_64')
  assert.ok(b.archSources.includes('kernels/x86_64/boot.S'))
  assert.ok(b.commonSources.includes('kernels/common/kmain.c'))
  assert.ok(b.commonSources.every((f) => f.startsWith('kernels/common/') && f.endsWith('.c')))
  for (const f of ['-O2', '-msse2', '-mno-avx', '-mno-red-zone', '-ffreestanding']) assert.ok(b.cflags.includes(f), f)
  const argv = compileArgs(b, 'kernels/common/shell.c', 'o/common/shell.o', 'o/common/shell.d')
  assert.equal(argv.slice(-7), ['-MMD', '-MF', 'o/common/shell.d', '-c', 'kernels/common/shell.c', '-o', 'o/common/shell.o'])
  assert.is(objectPath('kernels/x86_64/boot.S', 'b'), 'b/x86_64/boot.o')
  assert.is(binarySymbolPrefix('build/my-model.gguf'), '_binary_build_my_model_gguf')
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
