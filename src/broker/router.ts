/**
 * Turns a request frame into a response frame: reads the header, finds the
 * handler registered for the API key, decodes the body in the requested
 * version, runs the handler and encodes its answer.
 *
 * Bad input follows Kafka: an ApiVersions request in a version we do not
 * know gets a v0 UNSUPPORTED_VERSION answer listing our ApiVersions range, so
 * the client can retry; an unknown API key, an unsupported version of any
 * other API, or an undecodable body closes the connection with one log line.
 */
import { Produce } from '../protocol/apis/index.ts'
import { ErrorCode } from '../protocol/errors.ts'
import { encodeResponse, peekRequestHeader, readRequestHeader } from '../protocol/frame.ts'
import { Reader } from '../protocol/primitives/reader.ts'
import { decodeStruct } from '../protocol/schema/codec.ts'
import type { ApiHandler } from './apis/handler.ts'
import type { BrokerContext } from './context.ts'
import { type ErrorFinder, errorFinder } from './metrics/response-errors.ts'
import type { Connection, ConnectionHandler, Reply } from './network/connection.ts'

const API_VERSIONS_KEY = 18

export interface RequestObserver {
  /**
   * Called after each handled request: API key, version, latency in µs (decode to encoded response, so it
   * includes long polls, parked JoinGroups and fsync waits), the bytes in (frame with its size prefix) and out
   * (0 when no response is sent: acks=0), and the response's error code (its top-level errorCode if not 0,
   * else the first non-zero nested one — per topic, partition, group —, else 0). Runs on the request path:
   * keep it cheap.
   */
  onRequest?(apiKey: number, version: number, micros: number, bytesIn: number, bytesOut: number, errorCode: number): void
}

export class Router implements ConnectionHandler {
  readonly #handlers = new Map<number, ApiHandler>()
  readonly #broker: BrokerContext
  readonly #observer: RequestObserver
  /** Per API key, the response error finder (only when an observer wants requests). */
  readonly #errorOf = new Map<number, ErrorFinder>()

  constructor(broker: BrokerContext, handlers: readonly ApiHandler[], observer: RequestObserver = {}) {
    this.#broker = broker
    this.#observer = observer
    for (const h of handlers) {
      if (this.#handlers.has(h.api.key)) throw new Error(`two handlers for API key ${h.api.key}`)
      this.#handlers.set(h.api.key, h)
      if (observer.onRequest) this.#errorOf.set(h.api.key, errorFinder(h.api.response))
    }
  }

  /** The advertised (key, min, max) list, built from the registered handlers so it cannot drift. Cohort's own APIs are left out. */
  supportedVersions(): { apiKey: number; minVersion: number; maxVersion: number }[] {
    return [...this.#handlers.values()]
      .filter((h) => h.advertised)
      .map((h) => ({ apiKey: h.api.key, minVersion: h.min, maxVersion: h.max }))
      .sort((a, b) => a.apiKey - b.apiKey)
  }

  /**
   * Produce frames may lie in reused buffers: the handler writes each partition's records to
   * its log before its first await and keeps no view of them (its answer holds offsets only).
   */
  reusesFrame(apiKey: number): boolean {
    return apiKey === Produce.key
  }

  onFrame(frame: Buffer, conn: Connection): Promise<Reply> | Reply {
    const peek = peekRequestHeader(frame)
    if (!peek) {
      conn.fail(`malformed request header (${frame.length} bytes)`)
      return null
    }
    const handler = this.#handlers.get(peek.apiKey)
    if (!handler) {
      conn.fail(`unknown API key ${peek.apiKey}`)
      return null
    }
    if (peek.apiVersion < handler.min || peek.apiVersion > handler.max) {
      if (peek.apiKey === API_VERSIONS_KEY) return this.#unsupportedApiVersions(handler, peek.correlationId)
      conn.fail(`unsupported version ${peek.apiVersion} of ${handler.api.name} (supported ${handler.min}-${handler.max})`)
      return null
    }
    const onRequest = this.#observer.onRequest
    const started = onRequest ? performance.now() : 0
    const r = new Reader(frame)
    let req: Record<string, unknown>
    let header: ReturnType<typeof readRequestHeader>
    try {
      header = readRequestHeader(r, handler.api.requestHeaderVersion(peek.apiVersion))
      req = decodeStruct(r, handler.api.request, peek.apiVersion, handler.api.isFlexible(peek.apiVersion))
    } catch (err) {
      conn.fail(`malformed ${handler.api.name} v${peek.apiVersion} request: ${err instanceof Error ? err.message : String(err)}`)
      return null
    }
    let afterSend: (() => void)[] | null = null
    const ctx = {
      broker: this.#broker,
      conn,
      header,
      version: peek.apiVersion,
      afterSend: (fn: () => void) => {
        ;(afterSend ??= []).push(fn)
      },
    }
    const finish = (body: Record<string, unknown> | null): Reply => {
      const out = body === null ? null : encodeResponse(handler.api, peek.apiVersion, peek.correlationId, body)
      if (onRequest) {
        const micros = (performance.now() - started) * 1000
        let bytesOut = 0
        if (out !== null) for (let i = 0; i < out.length; i++) bytesOut += (out[i] as Buffer).length
        const errorCode = body === null ? 0 : (this.#errorOf.get(peek.apiKey) as ErrorFinder)(body)
        onRequest.call(this.#observer, peek.apiKey, peek.apiVersion, micros, frame.length + 4, bytesOut, errorCode)
      }
      if (out !== null && afterSend !== null) {
        const hooks = afterSend
        ;(out as Buffer[] & { afterSend?: () => void }).afterSend = () => {
          for (const h of hooks) h()
        }
      }
      return out
    }
    const result = handler.handle(ctx, req)
    if (result instanceof Promise) return result.then(finish)
    return finish(result)
  }

  #unsupportedApiVersions(handler: ApiHandler, correlationId: number): Reply {
    return encodeResponse(handler.api, 0, correlationId, {
      errorCode: ErrorCode.UNSUPPORTED_VERSION,
      apiKeys: [{ apiKey: API_VERSIONS_KEY, minVersion: handler.min, maxVersion: handler.max }],
    })
  }
}
