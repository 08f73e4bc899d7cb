/** Options and helpers shared by the client-side commands. */
import type { Command } from 'commander'

export const DEFAULT_BOOTSTRAP = '127.0.0.1:9092'

export function withBootstrap(cmd: Command): Command {
  return cmd.option('--bootstrap-server <host:port>', 'broker(s) to connect to, comma-separated', DEFAULT_BOOTSTRAP)
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

export function parseIntOption(name: string, value: string | undefined, min = Number.MIN_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < min)
    throw new Error(`${name} must be an integer${min > Number.MIN_SAFE_INTEGER ? ` ≥ ${min}` : ''}, got '${value}'`)
  return n
}

/** key=value pairs from repeated --config flags. */
export function parseConfigs(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const kv of pairs) {
    const eq = kv.indexOf('=')
    if (eq <= 0) throw new Error(`--config expects key=value, got '${kv}'`)
    out[kv.slice(0, eq)] = kv.slice(eq + 1)
  }
  return out
}
