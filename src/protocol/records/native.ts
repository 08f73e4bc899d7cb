/**
 * The native compression libraries, loaded on first use: most runs never
 * touch some codecs, and loading all three costs ~130 ms of start-up.
 */
import { createRequire } from 'node:module'

type Lz4 = typeof import('lz4-napi')
type Snappy = typeof import('snappy')
type ZstdBinding = typeof import('zstd-napi/binding.js')

const require = createRequire(import.meta.url)
let lz4Mod: Lz4 | undefined
let snappyMod: Snappy | undefined
let zstdMod: ZstdBinding | undefined

export function lz4(): Lz4 {
  lz4Mod ??= require('lz4-napi') as Lz4
  return lz4Mod
}

export function snappy(): Snappy {
  snappyMod ??= require('snappy') as Snappy
  return snappyMod
}

export function zstdBinding(): ZstdBinding {
  zstdMod ??= require('zstd-napi/binding.js') as ZstdBinding
  return zstdMod
}
