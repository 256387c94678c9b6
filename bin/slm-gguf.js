#!/usr/bin/env node
// slm-gguf <file.gguf>: validate a GGUF file and print its metadata and tensor table.
// A pipeline tool (SLM/tools/gguf-cli.ts), not part of the generic engine's CLI.
import { describeGguf } from '../dist/SLM/tools/gguf-cli.js'

const files = process.argv.slice(2)
if (files.length !== 1 || files[0].startsWith('-')) {
  console.error('usage: slm-gguf <file.gguf>\n\nValidates a GGUF file (refusing a malformed one with the byte offset of the fault)\nand prints its metadata and tensor table.')
  process.exitCode = 2
} else {
  try {
    process.stdout.write(describeGguf(files[0]))
  } catch (e) {
    console.error(`slm-gguf: ${e.message}`)
    process.exitCode = 1
  }
}
