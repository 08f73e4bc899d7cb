import { resolve } from 'node:path'
import type { Command } from 'commander'
import { Broker, VERSION } from '../broker/broker.ts'
import { applyConfig, type BrokerConfig, DEFAULT_CONFIG, readPropertiesFile } from '../broker/config.ts'

interface BrokerFlags {
  host?: string
  port?: string
  dataDir?: string
  config?: string
  advertisedHost?: string
  advertisedPort?: string
  metricsPort?: string
  set: string[]
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

/** Defaults, then the properties file, then flags: the later wins. */
export function brokerConfigFrom(flags: BrokerFlags): BrokerConfig {
  let config = DEFAULT_CONFIG
  if (flags.config) config = applyConfig(config, readPropertiesFile(flags.config))
  const entries: Record<string, string> = {}
  for (const kv of flags.set) {
    const eq = kv.indexOf('=')
    if (eq <= 0) throw new Error(`--set expects key=value, got '${kv}'`)
    entries[kv.slice(0, eq)] = kv.slice(eq + 1)
  }
  if (flags.host !== undefined) entries.host = flags.host
  if (flags.port !== undefined) entries.port = flags.port
  if (flags.dataDir !== undefined) entries['log.dirs'] = flags.dataDir
  if (flags.advertisedHost !== undefined) entries['advertised.host'] = flags.advertisedHost
  if (flags.advertisedPort !== undefined) entries['advertised.port'] = flags.advertisedPort
  if (flags.metricsPort !== undefined) entries['metrics.port'] = flags.metricsPort
  return applyConfig(config, entries)
}

export function registerBroker(program: Command): void {
  program
    .command('broker')
    .description('start a single-node Kafka-compatible broker')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--port <port>', 'port to listen on (default 9092; 0 picks a free one)')
    .option('--data-dir <dir>', 'where logs and metadata live (default ./cohort-data)')
    .option('--config <file>', 'a server.properties-style file with broker settings')
    .option('--advertised-host <host>', 'host clients are told to connect to')
    .option('--advertised-port <port>', 'port clients are told to connect to')
    .option('--metrics-port <port>', 'serve Prometheus metrics on http://HOST:PORT/metrics (0 picks a free port; default off)')
    .option('--set <key=value>', 'any broker setting, repeatable (e.g. --set log.flush.mode=os)', collect, [])
    .action(async (flags: BrokerFlags) => {
      const config = brokerConfigFrom(flags)
      const broker = await Broker.start({ config })
      const metrics = broker.metricsAddress
      const metricsHost = metrics?.host.includes(':') ? `[${metrics.host}]` : metrics?.host
      const metricsNote = metrics === null ? '' : `, metrics on http://${metricsHost}:${metrics.port}/metrics`
      process.stdout.write(
        `cohort ${VERSION} broker listening on ${broker.bootstrap} (data dir ${resolve(config['log.dirs'])})${metricsNote}\n`,
      )
      await new Promise<void>((done) => {
        let stopping = false
        const stop = (signal: string) => {
          if (stopping) return
          stopping = true
          process.stderr.write(`received ${signal}, shutting down\n`)
          broker.close().then(done, (err: unknown) => {
            process.stderr.write(`shutdown failed: ${err instanceof Error ? err.message : String(err)}\n`)
            process.exitCode = 1
            done()
          })
        }
        process.once('SIGINT', () => stop('SIGINT'))
        process.once('SIGTERM', () => stop('SIGTERM'))
      })
    })
}
