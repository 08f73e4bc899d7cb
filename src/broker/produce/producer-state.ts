/**
 * Idempotent-producer state per partition: for each producer id its epoch
 * and the last five batches' sequence ranges, as Kafka keeps them. A retry of
 * one of those batches is answered with its original offsets instead of
 * being appended twice; a gap in sequences is refused.
 */
import { ErrorCode } from '../../protocol/errors.ts'

const MAX_CACHED_BATCHES = 5
const INT32_MAX = 2147483647

export interface BatchSeq {
  firstSeq: number
  lastSeq: number
  baseOffset: bigint
  lastOffset: bigint
}

interface ProducerEntry {
  epoch: number
  batches: BatchSeq[]
}

export type SequenceVerdict =
  | { kind: 'append' }
  | { kind: 'duplicate'; baseOffset: bigint; lastOffset: bigint }
  | { kind: 'error'; errorCode: number; message: string }

function nextSeq(seq: number): number {
  return seq === INT32_MAX ? 0 : seq + 1
}

/** The last sequence of a batch whose records use `count` sequence numbers; sequences wrap at Int32.MAX. */
export function lastSequence(firstSeq: number, lastOffsetDelta: number): number {
  const last = firstSeq + lastOffsetDelta
  return last > INT32_MAX ? last - INT32_MAX - 1 : last
}

export class ProducerStates {
  #byPartition = new Map<string, Map<bigint, ProducerEntry>>()
  /** Highest epoch seen per producer id across partitions, for InitProducerId epoch bumps. */
  #epochs = new Map<bigint, number>()
  #loaded = new Set<string>()

  /** Marks a partition's state as rebuilt from its log; false when it already was. */
  markLoaded(tp: string): boolean {
    if (this.#loaded.has(tp)) return false
    this.#loaded.add(tp)
    return true
  }

  #entries(tp: string): Map<bigint, ProducerEntry> {
    let m = this.#byPartition.get(tp)
    if (!m) {
      m = new Map()
      this.#byPartition.set(tp, m)
    }
    return m
  }

  check(tp: string, producerId: bigint, epoch: number, firstSeq: number, lastSeq: number): SequenceVerdict {
    const entry = this.#byPartition.get(tp)?.get(producerId)
    if (!entry) return { kind: 'append' } // a producer this partition has not seen may start at any sequence (KIP-360)
    if (epoch < entry.epoch) {
      return {
        kind: 'error',
        errorCode: ErrorCode.INVALID_PRODUCER_EPOCH,
        message: `producer ${producerId} epoch ${epoch} is older than the current ${entry.epoch}`,
      }
    }
    if (epoch === entry.epoch) {
      for (const b of entry.batches) {
        if (b.firstSeq === firstSeq && b.lastSeq === lastSeq)
          return { kind: 'duplicate', baseOffset: b.baseOffset, lastOffset: b.lastOffset }
      }
      const last = entry.batches[entry.batches.length - 1]
      if (last && firstSeq !== nextSeq(last.lastSeq)) {
        return {
          kind: 'error',
          errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          message: `producer ${producerId} sent sequence ${firstSeq}, expected ${nextSeq(last.lastSeq)}`,
        }
      }
      return { kind: 'append' }
    }
    if (firstSeq !== 0) {
      return {
        kind: 'error',
        errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        message: `producer ${producerId} started epoch ${epoch} at sequence ${firstSeq}, expected 0`,
      }
    }
    return { kind: 'append' }
  }

  record(tp: string, producerId: bigint, epoch: number, batch: BatchSeq): void {
    const m = this.#entries(tp)
    let entry = m.get(producerId)
    if (!entry || entry.epoch !== epoch) {
      entry = { epoch, batches: [] }
      m.set(producerId, entry)
    }
    entry.batches.push(batch)
    if (entry.batches.length > MAX_CACHED_BATCHES) entry.batches.shift()
    if ((this.#epochs.get(producerId) ?? -1) < epoch) this.#epochs.set(producerId, epoch)
  }

  /** The highest epoch seen for a producer id, or undefined. */
  epochOf(producerId: bigint): number | undefined {
    return this.#epochs.get(producerId)
  }

  noteEpoch(producerId: bigint, epoch: number): void {
    if ((this.#epochs.get(producerId) ?? -1) < epoch) this.#epochs.set(producerId, epoch)
  }

  /** Forgets a partition's state (topic deleted). */
  dropPartition(tp: string): void {
    this.#byPartition.delete(tp)
    this.#loaded.delete(tp)
  }
}
