/**
 * `cohort groups`: kafka-consumer-groups.sh's options, output and messages
 * (see src/cli/groups/ and docs/groups.md). The arguments are handed to
 * groups/run.ts untouched: Kafka's tool has its own option rules (joptsimple:
 * abbreviations, optional values, its error messages), so commander only
 * routes them here.
 */
import type { Command } from 'commander'
import type { Admin } from '../admin/admin.ts'
import { VERSION } from '../broker/broker.ts'
import { ErrorCode } from '../protocol/errors.ts'
import type { GroupHistory } from './groups/history.ts'
import { runGroups } from './groups/run.ts'

/** The broker's rebalance history (Cohort's DescribeRebalanceHistory) in the formatter's shape. */
async function history(admin: Admin, groupIds: readonly string[]): Promise<GroupHistory[]> {
  const found = await admin.describeRebalanceHistory(groupIds)
  return [...found.values()].map((h) => ({
    groupId: h.groupId,
    error:
      h.error === null
        ? null
        : h.error.code === ErrorCode.GROUP_ID_NOT_FOUND
          ? `Consumer group '${h.groupId}' does not exist.`
          : h.error.message,
    entries: h.rebalances.map((r) => ({
      generation: r.generation,
      trigger: r.trigger,
      reason: r.reason,
      startedAt: r.startedAt,
      durationMs: r.durationMs,
      maxWaitMs: r.maxWaitMs,
      membersBefore: r.members.filter((m) => m.inPreviousGeneration).map((m) => m.memberId),
      membersAfter: r.members.filter((m) => m.inNewGeneration).map((m) => m.memberId),
      partitionsMoved: r.partitionsMoved,
      members: r.members.map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        waitMs: m.waitMs,
        revoked: m.revoked,
        assigned: m.assigned,
      })),
    })),
  }))
}

export function registerGroups(program: Command): void {
  program
    .command('groups')
    .description('list, describe, reset offsets of and delete consumer groups (kafka-consumer-groups.sh; `cohort groups --help`)')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[args...]')
    .action(async (_args: string[], _opts: unknown, cmd: Command) => {
      process.exitCode = await runGroups(
        cmd.args,
        { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) },
        { version: VERSION, history },
      )
    })
}
