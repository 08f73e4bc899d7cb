/**
 * zstd over `zstd-napi`'s low-level zstdBinding().
 *
 * zstd-napi has no async API, and its one-shot `decompress` neither caps its
 * output (it trusts the frame's declared content size) nor notices a truncated
 * frame (it returns what it decoded so far). So decompression drives
 * ZSTD_decompressStream itself: output is capped and a frame that ends early is
 * corrupt. The async forms run on the main thread in ~256 KiB steps and yield to
 * the event loop between steps, so a large batch delays other work by one step,
 * not by the whole batch.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import type * as zstdNapiBinding from 'zstd-napi/binding.js'
import { CorruptCompressedError } from './compression-errors.ts'
import { zstdBinding } from './native.ts'

const CODEC = 4
/** Kafka's default zstd level (compression.zstd.level). */
const LEVEL = 3
const STEP = 256 * 1024

type Ctx = InstanceType<typeof zstdNapiBinding.DCtx>

function corrupt(err: unknown): CorruptCompressedError {
  if (err instanceof CorruptCompressedError) return err
  return new CorruptCompressedError(CODEC, err instanceof Error ? err.message : String(err), err)
}

function tooLarge(maxOutput: number): CorruptCompressedError {
  return new CorruptCompressedError(CODEC, `zstd output exceeds the ${maxOutput}-byte limit`)
}

let sharedC: InstanceType<typeof zstdNapiBinding.CCtx> | null = null
let sharedD: Ctx | null = null

export function zstdCompressSync(data: Buffer): Buffer {
  sharedC ??= new (zstdBinding().CCtx)()
  const out = Buffer.allocUnsafe(zstdBinding().compressBound(data.length))
  // ZSTD_compress writes the content size into the frame header, which lets readers size their output exactly.
  const n = sharedC.compress(out, data, LEVEL)
  return out.subarray(0, n)
}

export async function zstdCompress(data: Buffer): Promise<Buffer> {
  if (data.length <= STEP) return zstdCompressSync(data)
  const cctx = new (zstdBinding().CCtx)()
  cctx.setParameter(zstdBinding().CParameter.compressionLevel, LEVEL)
  cctx.setPledgedSrcSize(data.length)
  const parts: Buffer[] = []
  let out = Buffer.allocUnsafe(zstdBinding().compressBound(STEP))
  let input = data
  for (;;) {
    const last = input.length <= STEP
    let slice = input.subarray(0, STEP)
    const directive = last ? zstdBinding().EndDirective.end : zstdBinding().EndDirective.continue
    for (;;) {
      const [remaining, produced, consumed] = cctx.compressStream2(out, slice, directive)
      if (produced > 0) {
        parts.push(out.subarray(0, produced))
        out = Buffer.allocUnsafe(out.length)
      }
      slice = slice.subarray(consumed)
      if (slice.length === 0 && (!last || remaining === 0)) break
    }
    if (last) return Buffer.concat(parts)
    input = input.subarray(STEP)
    await yieldToLoop()
  }
}

/**
 * One decode step: as much as fits in `room` bytes of output.
 * Returns true when every frame in the input has been fully decoded.
 */
function step(dctx: Ctx, state: { input: Buffer; parts: Buffer[]; total: number }, room: number, maxOutput: number): boolean {
  const out = Buffer.allocUnsafe(room)
  const [hint, produced, consumed] = dctx.decompressStream(out, state.input)
  state.input = state.input.subarray(consumed)
  if (produced > 0) {
    state.total += produced
    if (state.total > maxOutput) throw tooLarge(maxOutput)
    state.parts.push(out.subarray(0, produced))
  }
  if (hint === 0 && state.input.length === 0) return true
  // Input used up, output not full, frame not finished: the frame was cut short.
  if (state.input.length === 0 && produced < room) throw new CorruptCompressedError(CODEC, 'truncated zstd frame')
  if (produced === 0 && consumed === 0) throw new CorruptCompressedError(CODEC, 'zstd made no progress')
  return false
}

function initialRoom(data: Buffer, maxOutput: number): number {
  // A declared content size is only a hint: it is capped, and the stream loop verifies it.
  let size: number | null = null
  try {
    size = zstdBinding().getFrameContentSize(data)
  } catch {
    size = null
  }
  if (size !== null && size > maxOutput) throw tooLarge(maxOutput)
  return Math.max(1, Math.min(size ?? Math.max(STEP, data.length * 4), maxOutput, 64 * 1024 * 1024))
}

export function zstdDecompressSync(data: Buffer, maxOutput: number): Buffer {
  if (data.length === 0) throw new CorruptCompressedError(CODEC, 'empty zstd input')
  sharedD ??= new (zstdBinding().DCtx)()
  const dctx = sharedD
  const state = { input: data, parts: [] as Buffer[], total: 0 }
  try {
    let room = initialRoom(data, maxOutput)
    while (!step(dctx, state, room, maxOutput)) room = STEP
  } catch (err) {
    dctx.reset(zstdBinding().ResetDirective.sessionOnly)
    throw corrupt(err)
  }
  return state.parts.length === 1 ? (state.parts[0] as Buffer) : Buffer.concat(state.parts, state.total)
}

export async function zstdDecompress(data: Buffer, maxOutput: number): Promise<Buffer> {
  if (data.length <= STEP / 4) return zstdDecompressSync(data, maxOutput)
  const dctx = new (zstdBinding().DCtx)()
  const state = { input: data, parts: [] as Buffer[], total: 0 }
  try {
    while (!step(dctx, state, STEP, maxOutput)) await yieldToLoop()
  } catch (err) {
    throw corrupt(err)
  }
  return state.parts.length === 1 ? (state.parts[0] as Buffer) : Buffer.concat(state.parts, state.total)
}
