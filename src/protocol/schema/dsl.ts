/**
 * The declarative form of a Kafka API: one definition per API key, with each
 * field's type and the versions it exists in, nullable in and tagged in.
 * `codec.ts` derives the encoder and decoder for every version from it, so no
 * version has a hand-written encoder.
 *
 * Field facts (names, types, version ranges) follow Kafka's JSON message
 * definitions; field names are camelCase forms of Kafka's names.
 */

export interface VersionRange {
  readonly min: number
  readonly max: number
}

export const NO_VERSIONS: VersionRange = { min: 1, max: 0 }

/** Parses Kafka's version notation: "3+", "0-4", "5", "none". */
export function range(s: string): VersionRange {
  if (s === 'none') return NO_VERSIONS
  if (s.endsWith('+')) return { min: Number(s.slice(0, -1)), max: Number.POSITIVE_INFINITY }
  const dash = s.indexOf('-')
  if (dash >= 0) return { min: Number(s.slice(0, dash)), max: Number(s.slice(dash + 1)) }
  const n = Number(s)
  return { min: n, max: n }
}

export function inRange(r: VersionRange, v: number): boolean {
  return v >= r.min && v <= r.max
}

export type Kind =
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float64'
  | 'bool'
  | 'string'
  | 'bytes'
  | 'records'
  | 'uuid'
  | 'array'
  | 'struct'

// biome-ignore lint/suspicious/noExplicitAny: internal constraint for heterogeneous field maps
export type AnyField = FieldSpec<any, any>
export type Fields = Readonly<Record<string, AnyField>>

/** A field's description. `T` is its decoded type, `I` what an encoder accepts. */
export class FieldSpec<T, I = T> {
  declare readonly __type: T
  declare readonly __input: I

  constructor(
    readonly kind: Kind,
    readonly versions: VersionRange = { min: 0, max: Number.POSITIVE_INFINITY },
    readonly nullableVersions: VersionRange = NO_VERSIONS,
    readonly tag: number | undefined = undefined,
    readonly taggedVersions: VersionRange = NO_VERSIONS,
    readonly defaultValue: unknown = undefined,
    readonly item: AnyField | undefined = undefined,
    readonly fields: Fields | undefined = undefined,
  ) {}

  #with(p: Partial<Record<keyof FieldSpec<T, I>, unknown>>): FieldSpec<T, I> {
    return new FieldSpec<T, I>(
      this.kind,
      (p.versions as VersionRange) ?? this.versions,
      (p.nullableVersions as VersionRange) ?? this.nullableVersions,
      'tag' in p ? (p.tag as number) : this.tag,
      (p.taggedVersions as VersionRange) ?? this.taggedVersions,
      'defaultValue' in p ? p.defaultValue : this.defaultValue,
      this.item,
      this.fields,
    )
  }

  /** The versions this field exists in, e.g. `.v('3+')`. */
  v(versions: string): FieldSpec<T, I> {
    return this.#with({ versions: range(versions) })
  }

  /** The versions in which the field may be null. */
  nullable(versions = '0+'): FieldSpec<T | null, I | null> {
    return this.#with({ nullableVersions: range(versions) }) as unknown as FieldSpec<T | null, I | null>
  }

  /** A tagged field (flexible versions only): tag number and the versions it is tagged in. */
  tagged(tag: number, versions: string): FieldSpec<T, I> {
    return this.#with({ tag, taggedVersions: range(versions), versions: range(versions) })
  }

  default(value: T): FieldSpec<T, I> {
    return this.#with({ defaultValue: value })
  }
}

export type TypeOf<F> = F extends FieldSpec<infer T, infer _I> ? T : never
export type InputOf<F> = F extends FieldSpec<infer _T, infer I> ? I : never

/** Decoded struct: every field present (absent-in-version fields hold their default). */
export type StructOf<F extends Fields> = { -readonly [K in keyof F]: TypeOf<F[K]> }
/** Struct accepted by the encoder: any field may be left out and takes its default. */
export type StructInput<F extends Fields> = { -readonly [K in keyof F]?: InputOf<F[K]> }

function scalar<T>(kind: Kind): FieldSpec<T> {
  return new FieldSpec<T>(kind)
}

function struct<F extends Fields>(fields: F): FieldSpec<StructOf<F>, StructInput<F>> {
  return new FieldSpec<StructOf<F>, StructInput<F>>('struct', undefined, undefined, undefined, undefined, undefined, undefined, fields)
}

function array<T, I>(item: FieldSpec<T, I>): FieldSpec<T[], I[]>
function array<F extends Fields>(fields: F): FieldSpec<StructOf<F>[], StructInput<F>[]>
function array(item: AnyField | Fields): AnyField {
  const it = item instanceof FieldSpec ? item : struct(item as Fields)
  return new FieldSpec('array', undefined, undefined, undefined, undefined, undefined, it)
}

/** Field type constructors. int64 decodes to bigint; uuid to Kafka's base64url text form. */
export const t = {
  int8: scalar<number>('int8'),
  int16: scalar<number>('int16'),
  uint16: scalar<number>('uint16'),
  int32: scalar<number>('int32'),
  uint32: scalar<number>('uint32'),
  int64: scalar<bigint>('int64'),
  float64: scalar<number>('float64'),
  bool: scalar<boolean>('bool'),
  string: scalar<string>('string'),
  bytes: scalar<Buffer>('bytes'),
  /** A RecordBatch set: bytes on the wire, never decoded by the codec. */
  records: new FieldSpec<Buffer | null>('records', undefined, { min: 0, max: Number.POSITIVE_INFINITY }),
  uuid: scalar<string>('uuid'),
  array,
  struct,
} as const

export interface ApiShape<Req extends Fields, Res extends Fields> {
  readonly key: number
  readonly name: string
  /** Versions this codebase can encode and decode. */
  readonly versions: VersionRange
  /** First flexible (KIP-482) version; Infinity when none. */
  readonly flexibleFrom: number
  readonly request: Req
  readonly response: Res
}

export interface ApiDefinition<Req extends Fields = Fields, Res extends Fields = Fields> extends ApiShape<Req, Res> {
  isFlexible(version: number): boolean
  /** Request header version used with this API version. */
  requestHeaderVersion(version: number): number
  /** Response header version used with this API version. */
  responseHeaderVersion(version: number): number
}

export type RequestOf<A> = A extends ApiDefinition<infer Req, infer _Res> ? StructOf<Req> : never
export type ResponseOf<A> = A extends ApiDefinition<infer _Req, infer Res> ? StructOf<Res> : never
export type RequestInput<A> = A extends ApiDefinition<infer Req, infer _Res> ? StructInput<Req> : never
export type ResponseInput<A> = A extends ApiDefinition<infer _Req, infer Res> ? StructInput<Res> : never

export function defineApi<Req extends Fields, Res extends Fields>(def: {
  key: number
  name: string
  versions: string
  flexible: string
  request: Req
  response: Res
}): ApiDefinition<Req, Res> {
  const flexibleFrom = def.flexible === 'none' ? Number.POSITIVE_INFINITY : range(def.flexible).min
  const isFlexible = (v: number) => v >= flexibleFrom
  return {
    key: def.key,
    name: def.name,
    versions: range(def.versions),
    flexibleFrom,
    request: def.request,
    response: def.response,
    isFlexible,
    requestHeaderVersion: (v) => (isFlexible(v) ? 2 : 1),
    // ApiVersions answers with header v0 at every version so that a client can read it before it knows the broker's versions.
    responseHeaderVersion: (v) => (def.key === 18 ? 0 : isFlexible(v) ? 1 : 0),
  }
}
