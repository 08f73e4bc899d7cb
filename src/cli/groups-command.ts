/**
 * `cohort groups`: kafka-consumer-groups.sh's options, output and messages
 * (see src/cli/groups/ and docs/groups.md). The arguments are handed to
 * groups/run.ts untouched: Kafka's tool has its own option rules (joptsimple:
 * abbreviations, optional values, its error messages), so commander only
 * routes them here.
 */
import type { Command } from 'commander'
import { VERSION } from '../broker/broker.ts'
import { runGroups } from './groups/run.ts'

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
        { version: VERSION },
      )
    })
}
