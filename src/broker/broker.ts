/**
 * The broker: binds the listener, opens the data directory, and wires
 * connections → router → API handlers → logs. `Broker.start` resolves when
 * it accepts connections; `close` stops accepting, closes connections and
 * flushes every log.
 *
 * Import it as `cohort/broker`.
 *
 * @module broker
 */
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { type Clock, systemClock } from '../util/clock.ts'
import { allHandlers } from './apis/index.ts'
import { type BrokerConfig, DEFAULT_CONFIG } from './config.ts'
import type { BrokerContext } from './context.ts'
import { GroupService } from './groups/group-service.ts'
import { LogManager } from './log/index.ts'
import type { MetricsServer } from './metrics/server.ts'
import { Connection } from './network/connection.ts'
import { framePool } from './network/frame-pool.ts'
import { AppendNotifier } from './produce/append-notifier.ts'
import { ProducerStates } from './produce/producer-state.ts'
import { type RequestObserver, Router } from './router.ts'

/** Cohort's version, as written to `meta.properties`. */
export type { BrokerConfig } from './config.ts'
export type { RequestObserver } from './router.ts'

export const VERSION = '0.1.0'

/** What `Broker.start` takes; everything is optional. */
export interface BrokerOptions {
  /** Settings with Kafka's names (`port`, `log.dirs`, `num.partitions`, …; see docs/configuration.md), over the defaults. */
  config?: Partial<BrokerConfig>
  /**
   * Time for timers and timestamps (default: the system clock; tests pass a manual one).
   *
   * @internal
   */
  clock?: Clock
  /** One line per event worth an operator's attention; defaults to stderr with a timestamp. */
  log?: (msg: string) => void
  /** Told about every answered request (API key, version, latency, bytes, error code), in addition to the metrics when `metrics.port` is set. */
  observer?: RequestObserver
}

/** Both observers, in order. */
function bothObservers(a: RequestObserver, b: RequestObserver | undefined): RequestObserver {
  if (!b?.onRequest) return a
  return {
    onRequest(apiKey, version, micros, bytesIn, bytesOut, errorCode) {
      a.onRequest?.(apiKey, version, micros, bytesIn, bytesOut, errorCode)
      b.onRequest?.(apiKey, version, micros, bytesIn, bytesOut, errorCode)
    },
  }
}

/** Reads or creates meta.properties, which pins the cluster id and node id to a data directory, as Kafka does. */
function loadIdentity(dir: string, config: BrokerConfig): { clusterId: string } {
  const path = join(dir, 'meta.properties')
  if (existsSync(path)) {
    const props = Object.fromEntries(
      readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l.includes('=') && !l.startsWith('#'))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]),
    )
    if (props['node.id'] !== undefined && Number(props['node.id']) !== config['node.id']) {
      throw new Error(`${path} belongs to node.id ${props['node.id']}, but this broker is node.id ${config['node.id']}`)
    }
    if (props['cluster.id']) return { clusterId: props['cluster.id'] }
  }
  const clusterId = config['cluster.id'] ?? randomBytes(16).toString('base64url')
  writeFileSync(path, `# written by cohort ${VERSION}\nversion=1\ncluster.id=${clusterId}\nnode.id=${config['node.id']}\n`)
  return { clusterId }
}

function defaultLog(msg: string): void {
  process.stderr.write(`[${new Date().toISOString()}] ${msg}\n`)
}

/** A running broker: `await Broker.start(options)`, then `close()`. */
export class Broker {
  /** The settings in effect (defaults, then `options.config`; `port` is the bound one when 0 was asked for). */
  readonly config: BrokerConfig
  /**
   * The wiring shared by the request handlers (logs, group coordinator, producer states).
   *
   * @internal
   */
  readonly context: BrokerContext
  #server: Server
  #connections = new Set<Connection>()
  #tick: NodeJS.Timeout | undefined
  #metrics: MetricsServer | null = null
  #closed = false

  private constructor(config: BrokerConfig, context: BrokerContext, server: Server) {
    this.config = config
    this.context = context
    this.#server = server
  }

  /** Binds the listener, opens (or creates) the data directory and resolves once connections are accepted. */
  static async start(options: BrokerOptions = {}): Promise<Broker> {
    const config: BrokerConfig = { ...DEFAULT_CONFIG, ...options.config }
    const clock = options.clock ?? systemClock
    const log = options.log ?? defaultLog
    const dataDir = config['log.dirs']
    mkdirSync(dataDir, { recursive: true })
    const { clusterId } = loadIdentity(dataDir, config)
    const logs = await LogManager.open(dataDir, config, { clock, log })
    const groups = new GroupService(logs, config, clock, log)
    await groups.load()
    // Metrics code (and prom-client) is loaded only when metrics are on; without them the router has no observer to call.
    const metricsPort = config['metrics.port']
    const metrics = metricsPort === null ? null : await import('./metrics/index.ts')

    const server = createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(config.port, config.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    const bound = server.address()
    const port = typeof bound === 'object' && bound ? bound.port : config.port
    const advertised = { host: config['advertised.host'] ?? config.host, port: config['advertised.port'] ?? port }

    // Producer ids must not repeat across restarts: start from the clock, shifted to leave room for a run's ids.
    let producerIdCounter = BigInt(clock.now()) << 12n
    const context: BrokerContext = {
      config: { ...config, port },
      nodeId: config['node.id'],
      clusterId,
      advertised,
      logs,
      groups,
      clock,
      producers: new ProducerStates(),
      appends: new AppendNotifier(),
      readBuffers: framePool(16),
      log,
      nextProducerId: () => producerIdCounter++,
    }
    const broker = new Broker(context.config, context, server)
    const handlers = allHandlers(() => router.supportedVersions())
    const stats = metrics === null ? null : new metrics.RequestStats(handlers.map((h) => ({ key: h.api.key, name: h.api.name })))
    const router: Router = new Router(context, handlers, stats === null ? options.observer : bothObservers(stats, options.observer))
    const produceFrames = framePool()
    server.on('connection', (socket: Socket) => {
      if (broker.#closed) {
        socket.destroy()
        return
      }
      const conn = new Connection(socket, router, {
        maxRequestBytes: config['socket.request.max.bytes'],
        maxInFlight: 64,
        log,
        framePool: produceFrames,
      })
      broker.#connections.add(conn)
      conn.onClose(() => broker.#connections.delete(conn))
    })
    broker.#tick = setInterval(
      () => {
        logs.tick(clock.now())
      },
      Math.min(config['log.retention.check.interval.ms'], 10_000),
    )
    broker.#tick.unref()
    if (metrics !== null && stats !== null && metricsPort !== null) {
      const registry = new metrics.BrokerMetrics({
        stats,
        logs,
        coordinator: groups.coordinator,
        connections: () => broker.#connections.size,
        info: { version: VERSION, clusterId, nodeId: config['node.id'], address: `${advertised.host}:${advertised.port}` },
      })
      try {
        broker.#metrics = await metrics.MetricsServer.start(registry, config['metrics.host'] ?? config.host, metricsPort, log)
      } catch (err) {
        await broker.close()
        throw err
      }
    }
    return broker
  }

  /** The advertised host and port (the bound port when `port` was 0). */
  get address(): { host: string; port: number } {
    return this.context.advertised
  }

  /** Where `GET /metrics` is served (the bound port when `metrics.port` was 0); null when metrics are off. */
  get metricsAddress(): { host: string; port: number } | null {
    return this.#metrics === null ? null : { host: this.#metrics.host, port: this.#metrics.port }
  }

  /** The bound metrics port (`metrics.port`, or the one picked when it was 0); null when metrics are off. */
  get metricsPort(): number | null {
    return this.#metrics?.port ?? null
  }

  /** host:port for clients' bootstrap.servers. */
  get bootstrap(): string {
    return `${this.context.advertised.host}:${this.context.advertised.port}`
  }

  /** Stops accepting, closes every connection and flushes and closes every log. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#tick)
    const stopped = new Promise<void>((resolve) => this.#server.close(() => resolve()))
    for (const c of this.#connections) c.close()
    await Promise.all([stopped, this.#metrics?.close()])
    this.context.groups.close()
    await this.context.logs.close()
  }
}
