#!/usr/bin/env node
// The auton command. The engine is compiled to dist/ by `npm install` (prepare) or `npm run build`.
// `auton build` goes through the checkout's build server when it can (docs/server.md); this
// file and the client are CommonJS and load nothing else, so a no-op build costs little more
// than Node's own start-up. Everything else loads the engine (ES modules) here.
'use strict'
const { viaServer } = require('../dist/lib/server/client.cjs')

const argv = process.argv.slice(2)
viaServer(argv)
  .then(async (code) => {
    if (code === undefined) code = await (await import('../dist/lib/cli.js')).main(argv)
    process.exitCode = code
  })
  .catch((err) => {
    console.error(`auton: internal error: ${err?.stack ?? err}`)
    process.exitCode = 1
  })
