/**
 * Finds a response's error code without encoding or decoding anything: a walker compiled once per API from
 * its schema visits only the `errorCode` fields (top level first, then arrays and structs that contain one,
 * depth first) of the response body the handler returned. Records are never touched. Allocation-free per call.
 */
import type { AnyField, Fields } from '../../protocol/schema/dsl.ts'

/** The response's error: its top-level `errorCode` if not 0, else the first non-zero nested one (per topic, partition, group…), else 0. */
export type ErrorFinder = (body: Record<string, unknown>) => number

const NO_ERROR: ErrorFinder = () => 0

export function errorFinder(fields: Fields): ErrorFinder {
  return compile(fields) ?? NO_ERROR
}

function compile(fields: Fields): ErrorFinder | null {
  const ec = fields.errorCode
  const direct = ec !== undefined && ec.kind === 'int16'
  const names: string[] = []
  const finders: ErrorFinder[] = []
  const isArray: boolean[] = []
  for (const [name, f] of Object.entries(fields)) {
    const inner = nested(f)
    if (inner === null) continue
    names.push(name)
    finders.push(inner)
    isArray.push(f.kind === 'array')
  }
  if (!direct && names.length === 0) return null
  const n = names.length
  return (body) => {
    if (direct) {
      const code = body.errorCode
      if (typeof code === 'number' && code !== 0) return code
    }
    for (let i = 0; i < n; i++) {
      const v = body[names[i] as string]
      if (v === null || v === undefined) continue
      const find = finders[i] as ErrorFinder
      if (isArray[i]) {
        const items = v as Record<string, unknown>[]
        for (let j = 0; j < items.length; j++) {
          const code = find(items[j] as Record<string, unknown>)
          if (code !== 0) return code
        }
      } else {
        const code = find(v as Record<string, unknown>)
        if (code !== 0) return code
      }
    }
    return 0
  }
}

/** The finder for an array-of-structs or struct field that contains an errorCode somewhere; null otherwise. */
function nested(f: AnyField): ErrorFinder | null {
  if (f.kind === 'struct' && f.fields !== undefined) return compile(f.fields)
  if (f.kind === 'array' && f.item?.kind === 'struct' && f.item.fields !== undefined) return compile(f.item.fields)
  return null
}
