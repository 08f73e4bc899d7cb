/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time and inclusive
 * ("total") time per function, as shares of the non-idle samples.
 * Run alone: node --import tsx bench/lib/cpuprofile.ts FILE.cpuprofile [N]
 */
import { existsSync, readFileSync } from 'node:fs'
import { SourceMap } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }
  children?: number[]
}

interface Profile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

export interface FunctionTime {
  name: string
  where: string
  selfMs: number
  totalMs: number
  /** Shares of busy (non-idle) time. */
  selfPct: number
  totalPct: number
}

export interface ProfileSummary {
  wallMs: number
  busyMs: number
  idleMs: number
  functions: FunctionTime[]
}

const maps = new Map<string, SourceMap | null>()

/** The source map next to a compiled .js file (tsc's `sourceMap`), if any. */
function mapFor(url: string): SourceMap | null {
  if (!url.startsWith('file://') || !url.endsWith('.js')) return null
  let m = maps.get(url)
  if (m === undefined) {
    const file = `${fileURLToPath(url)}.map`
    m = existsSync(file) ? new SourceMap(JSON.parse(readFileSync(file, 'utf8'))) : null
    maps.set(url, m)
  }
  return m
}

const shorten = (u: string) => u.replace(/^file:\/\//, '').replace(/^.*\/(src|bench|node_modules)\//, '$1/')

/** `file:line` of a function, mapped back to the TypeScript source when the code was compiled with a source map. */
function where(url: string, line: number, column: number): string {
  if (url === '') return ''
  const m = mapFor(url)
  if (m) {
    const e = m.findEntry(line, column) as { originalSource?: string; originalLine?: number }
    if (e.originalSource !== undefined && e.originalLine !== undefined) {
      const src = new URL(e.originalSource, url).href
      return `${shorten(src)}:${e.originalLine + 1}`
    }
  }
  return `${shorten(url)}:${line + 1}`
}

/**
 * `window`: only samples between these two instants of the profiled process's
 * monotonic clock in µs (process.hrtime / 1000, which V8's profile timestamps share on Linux).
 */
export function summarise(file: string, window?: [number, number] | null): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile
  const byId = new Map<number, ProfileNode>()
  const parent = new Map<number, number>()
  for (const n of p.nodes) {
    byId.set(n.id, n)
    for (const c of n.children ?? []) parent.set(c, n.id)
  }
  const keys = new Map<number, string>()
  const keyOf = (n: ProfileNode) => {
    let k = keys.get(n.id)
    if (k === undefined) {
      k = `${n.callFrame.functionName || '(anonymous)'}\u0000${where(n.callFrame.url, n.callFrame.lineNumber, n.callFrame.columnNumber)}`
      keys.set(n.id, k)
    }
    return k
  }
  const self = new Map<string, number>()
  const total = new Map<string, number>()
  let idle = 0
  let busy = 0
  // The delta before sample i+1 is the time spent in sample i's stack (V8 records the interval ending at each sample).
  let ts = p.startTime
  let first = Number.POSITIVE_INFINITY
  let last = Number.NEGATIVE_INFINITY
  for (let i = 0; i < p.samples.length; i++) {
    ts += p.timeDeltas[i] ?? 0
    if (window && (ts < window[0] || ts > window[1])) continue
    if (ts < first) first = ts
    if (ts > last) last = ts
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000
    const node = byId.get(p.samples[i] as number)
    if (!node) continue
    if (node.callFrame.functionName === '(idle)') {
      idle += dt
      continue
    }
    busy += dt
    const k = keyOf(node)
    self.set(k, (self.get(k) ?? 0) + dt)
    const seen = new Set<string>()
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id) as ProfileNode
      const kk = keyOf(n)
      if (seen.has(kk)) continue
      seen.add(kk)
      total.set(kk, (total.get(kk) ?? 0) + dt)
    }
  }
  const functions: FunctionTime[] = [...total.entries()].map(([k, t]) => {
    const [name, at] = k.split('\u0000') as [string, string]
    const s = self.get(k) ?? 0
    return { name, where: at, selfMs: s, totalMs: t, selfPct: (100 * s) / busy, totalPct: (100 * t) / busy }
  })
  const wallMs = window ? (last - first) / 1000 : (p.endTime - p.startTime) / 1000
  return { wallMs, busyMs: busy, idleMs: idle, functions }
}

export function formatSummary(s: ProfileSummary, top = 20): string {
  const lines: string[] = []
  lines.push(
    `profile: ${(s.wallMs / 1000).toFixed(1)} s wall, busy ${(s.busyMs / 1000).toFixed(1)} s (${((100 * s.busyMs) / s.wallMs).toFixed(0)} %), idle ${(s.idleMs / 1000).toFixed(1)} s`,
  )
  lines.push('top self time (share of busy time):')
  const bySelf = [...s.functions].sort((a, b) => b.selfMs - a.selfMs).slice(0, top)
  for (const f of bySelf) lines.push(`  ${f.selfPct.toFixed(1).padStart(5)} %  ${f.name}  ${f.where}`)
  lines.push('top inclusive time in project code (src/):')
  const byTotal = s.functions
    .filter((f) => f.where.startsWith('src/'))
    .sort((a, b) => b.totalMs - a.totalMs)
    .slice(0, top)
  for (const f of byTotal) lines.push(`  ${f.totalPct.toFixed(1).padStart(5)} %  (self ${f.selfPct.toFixed(1)} %)  ${f.name}  ${f.where}`)
  return lines.join('\n')
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2]
  if (!file) {
    console.error('usage: node --import tsx bench/lib/cpuprofile.ts FILE.cpuprofile [N]')
    process.exit(2)
  }
  console.log(formatSummary(summarise(file), Number(process.argv[3] ?? 20)))
}
