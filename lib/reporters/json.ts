// json.ts — one JSON object per line on stdout, for tools and CI dashboards.

import type { BuildEvent } from '../events.js'

export function jsonReporter(write: (s: string) => void = (s) => process.stdout.write(s)): (e: BuildEvent) => void {
  return (e) => {
    if (e.type === 'target' || e.type === 'summary' || e.type === 'warning' || e.type === 'start') {
      write(JSON.stringify(e) + '\n')
    }
  }
}
