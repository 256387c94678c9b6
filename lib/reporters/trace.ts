// trace.ts — a Chrome trace of the build (.auton/trace.json; open in Perfetto or chrome://tracing).
//
// Each running target is a complete event ("ph":"X") on a lane (tid) that is reused once
// free, so the lanes show exactly how many recipes ran at once.

import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { BuildEvent } from '../events.js'

interface Span {
  name: string
  ts: number
  lane: number
  cat: string
}

export function traceRecorder(): { emit: (e: BuildEvent) => void; write: (file: string) => void } {
  const open = new Map<string, Span>()
  const lanes: boolean[] = []
  const events: object[] = []
  let t0 = 0
  const emit = (e: BuildEvent) => {
    if (e.type === 'plan') t0 = e.at
    if (e.type === 'start') {
      let lane = lanes.indexOf(false)
      if (lane < 0) lane = lanes.push(true) - 1
      lanes[lane] = true
      open.set(e.name, { name: e.name, ts: e.at, lane, cat: e.kind })
    }
    if (e.type === 'target') {
      const s = open.get(e.name)
      if (s) {
        open.delete(e.name)
        lanes[s.lane] = false
        events.push({
          name: s.name, cat: s.cat, ph: 'X', pid: 1, tid: s.lane + 1,
          ts: (s.ts - t0) * 1000, dur: (e.at - s.ts) * 1000, args: { status: e.status },
        })
      } else if (e.status === 'restored') {
        events.push({ name: e.name, cat: 'restore', ph: 'i', s: 't', pid: 1, tid: 0, ts: (e.at - t0) * 1000 })
      }
    }
  }
  const write = (file: string) => {
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, JSON.stringify({ traceEvents: events, displayTimeUnit: 'ms' }))
  }
  return { emit, write }
}
