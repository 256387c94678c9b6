// kbuild.ts — how each kernel is built, as data.
//
// `archBuild(arch)` describes one architecture: compiler, flags, linker script, the
// arch's own sources and the shared ones, the objcopy command that embeds the model.
// The shared C is in two folders, and the folder is the membership:
//   kernels/inference/  the portable inference core (GGUF, model, tokenizer, sampling, math):
//                       every kernel and the host build slm-run compile all of it;
//   kernels/services/   kernel-only code (kernel_main, shell, page allocator, PCI, printf,
//                       libc stand-ins, platform.h): every kernel, never the host.
// The ports' own facts (compiler, flags, QEMU) are in kernels/<arch>/build.ts, typed by
// kernels/tools/port.ts; the ports do not import this file.
// `rules/kernel.ts` turns that into one target per object (`-MMD -MF` depfiles give the
// header dependencies), one for the embedded model object and one for the link.
// `buildKernel()` runs the same commands in order, for tests and for building by hand:
//
//   npx tsx kernels/tools/kbuild.ts x86_64 build/kernel-x86_64 [model.gguf]
//
// Invariant: every command is an argv array run with cwd = the repo root and paths
// relative to it, so the command text (and so the build key) does not depend on where
// the checkout lives.

import { spawn } from 'node:child_process'
import { existsSync, readdirSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { x86_64Build } from '../x86_64/build.js'
import { aarch64Build } from '../aarch64/build.js'
import { riscv64Build } from '../riscv64/build.js'
import type { Arch, ArchSpecific } from './port.js'

export type { Arch, ArchSpecific }
export const ARCHES: readonly Arch[] = ['x86_64', 'aarch64', 'riscv64']

export interface ArchBuild {
  arch: Arch
  /** C compiler, also the assembler (.S) and the linker driver. */
  cc: string
  /** Flags for every .c and .S file (depfile flags are added per object). */
  cflags: string[]
  ldflags: string[]
  /** Appended after the objects when linking (libgcc for compiler helpers). */
  libs: string[]
  linkerScript: string
  /** Shared folders besides kernels/inference and kernels/services that this port
   *  compiles: kernels/fdt (the DTB reader and RAM regions) for the boards QEMU hands a DTB. */
  sharedDirs: string[]
  /** kernels/<arch>/*.c and *.S, then the sharedDirs' *.c, each folder sorted. */
  archSources: string[]
  /** The code every arch shares: kernels/inference/*.c, then kernels/services/*.c, each
   *  folder sorted. */
  commonSources: string[]
  /** objcopy binary and the BFD names for `-I binary` → this arch's ELF. */
  objcopy: string
  objcopyTarget: string
  objcopyArch: string
  /** How to boot it: QEMU binary and machine arguments (serial is added by the driver). */
  qemu: { binary: string; args: string[] }
}

/** The repo root (this file lives in kernels/tools/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export const INFERENCE_DIR = 'kernels/inference'
export const SERVICES_DIR = 'kernels/services'

// Flags every arch shares. -ffp-contract=off: no fused multiply-add, so each arch computes
// the same floats as the host build and answers match token for token.
const COMMON_CFLAGS = [
  '-std=gnu11', '-ffreestanding', '-fno-builtin', '-O2', '-g',
  '-Wall', '-Wextra', '-Wno-unused-parameter',
  '-fno-stack-protector', '-fno-pic', '-fno-pie', '-fno-asynchronous-unwind-tables',
  '-fno-tree-loop-distribute-patterns', '-ffp-contract=off',
  `-I${INFERENCE_DIR}`, `-I${SERVICES_DIR}`,
]

// The arch-specific part lives with each port (kernels/<arch>/build.ts).
const SPECIFIC: Record<Arch, ArchSpecific> = { x86_64: x86_64Build, aarch64: aarch64Build, riscv64: riscv64Build }

function listSources(root: string, dir: string, exts: string[]): string[] {
  const abs = path.join(root, dir)
  if (!existsSync(abs)) return []
  return readdirSync(abs)
    .filter((f) => exts.some((e) => f.endsWith(e)))
    .map((f) => `${dir}/${f}`)
    .sort()
}

/** The build description for one arch, read from the tree under `root`. */
export function archBuild(arch: Arch, root: string = REPO_ROOT): ArchBuild {
  const s = SPECIFIC[arch]
  if (!s) throw new Error(`kbuild: unknown arch '${arch}' (known: ${ARCHES.join(', ')})`)
  return {
    arch,
    cc: s.cc,
    cflags: [...COMMON_CFLAGS, ...s.cflags],
    ldflags: ['-nostdlib', '-static', '-no-pie', '-Wl,--build-id=none', '-Wl,-z,max-page-size=0x1000',
      '-Wl,--no-warn-rwx-segments', `-Tkernels/${arch}/linker.ld`],
    libs: ['-lgcc'],
    linkerScript: `kernels/${arch}/linker.ld`,
    sharedDirs: s.sharedDirs,
    archSources: [listSources(root, `kernels/${arch}`, ['.c', '.S']), ...s.sharedDirs.map((d) => listSources(root, d, ['.c']))].flat(),
    commonSources: [...hostCoreSources(root), ...listSources(root, SERVICES_DIR, ['.c'])],
    objcopy: s.objcopy,
    objcopyTarget: s.objcopyTarget,
    objcopyArch: s.objcopyArch,
    qemu: s.qemu,
  }
}

/** kernels/inference/*.c, sorted: the inference core, what slm-run compiles besides
 *  kernels/host/slm-run.c. */
export function hostCoreSources(root: string = REPO_ROOT): string[] {
  return listSources(root, INFERENCE_DIR, ['.c'])
}

/** argv building slm-run, the inference core for the host, at `out` (cwd = the repo root).
 *  -ffp-contract=off as in the kernels, so the floats and so the answers are the same. */
export function slmRunArgs(out: string, root: string = REPO_ROOT): string[] {
  return ['gcc', '-O2', '-ffp-contract=off', '-Ikernels/inference', 'kernels/host/slm-run.c', ...hostCoreSources(root), '-lm', '-o', out]
}

/** kernels/services/shell.c → <buildDir>/services/shell.o (folders never collide). */
export function objectPath(src: string, buildDir: string): string {
  const rel = src.replace(/^kernels\//, '').replace(/\.(c|S)$/, '.o')
  return `${buildDir}/${rel}`
}

/** argv compiling one source; with `depfile`, gcc writes make-style header deps there. */
export function compileArgs(b: ArchBuild, src: string, obj: string, depfile?: string): string[] {
  const dep = depfile ? ['-MMD', '-MF', depfile] : []
  return [b.cc, ...b.cflags, ...dep, '-c', src, '-o', obj]
}

/** The symbol prefix objcopy derives from the input path: every non-alphanumeric → '_'. */
export function binarySymbolPrefix(inputPath: string): string {
  return '_binary_' + inputPath.replace(/[^A-Za-z0-9]/g, '_')
}

/** argv embedding a NON-EMPTY `model` as section .slm_model with the symbols
 *  slm_model_start / slm_model_end / slm_model_size (objcopy rejects an empty input). */
export function embedArgs(b: ArchBuild, model: string, obj: string): string[] {
  const p = binarySymbolPrefix(model)
  return [b.objcopy, '-I', 'binary', '-O', b.objcopyTarget, '-B', b.objcopyArch,
    '--rename-section', '.data=.slm_model,alloc,load,readonly,data,contents',
    '--set-section-alignment', '.slm_model=32',
    '--redefine-sym', `${p}_start=slm_model_start`,
    '--redefine-sym', `${p}_end=slm_model_end`,
    '--redefine-sym', `${p}_size=slm_model_size`,
    model, obj]
}

/** argv making the model object for an empty model file: an object with no .slm_model;
 *  the linker script's PROVIDEs then define the three symbols with size 0. */
export function emptyModelArgs(b: ArchBuild, obj: string): string[] {
  return [b.cc, '-c', '-x', 'assembler', '/dev/null', '-o', obj]
}

/** The embed command for `model` as it is now: objcopy, or the empty object when the file
 *  is empty (a model-less kernel). `root` resolves the relative path. */
export function embedModelArgs(b: ArchBuild, model: string, obj: string, root: string = REPO_ROOT): string[] {
  return statSync(path.resolve(root, model)).size > 0 ? embedArgs(b, model, obj) : emptyModelArgs(b, obj)
}

/** argv linking the objects (the model object among them) into the kernel ELF. */
export function linkArgs(b: ArchBuild, objs: string[], elf: string): string[] {
  return [b.cc, ...b.ldflags, '-o', elf, ...objs, ...b.libs]
}

/** One shell-safe line for logs and reports. */
export function shellLine(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ')
}

function run(argv: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('error', (e) => reject(new Error(`kbuild: cannot run ${argv[0]}: ${e.message} (is it installed?)`)))
    child.on('close', (code) => code === 0 ? resolve()
      : reject(new Error(`kbuild: command failed (exit ${code}):\n  ${shellLine(argv)}\n${out}`)))
  })
}

export interface BuildResult {
  /** The kernel (with `models`: the first one). */
  elf: string
  /** With `models`: name → kernel-<arch>-<name>.elf. */
  elves: Record<string, string>
  /** Every command run, in order, as shell lines. */
  commands: string[]
  ms: number
}

/** Builds kernel-<arch>.elf in `outDir` (relative to root, or absolute). `model` omitted or
 *  '' → an empty model file, i.e. a kernel that boots without a model. With `models`
 *  (name → GGUF path, '' for none) the objects are compiled once and one kernel is linked
 *  per model. Commands run one after another. */
export async function buildKernel(opts: {
  arch: Arch; outDir: string; model?: string; models?: Record<string, string>; root?: string
}): Promise<BuildResult> {
  const root = opts.root ?? REPO_ROOT
  const t0 = Date.now()
  const b = archBuild(opts.arch, root)
  const out = opts.outDir.replace(/\/$/, '')
  const commands: string[] = []
  const exec = async (argv: string[]) => { commands.push(shellLine(argv)); await run(argv, root) }

  const objs: string[] = []
  for (const src of [...b.archSources, ...b.commonSources]) {
    const obj = objectPath(src, out)
    mkdirSync(path.resolve(root, path.dirname(obj)), { recursive: true })
    await exec(compileArgs(b, src, obj, obj.replace(/\.o$/, '.d')))
    objs.push(obj)
  }
  const models = opts.models ?? { '': opts.model ?? '' }
  const elves: Record<string, string> = {}
  for (const [name, given] of Object.entries(models)) {
    const suffix = name ? `-${name}` : ''
    let model = given
    if (!model) {
      model = `${out}/empty.gguf`
      writeFileSync(path.resolve(root, model), '')
    }
    const modelObj = `${out}/model${suffix}.o`
    await exec(embedModelArgs(b, model, modelObj, root))
    elves[name] = `${out}/kernel-${opts.arch}${suffix}.elf`
    await exec(linkArgs(b, [...objs, modelObj], elves[name]))
  }
  return { elf: Object.values(elves)[0], elves, commands, ms: Date.now() - t0 }
}

// Command line: npx tsx kernels/tools/kbuild.ts <arch> <outDir> [model.gguf]
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const [arch, outDir, model] = process.argv.slice(2)
  if (!arch || !outDir) {
    console.error('usage: npx tsx kernels/tools/kbuild.ts <x86_64|aarch64|riscv64> <outDir> [model.gguf]  (paths relative to the repo root)')
    process.exit(2)
  }
  buildKernel({ arch: arch as Arch, outDir, model }).then(
    (r) => { for (const c of r.commands) console.log(c); console.log(`built ${r.elf} in ${r.ms} ms`) },
    (e) => { console.error(e.message); process.exit(1) })
}
