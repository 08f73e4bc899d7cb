/** Kafka prints a UUID as 22 characters of URL-safe base64 without padding (Uuid.toString). */
import { randomBytes } from 'node:crypto'

export function uuidFromBytes(b: Buffer): string {
  return b.toString('base64url')
}

export function uuidToBytes(s: string): Buffer {
  const b = Buffer.from(s, 'base64url')
  if (b.length !== 16) throw new RangeError(`not a Kafka UUID: ${s}`)
  return b
}

/** A random UUID as Kafka makes them: never all zeros and never the reserved "metadata" id. */
export function randomUuid(): string {
  for (;;) {
    const b = randomBytes(16)
    b[6] = ((b[6] as number) & 0x0f) | 0x40
    b[8] = ((b[8] as number) & 0x3f) | 0x80
    const s = uuidFromBytes(b)
    if (s !== 'AAAAAAAAAAAAAAAAAAAAAA' && s !== 'AAAAAAAAAAAAAAAAAAAAAQ' && !s.startsWith('-')) return s
  }
}
