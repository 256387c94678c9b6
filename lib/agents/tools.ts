// agent-tools.ts — typed functions an agent step may call, and the built-in read_file.
//
// A tool is a name, a description, a zod schema for its input and a function. The model
// sees the schema as JSON Schema in its provider's native tool format; what it sends back
// is validated with the same zod schema before the function runs, so a tool never sees
// input of the wrong shape. Tool errors go back to the model as error results, not up the
// build: the model can correct itself.

import { lstatSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs'
import { isAbsolute, join, normalize, relative, sep } from 'node:path'
import { z } from 'zod'
import type { ToolSpec } from './providers/provider.js'

export interface ToolContext {
  /** Project root. */
  cwd: string
  signal: AbortSignal
  log(line: string): void
  /** Record a project file the tool read: it becomes a discovered input of the step. */
  read(path: string): void
}

export interface AgentTool {
  readonly name: string
  readonly description: string
  readonly input: z.ZodType
  run(input: unknown, ctx: ToolContext): unknown
  /** JSON Schema of the input, as offered to the model. */
  readonly jsonSchema: Record<string, unknown>
}

export interface ToolDefinition<S extends z.ZodType> {
  /** [A-Za-z0-9_-], at most 64 characters (the providers' rule). */
  name: string
  /** What the tool does and when to use it; the model reads this. */
  description: string
  /** Must describe an object: tool input is always a JSON object. */
  input: S
  /** The result is sent to the model: a string as is, anything else as JSON. */
  run(input: z.output<S>, ctx: ToolContext): unknown
}

export function defineTool<S extends z.ZodType>(def: ToolDefinition<S>): AgentTool {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(def.name)) {
    throw new Error(`defineTool: '${def.name}' is not a valid tool name: use letters, digits, _ and -, at most 64`)
  }
  const jsonSchema = toJsonSchema(def.input, `tool '${def.name}'`)
  if (jsonSchema.type !== 'object') {
    throw new Error(`defineTool: tool '${def.name}' input must be a z.object(...), got JSON type ${JSON.stringify(jsonSchema.type)}`)
  }
  return {
    name: def.name,
    description: def.description,
    input: def.input,
    jsonSchema,
    run: def.run as AgentTool['run'],
  }
}

/** zod → JSON Schema without the `$schema` line (some providers reject unknown top-level keys). */
export function toJsonSchema(schema: z.ZodType, what: string): Record<string, unknown> {
  let js: Record<string, unknown>
  try {
    js = z.toJSONSchema(schema) as Record<string, unknown>
  } catch (e) {
    throw new Error(`${what}: its zod schema cannot be expressed as JSON Schema (${(e as Error).message}); avoid transforms and custom types`)
  }
  const { $schema: _, ...rest } = js
  return rest
}

export function toolSpec(t: AgentTool): ToolSpec {
  return { name: t.name, description: t.description, inputSchema: t.jsonSchema }
}

/** What enters the step's key: the name, description, schema and the function's source. */
export function toolKey(t: AgentTool): string {
  return JSON.stringify({ name: t.name, description: t.description, schema: t.jsonSchema, run: String(t.run) })
}

/** Validate the model's input and run the tool; failures become error results for the model. */
export async function callTool(t: AgentTool, raw: unknown, ctx: ToolContext): Promise<{ content: string; isError: boolean }> {
  const parsed = t.input.safeParse(raw)
  if (!parsed.success) {
    return { content: `invalid input for ${t.name}:\n${z.prettifyError(parsed.error)}`, isError: true }
  }
  try {
    const out = await t.run(parsed.data, ctx)
    return { content: typeof out === 'string' ? out : JSON.stringify(out ?? null, null, 2), isError: false }
  } catch (e) {
    return { content: `${t.name} failed: ${(e as Error).message}`, isError: true }
  }
}

/** Larger files are cut; the model is told so. */
const READ_LIMIT = 256 * 1024

export const readFileTool: AgentTool = defineTool({
  name: 'read_file',
  description:
    'Read a UTF-8 text file of the project. `path` is relative to the project root (no "..", no absolute paths). ' +
    'A directory answers with its entries.',
  input: z.object({ path: z.string().min(1).describe('path relative to the project root, e.g. "specs/training.md"') }),
  run: ({ path }, ctx) => {
    const rel = confine(ctx.cwd, path)
    const abs = join(ctx.cwd, rel)
    if (statSync(abs).isDirectory()) {
      const entries = readdirSync(abs, { withFileTypes: true }).map((d) => (d.isDirectory() ? d.name + '/' : d.name))
      return `${rel} is a directory:\n${entries.sort().join('\n')}`
    }
    const buf = readFileSync(abs)
    if (buf.subarray(0, 8192).includes(0)) throw new Error(`${rel} is a binary file (${buf.length} bytes)`)
    ctx.read(rel)
    const text = buf.subarray(0, READ_LIMIT).toString('utf8')
    return buf.length > READ_LIMIT ? `${text}\n[… cut: ${rel} has ${buf.length} bytes, shown ${READ_LIMIT}]` : text
  },
})

/**
 * The project-relative form of `path`, or an error if it could leave the project: absolute
 * paths, ".." segments, and symlinks (anywhere on the way) that resolve outside the root.
 */
export function confine(root: string, path: string): string {
  if (isAbsolute(path) || /^[A-Za-z]:/.test(path)) throw new Error(`'${path}' is absolute; give a path relative to the project root`)
  if (path.split(/[\\/]+/).includes('..')) throw new Error(`'${path}' contains '..'; only files inside the project can be read`)
  const rel = normalize(path).replace(/^(\.\/)+/, '').replace(/\/+$/, '') || '.'
  const abs = join(root, rel)
  try {
    lstatSync(abs)
  } catch {
    throw new Error(`${rel}: no such file in the project`)
  }
  const realRoot = realpathSync(root)
  const real = realpathSync(abs)
  const inside = relative(realRoot, real)
  if (inside === '..' || inside.startsWith('..' + sep) || isAbsolute(inside)) {
    throw new Error(`'${path}' is a symlink that leads outside the project`)
  }
  return rel
}
