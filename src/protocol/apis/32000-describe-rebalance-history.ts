import { defineApi, t } from '../schema/dsl.ts'

/** Topic-partitions, grouped by topic (the shape of a consumer-protocol assignment). */
const topicPartitions = t.array({
  topic: t.string,
  partitions: t.array(t.int32),
})

// Cohort's own API: Kafka has no equivalent. Not advertised in ApiVersions (see docs/compatibility.md), but answered.
// Times are the broker clock's milliseconds since the epoch; -1 means "did not happen" / "unknown".
export const DescribeRebalanceHistory = defineApi({
  key: 32000,
  name: 'DescribeRebalanceHistory',
  versions: '0',
  flexible: '0+',
  request: {
    groups: t.array(t.string),
  },
  response: {
    throttleTimeMs: t.int32,
    groups: t.array({
      groupId: t.string,
      /** NONE, INVALID_GROUP_ID (''), GROUP_ID_NOT_FOUND (unknown or dead group), COORDINATOR_LOAD_IN_PROGRESS. */
      errorCode: t.int16,
      errorMessage: t.string.nullable().default(null),
      /** Oldest first; at most the coordinator's history limit (50). */
      rebalances: t.array({
        /** The generation the rebalance produced. */
        generationId: t.int32,
        /** join | leave | session-timeout | subscription-change | metadata-change | static-replacement | sync-timeout */
        trigger: t.string,
        reason: t.string,
        protocolType: t.string.nullable(),
        /** The selected protocol (assignor) of the new generation; null when it is empty. */
        protocolName: t.string.nullable(),
        /** The group entered PreparingRebalance. */
        startedAtMs: t.int64,
        /** The join phase completed: the new generation was handed out. */
        joinCompletedAtMs: t.int64,
        /** The leader's assignment was stored and the group became Stable; -1 if it never did. */
        stableAtMs: t.int64,
        /** stableAtMs - startedAtMs; -1 if never Stable. */
        durationMs: t.int64,
        /** The longest member wait (waitMs) so far; -1 if no member got its assignment. */
        maxWaitMs: t.int64,
        /** Topic-partitions whose owner changed (consumer protocol only); -1 when unknown. */
        partitionsMoved: t.int32,
        /** Members of the previous generation, then members new in this one. */
        members: t.array({
          memberId: t.string,
          groupInstanceId: t.string.nullable(),
          clientId: t.string,
          clientHost: t.string,
          inPreviousGeneration: t.bool,
          inNewGeneration: t.bool,
          /** When its JoinGroup for this rebalance arrived; -1 if it sent none (left, timed out, or a static member that did not rejoin). */
          joinedAtMs: t.int64,
          /** When it had to rejoin: startedAtMs for members present then, its JoinGroup's arrival for members that joined later; -1 if not in the new generation. */
          waitStartedAtMs: t.int64,
          /** When its SyncGroup was answered with its new assignment; -1 if not (yet). */
          syncedAtMs: t.int64,
          /** syncedAtMs - waitStartedAtMs; -1 if not synced. */
          waitMs: t.int64,
          /** Partitions it owned after the last Stable generation and no longer owns; null when unknown (not the consumer protocol, undecodable, or not Stable). */
          revokedPartitions: topicPartitions.nullable(),
          /** Partitions it owns now and did not own before; null when unknown. */
          assignedPartitions: topicPartitions.nullable(),
        }),
      }),
    }),
  },
})
