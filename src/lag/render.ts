/**
 * The `cohort lag` view: a plain-text table per group (colours only when
 * asked, i.e. on a TTY without NO_COLOR) and the JSON form for scripts.
 */

import type { GroupReport, LagReport, PartitionReport } from './monitor.ts'

export interface RenderOptions {
  /** ANSI colours for statuses and diagnoses. */
  color: boolean
  /** KEDA's lagThreshold, shown next to the recommendation. */
  lagThreshold: bigint
  /** Groups that could not be read this time. */
  failures?: readonly { groupId: string; error: string }[]
}

const COLUMNS = [
  'TOPIC',
  'PARTITION',
  'COMMITTED',
  'LOG-END',
  'LAG',
  'LAG-SECONDS',
  'CONSUME/S',
  'PRODUCE/S',
  'STATUS',
  'CONSUMER-ID',
  'HOST',
  'CLIENT-ID',
] as const

const RED = '\x1b[31m'
const GREEN = '\x1b[32m'
const YELLOW = '\x1b[33m'
const DIM = '\x1b[2m'
const BOLD = '\x1b[1m'
const RESET = '\x1b[0m'

const STATUS_COLOR: Record<string, string> = {
  OK: GREEN,
  WARN: YELLOW,
  ERR: RED,
  STOP: RED,
  STALL: RED,
  REWIND: RED,
  NOTFOUND: DIM,
}

function paint(on: boolean, code: string | undefined, s: string): string {
  return on && code ? `${code}${s}${RESET}` : s
}

export function formatRate(r: number | null): string {
  if (r === null) return '-'
  return Math.abs(r) >= 1000 ? r.toFixed(0) : r.toFixed(1)
}

export function formatSeconds(s: number | null): string {
  return s === null ? '-' : s.toFixed(1)
}

function cells(p: PartitionReport): string[] {
  const dash = (v: bigint | null) => (v === null ? '-' : String(v))
  return [
    p.topic,
    String(p.partition),
    dash(p.committed),
    dash(p.logEnd),
    dash(p.lag),
    formatSeconds(p.lagSeconds),
    formatRate(p.consumeRate),
    formatRate(p.produceRate),
    p.status ?? '-',
    p.owner?.memberId ?? '-',
    p.owner?.clientHost ?? '-',
    p.owner?.clientId ?? '-',
  ]
}

/** Rows padded to the widest cell of each column, two spaces apart; the last column is not padded. */
export function table(header: readonly string[], rows: readonly string[][], paintCell?: (col: number, text: string) => string): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (r: readonly string[], colored: boolean) =>
    r
      .map((c, i) => {
        const padded = i === r.length - 1 ? c : c.padEnd(widths[i] as number)
        return colored && paintCell ? paintCell(i, padded) : padded
      })
      .join('  ')
  return [line(header, false), ...rows.map((r) => line(r, true))]
}

function groupBlock(g: GroupReport, o: RenderOptions): string[] {
  const out: string[] = []
  const status = g.status === null ? '-' : paint(o.color, STATUS_COLOR[g.status], g.status)
  if (g.state === 'Dead' && g.partitions.length === 0 && g.members.length === 0) {
    out.push(`${paint(o.color, BOLD, `GROUP ${g.groupId}`)}  status ${status}`)
    out.push(`Consumer group '${g.groupId}' does not exist.`)
    return out
  }
  const complete = g.status === 'NOTFOUND' ? '' : ` (complete ${Math.round(g.complete * 100)}%)`
  out.push(
    `${paint(o.color, BOLD, `GROUP ${g.groupId}`)}  state ${g.state}  assignor ${g.protocol || '-'}  members ${g.members.length}  status ${status}${complete}`,
  )
  const active = g.members.filter((m) => m.partitions.length > 0).length
  const maxSeconds = g.maxLagSeconds === null ? '' : ` (max ${formatSeconds(g.maxLagSeconds)} s)`
  out.push(
    `  lag ${g.totalLag}${maxSeconds}  consume ${formatRate(g.consumeRate)}/s  produce ${formatRate(g.produceRate)}/s  consumers ${active}, recommended ${g.keda.recommended} (KEDA, lagThreshold ${o.lagThreshold}, ${g.keda.partitions} partitions)`,
  )
  if (g.partitions.length === 0) {
    out.push('  no committed or assigned partitions')
  } else {
    out.push('')
    const rows = g.partitions.map(cells)
    const statusCol = COLUMNS.indexOf('STATUS')
    out.push(...table(COLUMNS, rows, (col, text) => (col === statusCol ? paint(o.color, STATUS_COLOR[text.trim()], text) : text)))
  }
  for (const d of g.patterns) out.push(paint(o.color, YELLOW, `  ! ${d.message}`))
  return out
}

/** The whole view as text, one block per group, ending with a newline. */
export function renderText(report: LagReport, o: RenderOptions): string {
  const blocks = report.groups.map((g) => groupBlock(g, o).join('\n'))
  for (const f of o.failures ?? []) blocks.push(paint(o.color, RED, `GROUP ${f.groupId}  could not be read: ${f.error}`))
  if (blocks.length === 0) blocks.push('No consumer groups.')
  return `${blocks.join('\n\n')}\n`
}

function num(v: bigint | null): number | string | null {
  if (v === null) return null
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : String(v)
}

/** JSON-ready form: offsets and lags as numbers (as strings beyond 2^53), unknown values as null, times as ISO strings. */
export function toJson(report: LagReport, failures: readonly { groupId: string; error: string }[] = []): unknown {
  return {
    time: new Date(report.time).toISOString(),
    groups: report.groups.map((g) => ({
      groupId: g.groupId,
      state: g.state,
      protocol: g.protocol,
      protocolType: g.protocolType,
      status: g.status,
      complete: g.complete,
      totalLag: num(g.totalLag),
      maxLag: g.maxLag && { topic: g.maxLag.topic, partition: g.maxLag.partition, lag: num(g.maxLag.lag) },
      maxLagSeconds: g.maxLagSeconds,
      consumeRate: g.consumeRate,
      produceRate: g.produceRate,
      recommendedConsumers: g.keda.recommended,
      keda: {
        partitions: g.keda.partitions,
        partitionsWithLag: g.keda.partitionsWithLag,
        totalLag: num(g.keda.totalLag),
        metric: num(g.keda.metric),
        isActive: g.keda.isActive,
        replicas: g.keda.replicas,
        recommended: g.keda.recommended,
      },
      rebalances: g.rebalances,
      patterns: g.patterns,
      members: g.members,
      partitions: g.partitions.map((p) => ({
        topic: p.topic,
        partition: p.partition,
        committed: num(p.committed),
        logStart: num(p.logStart),
        logEnd: num(p.logEnd),
        lag: num(p.lag),
        lagSeconds: p.lagSeconds,
        consumeRate: p.consumeRate,
        produceRate: p.produceRate,
        status: p.status,
        complete: p.complete,
        owner: p.owner,
      })),
    })),
    failures,
  }
}
