// json.ts — one JSON object per line on stdout, for tools and CI dashboards.

import type { BuildEvent } from '../events.js'

export function jsonReporter(write: (s: string) => void = (s) => process.stdout.write(s)): (e: BuildEvent) => void {
  return (e) => {
    if (e.type === 'up-to-date') {
      // the same lines as a build that checked them
      for (const name of e.names) write(JSON.stringify({ type: 'target', name, status: 'up-to-date', ms: 0, at: e.at }) + '\n')
    }
    if (e.type === 'target' || e.type === 'summary' || e.type === 'warning' || e.type === 'start') {
      write(JSON.stringify(e) + '\n')
    }
  }
}
