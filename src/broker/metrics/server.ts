/** The metrics listener: `GET /metrics` answers the Prometheus text exposition; nothing else is served. */
import { createServer, type Server } from 'node:http'
import type { BrokerMetrics } from './broker-metrics.ts'

export class MetricsServer {
  readonly host: string
  readonly port: number
  readonly #server: Server

  private constructor(server: Server, host: string, port: number) {
    this.#server = server
    this.host = host
    this.port = port
  }

  /** Listens on host:port (0 picks a free port; `port` then holds the bound one). */
  static async start(metrics: BrokerMetrics, host: string, port: number, log: (msg: string) => void): Promise<MetricsServer> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]
      if (path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: metrics are at /metrics\n')
        return
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n')
        return
      }
      metrics.text().then(
        (body) => {
          res.writeHead(200, { 'content-type': metrics.contentType })
          res.end(req.method === 'HEAD' ? undefined : body)
        },
        (err: unknown) => {
          log(`metrics scrape failed: ${err instanceof Error ? err.message : String(err)}`)
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics collection failed\n')
        },
      )
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    const bound = server.address()
    return new MetricsServer(server, host, typeof bound === 'object' && bound ? bound.port : port)
  }

  /** Stops listening and drops open scrape connections (Prometheus keeps them alive). */
  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()))
    this.#server.closeAllConnections()
    return closed
  }
}
