/**
 * Runs the group coordinator against the `__consumer_offsets` log: every
 * result's records are appended (one batch per result, so it lands whole),
 * made durable, then replayed into the coordinator in log order; only then
 * does the response go out. Startup rebuilds the coordinator by replaying
 * the topic, exactly as live writes are replayed.
 */
import { decodeBatch, encodeBatch } from '../../protocol/records/batch.ts'
import type { Clock } from '../../util/clock.ts'
import type { BrokerConfig } from '../config.ts'
import { type CoordinatorRecord, encodeRecord, GroupCoordinator, type HandlerResult, SystemTimer } from '../coordinator/index.ts'
import { batchesFrom, type LogManager } from '../log/index.ts'

export const OFFSETS_TOPIC = '__consumer_offsets'
const RETENTION_CHECK_MS = 600_000

export class GroupService {
  readonly coordinator: GroupCoordinator
  #logs: LogManager
  #config: BrokerConfig
  #timer: SystemTimer
  #tail: Promise<void> = Promise.resolve()
  #ready: Promise<void> | undefined
  #expiry: NodeJS.Timeout | undefined
  #log: (msg: string) => void
  #partitions: number

  constructor(logs: LogManager, config: BrokerConfig, clock: Clock, log: (msg: string) => void) {
    this.#logs = logs
    this.#config = config
    this.#log = log
    // An existing offsets topic fixes the partition count: groups hash onto it.
    this.#partitions = logs.topic(OFFSETS_TOPIC)?.partitions ?? config['offsets.topic.num.partitions']
    this.#timer = new SystemTimer((records) => {
      void this.#persist(records)
    })
    this.coordinator = new GroupCoordinator({
      clock,
      timer: this.#timer,
      config: {
        initialRebalanceDelayMs: config['group.initial.rebalance.delay.ms'],
        minSessionTimeoutMs: config['group.min.session.timeout.ms'],
        maxSessionTimeoutMs: config['group.max.session.timeout.ms'],
        maxGroupSize: config['group.max.size'],
        offsetMetadataMaxBytes: config['offset.metadata.max.bytes'],
        offsetsRetentionMs: config['offsets.retention.minutes'] * 60_000,
        offsetsTopicPartitions: this.#partitions,
      },
      topicExists: (topic, partition) => {
        const t = logs.topic(topic)
        return t !== undefined && partition >= 0 && partition < t.partitions
      },
      log,
    })
  }

  /** Replays an existing offsets topic; without one there is nothing to load and startup stays instant. */
  async load(): Promise<void> {
    if (!this.#logs.topic(OFFSETS_TOPIC)) return
    await this.#ensureReady()
  }

  #ensureReady(): Promise<void> {
    this.#ready ??= (async () => {
      if (!this.#logs.topic(OFFSETS_TOPIC)) {
        await this.#logs.createTopic(OFFSETS_TOPIC, this.#partitions, { 'cleanup.policy': 'compact', 'segment.bytes': '104857600' })
        this.#log(`created ${OFFSETS_TOPIC} with ${this.#partitions} partitions`)
      }
      let replayed = 0
      for (let p = 0; p < this.#partitions; p++) {
        const log = this.#logs.partition(OFFSETS_TOPIC, p)
        if (!log) continue
        for (const { buf, at } of batchesFrom(log, log.logStartOffset)) {
          for (const r of decodeBatch(buf, at).records) {
            if (r.offset < log.logStartOffset || r.key === null) continue
            this.coordinator.replayEncoded(r.key, r.value)
            replayed++
          }
        }
      }
      if (replayed > 0) this.#log(`loaded ${replayed} group record(s) from ${OFFSETS_TOPIC}`)
      await this.#persist(this.coordinator.onLoaded().records)
      this.#expiry = setInterval(() => void this.#persist(this.coordinator.expireOffsets().records), RETENTION_CHECK_MS)
      this.#expiry.unref()
    })()
    return this.#ready
  }

  /** Runs one coordinator operation: append its records, wait for durability, replay, then hand back its response. */
  async run<R>(op: (c: GroupCoordinator) => HandlerResult<R>): Promise<Awaited<R>> {
    await this.#ensureReady()
    const result = op(this.coordinator)
    await this.#persist(result.records)
    return await result.response
  }

  /**
   * Appends records now (so log order is call order), then replays them once durable, in the same order.
   * The rebalance history changed by the operation itself goes with its records; what replaying them
   * changes (a group turning Stable) is appended right after.
   */
  #persist(given: readonly CoordinatorRecord[]): Promise<void> {
    // History first: a group tombstone in `given` must come after the group's last entries, not before.
    const history = this.coordinator.takeHistoryRecords()
    const records = history.length === 0 ? given : [...history, ...given]
    if (records.length === 0) return this.#tail
    const byPartition = new Map<number, CoordinatorRecord[]>()
    for (const r of records) {
      const p = r.type === 'unknown' ? 0 : this.coordinator.partitionFor(r.group)
      let list = byPartition.get(p)
      if (!list) byPartition.set(p, (list = []))
      list.push(r)
    }
    const flushes: Promise<void>[] = []
    for (const [p, list] of byPartition) {
      const log = this.#logs.partition(OFFSETS_TOPIC, p)
      if (!log) throw new Error(`${OFFSETS_TOPIC}-${p} is missing`)
      const batch = encodeBatch({ records: list.map((r) => encodeRecord(r)) })
      log.append(batch)
      if (this.#config['log.flush.mode'] === 'fsync') flushes.push(log.flush())
    }
    const done = this.#tail.then(async () => {
      await Promise.all(flushes)
      for (const r of records) this.coordinator.replay(r)
      const later = this.coordinator.takeHistoryRecords()
      if (later.length > 0) void this.#persist(later)
    })
    this.#tail = done.catch((err: unknown) => {
      this.#log(`writing group records failed: ${err instanceof Error ? err.message : String(err)}`)
    })
    return done
  }

  close(): void {
    clearInterval(this.#expiry)
    this.#timer.close()
  }
}
