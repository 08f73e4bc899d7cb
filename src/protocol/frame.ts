/**
 * Request and response framing: the int32 size prefix and the headers
 * (request v0–v2, response v0–v1). The body codecs come from the API
 * definitions; the header version follows the API's flexible threshold.
 */
import { Reader } from './primitives/reader.ts'
import { Writer } from './primitives/writer.ts'
import { decodeStruct, encodeStruct } from './schema/codec.ts'
import type { ApiDefinition, Fields, StructInput, StructOf } from './schema/dsl.ts'

export interface RequestHeader {
  apiKey: number
  apiVersion: number
  correlationId: number
  clientId: string | null
}

/** Reads api key, version and correlation id, which sit at the same place in every header version. */
export function peekRequestHeader(frame: Buffer): { apiKey: number; apiVersion: number; correlationId: number } | null {
  if (frame.length < 8) return null
  return { apiKey: frame.readInt16BE(0), apiVersion: frame.readInt16BE(2), correlationId: frame.readInt32BE(4) }
}

/** Reads the header in the version `headerVersion`, leaving the reader at the body. */
export function readRequestHeader(r: Reader, headerVersion: number): RequestHeader {
  const apiKey = r.int16()
  const apiVersion = r.int16()
  const correlationId = r.int32()
  let clientId: string | null = null
  if (headerVersion >= 1) {
    // client_id stays an int16-length string even in header v2.
    const n = r.int16()
    clientId = n < 0 ? null : r.utf8(n)
  }
  if (headerVersion >= 2) skipTaggedFields(r)
  return { apiKey, apiVersion, correlationId, clientId }
}

export function skipTaggedFields(r: Reader): void {
  const count = r.uvarint()
  for (let i = 0; i < count; i++) {
    r.uvarint()
    r.skip(r.uvarint())
  }
}

function sizePrefixed(w: Writer): Buffer[] {
  const size = Buffer.allocUnsafe(4)
  size.writeInt32BE(w.length, 0)
  return [size, ...w.chunks()]
}

/** Encodes a whole request frame (size prefix included) as chunks for writev. */
export function encodeRequest<Req extends Fields, Res extends Fields>(
  api: ApiDefinition<Req, Res>,
  version: number,
  correlationId: number,
  clientId: string | null,
  body: StructInput<Req>,
): Buffer[] {
  const w = new Writer(128)
  const hv = api.requestHeaderVersion(version)
  w.int16(api.key).int16(version).int32(correlationId)
  if (clientId === null) w.int16(-1)
  else w.int16(Buffer.byteLength(clientId)).utf8(clientId)
  if (hv >= 2) w.uvarint(0)
  encodeStruct(w, api.request, version, api.isFlexible(version), body)
  return sizePrefixed(w)
}

/** Decodes a request body that follows a header already read. */
export function decodeRequestBody<Req extends Fields, Res extends Fields>(
  api: ApiDefinition<Req, Res>,
  version: number,
  r: Reader,
): StructOf<Req> {
  return decodeStruct(r, api.request, version, api.isFlexible(version))
}

/** Encodes a whole response frame (size prefix included) as chunks for writev. */
export function encodeResponse<Req extends Fields, Res extends Fields>(
  api: ApiDefinition<Req, Res>,
  version: number,
  correlationId: number,
  body: StructInput<Res>,
): Buffer[] {
  const w = new Writer(256)
  w.int32(correlationId)
  if (api.responseHeaderVersion(version) >= 1) w.uvarint(0)
  encodeStruct(w, api.response, version, api.isFlexible(version), body)
  return sizePrefixed(w)
}

/** Decodes a response frame (without its size prefix). */
export function decodeResponse<Req extends Fields, Res extends Fields>(
  api: ApiDefinition<Req, Res>,
  version: number,
  frame: Buffer,
): { correlationId: number; body: StructOf<Res> } {
  const r = new Reader(frame)
  const correlationId = r.int32()
  if (api.responseHeaderVersion(version) >= 1) skipTaggedFields(r)
  const body = decodeStruct(r, api.response, version, api.isFlexible(version))
  return { correlationId, body }
}
