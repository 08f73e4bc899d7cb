/**
 * Encoders and decoders derived from the declarative API definitions.
 * Each (struct, version) pair is compiled once into a list of closures and
 * cached, so the per-message cost is a walk over prepared steps.
 */
import { MalformedError, type Reader } from '../primitives/reader.ts'
import { Writer } from '../primitives/writer.ts'
import { type AnyField, type Fields, inRange, type StructInput, type StructOf } from './dsl.ts'
import { uuidFromBytes, uuidToBytes } from './uuid.ts'

type Enc = (w: Writer, v: unknown) => void
type Dec = (r: Reader) => unknown

interface Compiled {
  enc: Enc
  dec: Dec
}

const cache = new WeakMap<object, Map<number, Compiled>>()

function cached(key: object, version: number, flexible: boolean, build: () => Compiled): Compiled {
  let byVersion = cache.get(key)
  if (!byVersion) {
    byVersion = new Map()
    cache.set(key, byVersion)
  }
  const slot = version * 2 + (flexible ? 1 : 0)
  let c = byVersion.get(slot)
  if (!c) {
    c = build()
    byVersion.set(slot, c)
  }
  return c
}

/** The value a field takes when absent from a version or left out by the caller. */
export function defaultOf(f: AnyField, version: number): unknown {
  if (f.defaultValue !== undefined) return f.defaultValue
  switch (f.kind) {
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'float64':
      return 0
    case 'int64':
      return 0n
    case 'bool':
      return false
    case 'string':
      return ''
    case 'bytes':
      return Buffer.alloc(0)
    case 'records':
      return null
    case 'uuid':
      return ZERO_UUID
    case 'array':
      return []
    case 'struct':
      return defaultStruct(f.fields as Fields, version)
  }
}

export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'

export function defaultStruct<F extends Fields>(fields: F, version: number): StructOf<F> {
  const o: Record<string, unknown> = {}
  for (const [name, f] of Object.entries(fields)) o[name] = defaultOf(f, version)
  return o as StructOf<F>
}

function nullErr(kind: string): never {
  throw new MalformedError(`non-nullable ${kind} field is null`)
}

function compileField(f: AnyField, version: number, flexible: boolean): Compiled {
  const nullable = inRange(f.nullableVersions, version)
  switch (f.kind) {
    case 'int8':
      return { enc: (w, v) => w.int8(v as number), dec: (r) => r.int8() }
    case 'int16':
      return { enc: (w, v) => w.int16(v as number), dec: (r) => r.int16() }
    case 'uint16':
      return { enc: (w, v) => w.uint16(v as number), dec: (r) => r.uint16() }
    case 'int32':
      return { enc: (w, v) => w.int32(v as number), dec: (r) => r.int32() }
    case 'uint32':
      return { enc: (w, v) => w.uint32(v as number), dec: (r) => r.uint32() }
    case 'int64':
      return { enc: (w, v) => w.int64(BigInt(v as bigint)), dec: (r) => r.int64() }
    case 'float64':
      return { enc: (w, v) => w.float64(v as number), dec: (r) => r.float64() }
    case 'bool':
      return { enc: (w, v) => w.bool(v as boolean), dec: (r) => r.bool() }
    case 'uuid':
      return { enc: (w, v) => w.uuid(uuidToBytes(v as string)), dec: (r) => uuidFromBytes(r.uuid()) }
    case 'string':
      return flexible ? compactString(nullable) : classicString(nullable)
    case 'bytes':
    case 'records':
      return flexible ? compactBytes(nullable || f.kind === 'records') : classicBytes(nullable || f.kind === 'records')
    case 'array': {
      const item = compileField(f.item as AnyField, version, flexible)
      return flexible ? compactArray(item, nullable) : classicArray(item, nullable)
    }
    case 'struct': {
      const inner = compileStruct(f.fields as Fields, version, flexible)
      return nullable ? nullableStruct(inner) : inner
    }
  }
}

/** A nullable struct carries an int8 presence marker: -1 for null, 1 for present (Kafka's generated code does the same). */
function nullableStruct(inner: Compiled): Compiled {
  return {
    enc: (w, v) => {
      if (v === null) {
        w.int8(-1)
        return
      }
      w.int8(1)
      inner.enc(w, v)
    },
    dec: (r) => (r.int8() < 0 ? null : inner.dec(r)),
  }
}

function classicString(nullable: boolean): Compiled {
  return {
    enc: (w, v) => {
      if (v === null || v === undefined) {
        if (!nullable) nullErr('string')
        w.int16(-1)
        return
      }
      const s = v as string
      w.int16(Buffer.byteLength(s)).utf8(s)
    },
    dec: (r) => {
      const n = r.int16()
      if (n < 0) return nullable ? null : nullErr('string')
      return r.utf8(n)
    },
  }
}

function compactString(nullable: boolean): Compiled {
  return {
    enc: (w, v) => {
      if (v === null || v === undefined) {
        if (!nullable) nullErr('string')
        w.uvarint(0)
        return
      }
      const s = v as string
      w.uvarint(Buffer.byteLength(s) + 1).utf8(s)
    },
    dec: (r) => {
      const n = r.uvarint()
      if (n === 0) return nullable ? null : nullErr('string')
      return r.utf8(n - 1)
    },
  }
}

function classicBytes(nullable: boolean): Compiled {
  return {
    enc: (w, v) => {
      if (v === null || v === undefined) {
        if (!nullable) nullErr('bytes')
        w.int32(-1)
        return
      }
      const b = v as Buffer
      w.int32(b.length).raw(b)
    },
    dec: (r) => {
      const n = r.int32()
      if (n < 0) return nullable ? null : nullErr('bytes')
      return r.bytes(n)
    },
  }
}

function compactBytes(nullable: boolean): Compiled {
  return {
    enc: (w, v) => {
      if (v === null || v === undefined) {
        if (!nullable) nullErr('bytes')
        w.uvarint(0)
        return
      }
      const b = v as Buffer
      w.uvarint(b.length + 1).raw(b)
    },
    dec: (r) => {
      const n = r.uvarint()
      if (n === 0) return nullable ? null : nullErr('bytes')
      return r.bytes(n - 1)
    },
  }
}

function checkCount(r: Reader, n: number): void {
  // Every element takes at least one byte; a larger count is a lie we refuse before allocating.
  if (n > r.remaining) throw new MalformedError(`array length ${n} exceeds the ${r.remaining} bytes left`)
}

function classicArray(item: Compiled, nullable: boolean): Compiled {
  return {
    enc: (w, v) => {
      if (v === null || v === undefined) {
        if (!nullable) nullErr('array')
        w.int32(-1)
        return
      }
      const a = v as unknown[]
      w.int32(a.length)
      for (const x of a) item.enc(w, x)
    },
    dec: (r) => {
      const n = r.int32()
      if (n < 0) return nullable ? null : nullErr('array')
      checkCount(r, n)
      const out = new Array(n)
      for (let i = 0; i < n; i++) out[i] = item.dec(r)
      return out
    },
  }
}

function compactArray(item: Compiled, nullable: boolean): Compiled {
  return {
    enc: (w, v) => {
      if (v === null || v === undefined) {
        if (!nullable) nullErr('array')
        w.uvarint(0)
        return
      }
      const a = v as unknown[]
      w.uvarint(a.length + 1)
      for (const x of a) item.enc(w, x)
    },
    dec: (r) => {
      const n = r.uvarint()
      if (n === 0) return nullable ? null : nullErr('array')
      checkCount(r, n - 1)
      const out = new Array(n - 1)
      for (let i = 0; i < n - 1; i++) out[i] = item.dec(r)
      return out
    },
  }
}

interface Step {
  name: string
  field: AnyField
  codec: Compiled
}

function isDefault(v: unknown, d: unknown): boolean {
  if (v === undefined || v === d) return true
  if (Buffer.isBuffer(v) || Buffer.isBuffer(d)) return Buffer.isBuffer(v) && Buffer.isBuffer(d) && v.equals(d)
  if (Array.isArray(v) || Array.isArray(d)) {
    if (!Array.isArray(v) || !Array.isArray(d) || v.length !== d.length) return false
    return v.every((x, i) => isDefault(x, d[i]))
  }
  if (v !== null && d !== null && typeof v === 'object' && typeof d === 'object') {
    const vo = v as Record<string, unknown>
    const dobj = d as Record<string, unknown>
    return Object.keys(dobj).every((k) => isDefault(vo[k], dobj[k]))
  }
  return false
}

function compileStruct(fields: Fields, version: number, flexible: boolean): Compiled {
  return cached(fields, version, flexible, () => {
    const regular: Step[] = []
    const tagged: (Step & { tag: number })[] = []
    const absent: [string, AnyField][] = []
    for (const [name, field] of Object.entries(fields)) {
      if (!inRange(field.versions, version)) {
        absent.push([name, field])
        continue
      }
      const isTagged = flexible && field.tag !== undefined && inRange(field.taggedVersions, version)
      if (!isTagged && field.tag !== undefined && !flexible) {
        // A tagged-only field outside flexible versions does not exist on the wire.
        absent.push([name, field])
        continue
      }
      const step = { name, field, codec: compileField(field, version, flexible) }
      if (isTagged) tagged.push({ ...step, tag: field.tag as number })
      else regular.push(step)
    }
    tagged.sort((a, b) => a.tag - b.tag)
    const byTag = new Map(tagged.map((s) => [s.tag, s]))

    const enc: Enc = (w, value) => {
      const o = (value ?? {}) as Record<string, unknown>
      for (const s of regular) {
        const v = o[s.name]
        s.codec.enc(w, v === undefined ? defaultOf(s.field, version) : v)
      }
      if (!flexible) return
      const present = tagged.filter((s) => !isDefault(o[s.name], defaultOf(s.field, version)))
      w.uvarint(present.length)
      for (const s of present) {
        const inner = new Writer(64)
        s.codec.enc(inner, o[s.name])
        w.uvarint(s.tag).uvarint(inner.length)
        for (const c of inner.chunks()) w.raw(c)
      }
    }

    const dec: Dec = (r) => {
      const o: Record<string, unknown> = {}
      for (const s of regular) o[s.name] = s.codec.dec(r)
      for (const [name, f] of absent) o[name] = defaultOf(f, version)
      if (flexible) {
        for (const s of tagged) o[s.name] = defaultOf(s.field, version)
        const count = r.uvarint()
        for (let i = 0; i < count; i++) {
          const tag = r.uvarint()
          const size = r.uvarint()
          const s = byTag.get(tag)
          if (!s) {
            r.skip(size)
            continue
          }
          const end = r.offset + size
          o[s.name] = s.codec.dec(r)
          if (r.offset !== end) throw new MalformedError(`tagged field ${s.name} has size ${size} but decoded ${r.offset - end + size}`)
        }
      }
      return o
    }
    return { enc, dec }
  })
}

export function encodeStruct<F extends Fields>(w: Writer, fields: F, version: number, flexible: boolean, value: StructInput<F>): void {
  compileStruct(fields, version, flexible).enc(w, value)
}

export function decodeStruct<F extends Fields>(r: Reader, fields: F, version: number, flexible: boolean): StructOf<F> {
  return compileStruct(fields, version, flexible).dec(r) as StructOf<F>
}
