/**
 * kcat-style output formats for `cohort consume --format`: %t topic,
 * %p partition, %o offset, %k key, %v value, %T timestamp (ms), %h headers
 * (k=v,…), %K key length, %S value length, %% a percent sign; \n \t \r \\
 * escapes. Null keys and values print as empty, and their lengths as -1.
 */
export interface FormattableRecord {
  topic: string
  partition: number
  offset: bigint
  timestamp: bigint
  key: Buffer | null
  value: Buffer | null
  headers: { key: string; value: Buffer | null }[]
}

type Piece = string | ((r: FormattableRecord) => string)

const FIELDS: Record<string, (r: FormattableRecord) => string> = {
  t: (r) => r.topic,
  p: (r) => String(r.partition),
  o: (r) => String(r.offset),
  k: (r) => (r.key ? r.key.toString('utf8') : ''),
  v: (r) => (r.value ? r.value.toString('utf8') : ''),
  T: (r) => String(r.timestamp),
  h: (r) => r.headers.map((h) => `${h.key}=${h.value ? h.value.toString('utf8') : ''}`).join(','),
  K: (r) => String(r.key ? r.key.length : -1),
  S: (r) => String(r.value ? r.value.length : -1),
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\' }

export function compileFormat(format: string): (r: FormattableRecord) => string {
  const pieces: Piece[] = []
  let text = ''
  for (let i = 0; i < format.length; i++) {
    const c = format[i] as string
    const next = format[i + 1]
    if (c === '\\' && next !== undefined && next in ESCAPES) {
      text += ESCAPES[next]
      i++
    } else if (c === '%' && next === '%') {
      text += '%'
      i++
    } else if (c === '%' && next !== undefined && next in FIELDS) {
      if (text) pieces.push(text)
      text = ''
      pieces.push(FIELDS[next] as (r: FormattableRecord) => string)
      i++
    } else if (c === '%') {
      throw new Error(`unknown format token %${next ?? ''} in '${format}' (known: %t %p %o %k %v %T %h %K %S %%)`)
    } else {
      text += c
    }
  }
  if (text) pieces.push(text)
  return (r) => {
    let out = ''
    for (const p of pieces) out += typeof p === 'string' ? p : p(r)
    return out
  }
}
