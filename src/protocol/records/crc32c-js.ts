/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) in pure JS, slicing-by-8.
 *
 * Only the fallback for when `@node-rs/crc32` cannot load (see crc32c.ts and
 * docs/benchmarks/crc32c.md: the native one is an order of magnitude faster on
 * batch-sized input). Kept exported so the benchmark and the tests can compare both.
 */
const POLY = 0x82f63b78

/** Eight 256-entry tables in one array: table k at [k*256, k*256+256). One typed array keeps V8 on a single element kind. */
const T = new Int32Array(8 * 256)
for (let n = 0; n < 256; n++) {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1
  T[n] = c
}
for (let n = 0; n < 256; n++) {
  let c = T[n] as number
  for (let k = 1; k < 8; k++) {
    c = (T[c & 0xff] as number) ^ (c >>> 8)
    T[k * 256 + n] = c
  }
}

/**
 * `initial` is a previous result, so `crc32cJs(b, crc32cJs(a))` equals `crc32cJs(a ++ b)`
 * (the same chaining contract as `@node-rs/crc32`).
 */
export function crc32cJs(buf: Uint8Array, initial = 0): number {
  let crc = ~initial
  let i = 0
  const n = buf.length
  const end8 = n - (n & 7)
  while (i < end8) {
    const lo = crc ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24))
    crc =
      T[1792 + (lo & 0xff)]! ^
      T[1536 + ((lo >>> 8) & 0xff)]! ^
      T[1280 + ((lo >>> 16) & 0xff)]! ^
      T[1024 + (lo >>> 24)]! ^
      T[768 + buf[i + 4]!]! ^
      T[512 + buf[i + 5]!]! ^
      T[256 + buf[i + 6]!]! ^
      T[buf[i + 7]!]!
    i += 8
  }
  while (i < n) crc = T[(crc ^ buf[i++]!) & 0xff]! ^ (crc >>> 8)
  return ~crc >>> 0
}
