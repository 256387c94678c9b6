// agent-files.ts — the file side of an agent step: what it reads, writes and checks.
//
// Inputs are read as text for the prompt (binary files are described, not pasted);
// outputs are written atomically (temp file + rename) so a crash never leaves half a
// JSON file that a later build could trust; the check command runs in bash in its own
// process group, without the provider's credentials in its environment.

import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { writeAtomic } from '../atomic.js'
import { dirname, isAbsolute, join, relative } from 'node:path'

/** Per-file cap on what of an input reaches the prompt. */
export const INPUT_LIMIT = 200 * 1024

export interface InputFile {
  path: string
  /** UTF-8 text, or undefined for a binary file. */
  text: string | undefined
  bytes: number
}

/** Read the step's inputs (directories expand to their files), paths relative to the root. */
export function readInputs(root: string, inputs: string[]): InputFile[] {
  const out: InputFile[] = []
  const visit = (rel: string) => {
    const abs = join(root, rel)
    if (statSync(abs).isDirectory()) {
      for (const e of readdirSync(abs).sort()) visit(rel === '.' ? e : `${rel}/${e}`)
      return
    }
    const buf = readFileSync(abs)
    const binary = buf.subarray(0, 8192).includes(0)
    out.push({ path: rel, bytes: buf.length, text: binary ? undefined : buf.toString('utf8') })
  }
  for (const p of inputs) visit(isAbsolute(p) ? relative(root, p) : p)
  return out
}

/** All inputs together are cut here; later files are only named. */
export const PROMPT_LIMIT = 1024 * 1024

/** Inputs as the model sees them after a string prompt. */
export function renderInputs(files: InputFile[]): string {
  const parts: string[] = []
  let size = 0
  for (const [i, f] of files.entries()) {
    if (size > PROMPT_LIMIT) {
      parts.push(`[… ${files.length - i} more input files not shown: ${files.slice(i).map((x) => x.path).join(', ')}; read_file reads them]`)
      break
    }
    if (f.text === undefined) {
      parts.push(`<file path="${f.path}" binary="true" bytes="${f.bytes}"/>`)
      continue
    }
    const body = f.text.length > INPUT_LIMIT ? `${f.text.slice(0, INPUT_LIMIT)}\n[… cut at ${INPUT_LIMIT} of ${f.bytes} bytes]` : f.text
    size += body.length
    parts.push(`<file path="${f.path}">\n${body}${body.endsWith('\n') ? '' : '\n'}</file>`)
  }
  return parts.join('\n\n')
}

export function writeOutput(root: string, rel: string, content: string): void {
  const abs = join(root, rel)
  mkdirSync(dirname(abs), { recursive: true })
  writeAtomic(abs, content)
}

export function removeOutputs(root: string, outputs: string[]): void {
  for (const o of outputs) rmSync(join(root, o), { recursive: true, force: true })
}

export function missingOutputs(root: string, outputs: string[]): string[] {
  return outputs.filter((o) => !existsSync(join(root, o)))
}

export interface CheckResult {
  ok: boolean
  /** Exit status and the tail of stdout+stderr, for the model and the log. */
  report: string
}

/**
 * Run the step's check command with the recipe's environment; `hide` lists values
 * (the provider's credentials) kept out of it even if a variable carries one.
 */
export function runCheck(root: string, command: string, signal: AbortSignal, recipeEnv: Record<string, string>, hide: string[]): Promise<CheckResult> {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(recipeEnv)) if (!hide.includes(v)) env[k] = v
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `set -euo pipefail; ${command}`], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    const add = (b: Buffer) => {
      out += b.toString()
      if (out.length > 64 * 1024) out = out.slice(-32 * 1024)
    }
    child.stdout.on('data', add)
    child.stderr.on('data', add)
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    signal.addEventListener('abort', kill, { once: true })
    child.on('error', (e) => {
      signal.removeEventListener('abort', kill)
      reject(new Error(`check command could not start: ${e.message}`))
    })
    child.on('close', (code, sig) => {
      signal.removeEventListener('abort', kill)
      if (signal.aborted) return reject(new Error('cancelled'))
      const tail = out.length > 4000 ? '…' + out.slice(-4000) : out
      const status = sig ? `was killed by ${sig}` : `exited with code ${code}`
      resolve({ ok: code === 0, report: `check \`${command}\` ${status}${tail.trim() ? `:\n${tail.trimEnd()}` : ''}` })
    })
  })
}
