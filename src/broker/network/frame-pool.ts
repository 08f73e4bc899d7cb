/**
 * The broker's reused buffers: request frames of Produce (see
 * `ConnectionHandler.reusesFrame`) and the records Fetch responses read.
 */
import { BufferPool } from '../../util/buffer-pool.ts'

/** A pool for produce frames or fetch reads: up to `maxFree` idle buffers of up to 16 MiB. */
export function framePool(maxFree = 8): BufferPool {
  return new BufferPool({ maxFree, maxCapacity: 16 * 1024 * 1024, round: 256 * 1024 })
}
