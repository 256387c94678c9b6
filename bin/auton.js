#!/usr/bin/env node
// The auton command. The engine is compiled to dist/ by `npm install` (prepare) or `npm run build`.
import { main } from '../dist/lib/cli.js'

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    console.error(`auton: internal error: ${err?.stack ?? err}`)
    process.exitCode = 1
  },
)
