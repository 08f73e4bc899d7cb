/**
 * The chaos harness's command line (see docs/chaos.md):
 *
 *   node --import tsx chaos/run.ts --duration 60s --members 4 --python-share 0.5 --seed 7 --idempotent
 *
 * Prints the checker's report and exits 0 when every expectation holds, 1 when one fails, 2 on bad usage.
 */
import { rmSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { type ChaosOptions, DEFAULT_OPTIONS, GRACEFUL_SCENARIOS, runChaos, SCENARIOS, type Scenario } from './harness.ts'

const USAGE = `usage: node --import tsx chaos/run.ts [options]
  --duration D        how long chaos actions keep coming (default 60s; 90s, 5m, 1500ms)
  --members N         members at the start, all static (default ${DEFAULT_OPTIONS.members})
  --min-members N     scale-downs and kills stop here (default ${DEFAULT_OPTIONS.minMembers})
  --max-members N     scale-ups stop here (default ${DEFAULT_OPTIONS.maxMembers})
  --python-share F    fraction of confluent-kafka members, 0..1 (default ${DEFAULT_OPTIONS.pythonShare})
  --seed N            PRNG seed: the same seed replays the same chaos decisions (default ${DEFAULT_OPTIONS.seed})
  --idempotent        members notify through the idempotent helper (shared SQLite store)
  --partitions N      partitions at the start (default ${DEFAULT_OPTIONS.partitions})
  --max-partitions N  partition additions stop here (default ${DEFAULT_OPTIONS.maxPartitions})
  --rate N            records produced per second (default ${DEFAULT_OPTIONS.rate})
  --strategy S        cooperative-sticky | range (default ${DEFAULT_OPTIONS.strategy})
  --commit-every N    members commit after every N records, and always in onRevoked (default ${DEFAULT_OPTIONS.commitEvery})
  --scenarios LIST    any of ${SCENARIOS.join(',')} (default all)
  --graceful          only ${GRACEFUL_SCENARIOS.join(',')}: expects zero duplicates
  --no-X              drop scenario X (e.g. --no-broker)
  --broker-signal S   SIGTERM | SIGKILL | random (default random)
  --gap A-B           pause between actions (default 2s-5s)
  --session-timeout D members' session timeout (default 6s)
  --drain-timeout D   how long the group may take to catch up afterwards (default 60s)
  --dir DIR           run directory (default: a new temp dir; kept when the run fails or with --keep)
  --keep              keep the run directory after a passing run
  --python-debug C    librdkafka debug contexts for the Python members' stderr (e.g. cgrp)
  --json              print the report as JSON instead of text`

export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s.trim())
  if (!m) throw new Error(`bad duration ${JSON.stringify(s)} (e.g. 60s, 5m, 1500ms)`)
  const n = Number(m[1])
  const unit = m[2] ?? 's'
  return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'])
}

function int(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} expects a whole number, got ${JSON.stringify(v)}`)
  return n
}

export function optionsFromArgs(argv: string[]): { options: Partial<ChaosOptions>; keep: boolean; json: boolean } {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      members: { type: 'string' },
      'min-members': { type: 'string' },
      'max-members': { type: 'string' },
      'python-share': { type: 'string' },
      seed: { type: 'string' },
      idempotent: { type: 'boolean', default: false },
      partitions: { type: 'string' },
      'max-partitions': { type: 'string' },
      rate: { type: 'string' },
      strategy: { type: 'string' },
      'commit-every': { type: 'string' },
      scenarios: { type: 'string' },
      graceful: { type: 'boolean', default: false },
      'no-scale': { type: 'boolean', default: false },
      'no-rolling': { type: 'boolean', default: false },
      'no-kill': { type: 'boolean', default: false },
      'no-partitions': { type: 'boolean', default: false },
      'no-broker': { type: 'boolean', default: false },
      'broker-signal': { type: 'string' },
      gap: { type: 'string' },
      'session-timeout': { type: 'string' },
      'drain-timeout': { type: 'string' },
      dir: { type: 'string' },
      keep: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'python-debug': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  })
  if (v.help) {
    process.stdout.write(`${USAGE}\n`)
    process.exit(0)
  }
  const d = DEFAULT_OPTIONS
  let scenarios: Scenario[] = v.graceful ? [...GRACEFUL_SCENARIOS] : [...SCENARIOS]
  if (v.scenarios !== undefined) {
    scenarios = v.scenarios
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '') as Scenario[]
    for (const s of scenarios) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${JSON.stringify(s)}`)
  }
  for (const s of SCENARIOS) if (v[`no-${s}`]) scenarios = scenarios.filter((x) => x !== s)
  const members = int('members', v.members, d.members)
  const options: Partial<ChaosOptions> = {
    durationMs: v.duration !== undefined ? parseDuration(v.duration) : d.durationMs,
    members,
    minMembers: int('min-members', v['min-members'], Math.min(d.minMembers, members)),
    maxMembers: int('max-members', v['max-members'], Math.max(d.maxMembers, members)),
    pythonShare: v['python-share'] !== undefined ? Number(v['python-share']) : d.pythonShare,
    seed: int('seed', v.seed, d.seed),
    idempotent: v.idempotent,
    partitions: int('partitions', v.partitions, d.partitions),
    rate: int('rate', v.rate, d.rate),
    commitEvery: Math.max(1, int('commit-every', v['commit-every'], d.commitEvery)),
    scenarios,
  }
  options.maxPartitions = int('max-partitions', v['max-partitions'], Math.max(d.maxPartitions, (options.partitions ?? 0) * 2))
  if (!(options.pythonShare !== undefined && options.pythonShare >= 0 && options.pythonShare <= 1)) {
    throw new Error('--python-share expects a number from 0 to 1')
  }
  if (v.strategy !== undefined) {
    if (v.strategy !== 'range' && v.strategy !== 'cooperative-sticky') throw new Error('--strategy expects range or cooperative-sticky')
    options.strategy = v.strategy
  }
  if (v['broker-signal'] !== undefined) {
    const s = v['broker-signal']
    if (s !== 'SIGTERM' && s !== 'SIGKILL' && s !== 'random') throw new Error('--broker-signal expects SIGTERM, SIGKILL or random')
    options.brokerSignal = s
  }
  if (v.gap !== undefined) {
    const [lo, hi] = v.gap.split('-')
    const a = parseDuration(lo ?? '')
    const b = hi !== undefined ? parseDuration(hi) : a
    options.gapMs = [Math.min(a, b), Math.max(a, b)]
  }
  if (v['session-timeout'] !== undefined) options.sessionTimeoutMs = parseDuration(v['session-timeout'])
  if (v['drain-timeout'] !== undefined) options.drainTimeoutMs = parseDuration(v['drain-timeout'])
  if (v.dir !== undefined) options.dir = v.dir
  if (v['python-debug'] !== undefined) options.pythonDebug = v['python-debug']
  return { options, keep: v.keep || v.dir !== undefined, json: v.json }
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof optionsFromArgs>
  try {
    parsed = optionsFromArgs(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(`chaos: ${(err as Error).message}\n${USAGE}\n`)
    return 2
  }
  const result = await runChaos(parsed.options)
  process.stdout.write(parsed.json ? `${JSON.stringify(result.report, null, 2)}\n` : result.text)
  if (result.report.pass && !parsed.keep) rmSync(result.dir, { recursive: true, force: true })
  return result.report.pass ? 0 : 1
}

process.exitCode = await main()
