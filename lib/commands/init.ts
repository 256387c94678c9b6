// init.ts — `auton init`: start a project that builds at once.
//
// Writes a small, commented autonfile.ts (a glob input, a handle passed as an input, a
// default target), auton.toml, a note for the glob to find, a tsconfig.json so editors and
// `tsc --noEmit` resolve auton's types, and the .gitignore lines for what builds leave
// behind; then the caller builds. Never overwrites: an existing autonfile.ts or auton.toml
// stops it before anything is written; an existing tsconfig.json or notes/ is left alone;
// .gitignore only gains the lines it lacks.

import { existsSync, mkdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs'
import { basename, join, relative } from 'node:path'

export const STARTER_AUTONFILE = `// autonfile.ts — what \`npx auton build\` builds in this project.
//
// A target names its inputs, its outputs and a recipe. A recipe runs only when its key
// changes: its command text, the content of its inputs, its params. Try:
//   npx auton build              build the default target and what it needs
//   npx auton list               every target (* marks the defaults)
//   npx auton explain summary    why \`summary\` would run, or that it is up to date
import { target, sh } from 'auton'

// A glob input: every .txt file in notes/. Edit one, or add one, and \`words\` reruns.
const words = target('words', {
  inputs: ['notes/*.txt'],
  outputs: ['build/words.txt'],
  description: 'count the words of every note',
  run: sh\`cat notes/*.txt | tr -cs '[:alnum:]' '\\\\n' | tr '[:upper:]' '[:lower:]' | sed '/^$/d' | sort | uniq -c | sort -rn > build/words.txt\`,
})

// A handle as an input: \`words\` runs first, and \${words} in a command is its output path.
// \`default: true\`: what \`npx auton build\` builds when no target is named.
target('summary', {
  inputs: [words],
  outputs: ['build/summary.md'],
  default: true,
  description: 'the ten most frequent words',
  run: sh\`(echo '# Most frequent words'; head -n 10 \${words}) > build/summary.md\`,
})

// A recipe can also be a TypeScript function: run: async ({ cwd, params }) => { … }.
// The AUTON pipeline (train a small language model, embed it in freestanding kernels, boot
// them in QEMU) is a set of rules: import { dataset, tokenizer, … } from 'auton/rules'.
// auton's own autonfile.ts composes all of them; see its README, "Use auton in your project".
`

export const STARTER_TOML = `# auton.toml — settings for this project's builds (every option: auton's lib/config.ts).

[build]
# jobs = 4              # recipes at once; default: the number of cores

[cache]
dir = "cache"           # the local content-addressed cache: a restored output is never rebuilt
# remote = "http://127.0.0.1:9090"   # a Bazel HTTP cache shared by a team and its CI

# For the AUTON pipeline's rules (auton/rules):
# [pools]
# train = 1             # one trainer at a time: it uses every core
# qemu = 1
# [slm]
# preset = "smoke"      # smoke (seconds), micro, tiny_10M, small_50M — or a path to your YAML
`

export const STARTER_NOTE = `auton builds what changed and nothing else.
Edit this note, run npx auton build again, and only the targets that read it run.
`

export const STARTER_TSCONFIG = `{
  "compilerOptions": {
    "target": "ES2022",
    "module": "ESNext",
    "moduleResolution": "Bundler",
    "strict": true,
    "noEmit": true,
    "skipLibCheck": true
  },
  "include": ["autonfile.ts"]
}
`

/** What a build leaves in the project: state and logs, the cache, the starter's outputs. */
export const GITIGNORE_LINES = ['.auton/', 'cache/', 'build/']

export class InitError extends Error {}

export interface InitResult {
  written: string[]
  /** Files that were there already and are kept as they are. */
  kept: string[]
}

/** Writes the starter files into `root` (the autonfile at `autonfile`); refuses to overwrite. */
export function initProject(root: string, autonfile = join(root, 'autonfile.ts')): InitResult {
  const toml = join(root, 'auton.toml')
  const taken = [autonfile, toml].filter((f) => existsSync(f)).map((f) => relative(root, f))
  if (taken.length) {
    throw new InitError(`${taken.join(' and ')} already exist${taken.length === 1 ? 's' : ''} in ${root}; auton init never overwrites (move ${taken.length === 1 ? 'it' : 'them'} away, or edit ${taken.length === 1 ? 'it' : 'them'} and run auton build)`)
  }
  const r: InitResult = { written: [], kept: [] }
  const write = (file: string, text: string, onlyIfAbsent = false) => {
    const rel = relative(root, file)
    if (onlyIfAbsent && existsSync(file)) return void r.kept.push(rel)
    writeFileSync(file, text, { flag: 'wx' }) // 'wx': fails rather than overwrite, even in a race
    r.written.push(rel)
  }
  mkdirSync(root, { recursive: true })
  write(autonfile, STARTER_AUTONFILE)
  write(toml, STARTER_TOML)
  write(join(root, 'tsconfig.json'), STARTER_TSCONFIG.replace('"autonfile.ts"', JSON.stringify(basename(autonfile))), true)
  if (existsSync(join(root, 'notes'))) r.kept.push('notes/')
  else {
    mkdirSync(join(root, 'notes'))
    write(join(root, 'notes', 'hello.txt'), STARTER_NOTE)
  }
  const gi = join(root, '.gitignore')
  const had = existsSync(gi) ? readFileSync(gi, 'utf8') : ''
  const present = new Set(had.split('\n').map((l) => l.trim()))
  const missing = GITIGNORE_LINES.filter((l) => !present.has(l) && !present.has(l.replace(/\/$/, '')))
  if (missing.length) {
    appendFileSync(gi, (had && !had.endsWith('\n') ? '\n' : '') + missing.join('\n') + '\n')
    r.written.push(had ? `.gitignore (+ ${missing.join(' ')})` : '.gitignore')
  } else r.kept.push('.gitignore')
  return r
}

/** `auton init`: write the starter, then build it (`build` is the CLI's own build). */
export async function initCommand(root: string, autonfile: string, build: () => Promise<number>): Promise<number> {
  let r: InitResult
  try {
    r = initProject(root, autonfile)
  } catch (e) {
    if (!(e instanceof InitError)) throw e
    console.error(`auton init: ${e.message}`)
    return 1
  }
  console.log(`auton init: wrote ${r.written.join(', ')}${r.kept.length ? `; kept ${r.kept.join(', ')}` : ''}`)
  console.log('auton init: building it once (npx auton build):')
  return build()
}
