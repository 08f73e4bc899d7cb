/**
 * The shape of a broker API handler: the API it serves, the version range it
 * implements (which ApiVersions advertises, so the two cannot drift) and a
 * function from the decoded request to a response body. Returning null sends
 * no response (Produce with acks=0). A handler with `advertised: false` is
 * answered but left out of ApiVersions (Cohort's own APIs, which real clients
 * must never see).
 */
import type { RequestHeader } from '../../protocol/frame.ts'
import type { ApiDefinition, Fields, StructInput, StructOf } from '../../protocol/schema/dsl.ts'
import type { BrokerContext } from '../context.ts'
import type { Connection } from '../network/connection.ts'

export interface RequestContext {
  broker: BrokerContext
  conn: Connection
  header: RequestHeader
  version: number
  /** Runs `fn` once the response has been handed to the socket (not if it is never sent). */
  afterSend(fn: () => void): void
}

export interface ApiHandler<Req extends Fields = Fields, Res extends Fields = Fields> {
  api: ApiDefinition<Req, Res>
  min: number
  max: number
  /** Listed in ApiVersions (false only for Cohort's own APIs). */
  advertised: boolean
  handle(ctx: RequestContext, req: StructOf<Req>): Promise<StructInput<Res> | null> | StructInput<Res> | null
}

export function defineHandler<Req extends Fields, Res extends Fields>(
  api: ApiDefinition<Req, Res>,
  versions: { min: number; max: number; advertised?: boolean },
  handle: ApiHandler<Req, Res>['handle'],
): ApiHandler<Req, Res> {
  if (versions.min < api.versions.min || versions.max > api.versions.max) {
    throw new Error(
      `${api.name}: handler versions ${versions.min}-${versions.max} outside the schema's ${api.versions.min}-${api.versions.max}`,
    )
  }
  return { api, min: versions.min, max: versions.max, advertised: versions.advertised ?? true, handle }
}
