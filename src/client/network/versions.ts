/**
 * ApiVersions negotiation. We ask at v3 (the newest we define); a broker that
 * does not know v3 answers with a v0-format body carrying UNSUPPORTED_VERSION
 * and, if it follows KIP-511, its own ApiVersions range, so we retry at that max,
 * or at v0 when it lists none. Each API is then used at min(our max, broker max).
 */
import { ApiVersions } from '../../protocol/apis/index.ts'
import { ErrorCode, KafkaError } from '../../protocol/errors.ts'
import { decodeResponse } from '../../protocol/frame.ts'
import type { ApiDefinition, VersionRange } from '../../protocol/schema/dsl.ts'
import { ProtocolError, UnsupportedVersionError } from '../errors.ts'
import type { Connection } from './connection.ts'

export const CLIENT_SOFTWARE_NAME = 'cohort-js'
export const CLIENT_SOFTWARE_VERSION = '0.1.0'

const API_VERSIONS_MAX = ApiVersions.versions.max

/** The version ranges one broker advertised, and the version choice made against them. */
export class ApiVersionTable {
  readonly #broker: ReadonlyMap<number, VersionRange>
  /** The ApiVersions version the broker finally answered. */
  readonly apiVersionsVersion: number

  constructor(broker: ReadonlyMap<number, VersionRange>, apiVersionsVersion = 0) {
    this.#broker = broker
    this.apiVersionsVersion = apiVersionsVersion
  }

  /** The broker's range for an API key, or undefined when it does not offer the API. */
  brokerRange(key: number): VersionRange | undefined {
    return this.#broker.get(key)
  }

  /** Whether some version of `api` is usable by both sides (within `limit` when given). */
  supports(api: ApiDefinition, limit?: Partial<VersionRange>): boolean {
    return this.#choose(api, limit) !== null
  }

  /**
   * The highest version both sides implement, optionally narrowed by the caller
   * (e.g. a feature that needs v4+). Throws UnsupportedVersionError otherwise.
   */
  pick(api: ApiDefinition, limit?: Partial<VersionRange>): number {
    const v = this.#choose(api, limit)
    if (v === null) throw new UnsupportedVersionError(api.name, ours(api, limit), this.#broker.get(api.key) ?? null)
    return v
  }

  #choose(api: ApiDefinition, limit?: Partial<VersionRange>): number | null {
    const b = this.#broker.get(api.key)
    if (!b) return null
    const o = ours(api, limit)
    const v = Math.min(o.max, b.max)
    return v < Math.max(o.min, b.min) ? null : v
  }

  entries(): IterableIterator<[number, VersionRange]> {
    return this.#broker.entries()
  }
}

function ours(api: ApiDefinition, limit?: Partial<VersionRange>): VersionRange {
  return {
    min: Math.max(api.versions.min, limit?.min ?? 0),
    max: Math.min(api.versions.max, limit?.max ?? Number.POSITIVE_INFINITY),
  }
}

interface DecodedApiVersions {
  errorCode: number
  apiKeys: { apiKey: number; minVersion: number; maxVersion: number }[]
}

/**
 * Decodes an ApiVersions response sent at `version`. A broker that rejects the
 * version answers in the v0 format whatever we asked for, so an error of
 * UNSUPPORTED_VERSION, or a body that does not parse at `version`, is read as v0.
 */
export function decodeApiVersions(frame: Buffer, version: number): DecodedApiVersions {
  // ApiVersions responses use header v0, so the error code sits right after the correlation id in every version.
  const errorCode = frame.length >= 6 ? frame.readInt16BE(4) : -1
  if (errorCode === ErrorCode.UNSUPPORTED_VERSION || version === 0) return decodeResponse(ApiVersions, 0, frame).body
  try {
    return decodeResponse(ApiVersions, version, frame).body
  } catch {
    return decodeResponse(ApiVersions, 0, frame).body
  }
}

/** Runs the negotiation on a freshly connected connection. */
export async function negotiateApiVersions(
  conn: Connection,
  software: { name: string; version: string } = { name: CLIENT_SOFTWARE_NAME, version: CLIENT_SOFTWARE_VERSION },
): Promise<ApiVersionTable> {
  let version = API_VERSIONS_MAX
  const tried = new Set<number>()
  for (;;) {
    tried.add(version)
    const frame = await conn.requestRaw(ApiVersions, version, {
      clientSoftwareName: software.name,
      clientSoftwareVersion: software.version,
    })
    let res: DecodedApiVersions
    try {
      res = decodeApiVersions(frame as Buffer, version)
    } catch (err) {
      throw new ProtocolError(`${conn.address}: cannot decode ApiVersions v${version} response: ${(err as Error).message}`, {
        cause: err,
      })
    }
    if (res.errorCode === ErrorCode.UNSUPPORTED_VERSION) {
      const entry = res.apiKeys.find((k) => k.apiKey === ApiVersions.key)
      const next = entry && entry.maxVersion < version ? Math.max(0, entry.maxVersion) : 0
      if (tried.has(next)) throw new UnsupportedVersionError(ApiVersions.name, ApiVersions.versions, entry ? range(entry) : null)
      version = next
      continue
    }
    if (res.errorCode !== ErrorCode.NONE) throw new KafkaError(res.errorCode, `${conn.address}: ApiVersions failed`)
    const table = new Map<number, VersionRange>()
    for (const k of res.apiKeys) table.set(k.apiKey, range(k))
    return new ApiVersionTable(table, version)
  }
}

function range(k: { minVersion: number; maxVersion: number }): VersionRange {
  return { min: k.minVersion, max: k.maxVersion }
}
