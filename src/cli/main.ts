/**
 * The `cohort` command. Each subcommand lives in its own module; this file
 * only wires them into one commander program.
 */
import { Command, CommanderError } from 'commander'
import { VERSION } from '../broker/broker.ts'
import { registerBroker } from './broker-command.ts'
import { registerConsume } from './consume-command.ts'
import { registerGroups } from './groups-command.ts'
import { registerLag } from './lag-command.ts'
import { registerProduce } from './produce-command.ts'
import { registerTopics } from './topics-command.ts'

export function program(): Command {
  const cmd = new Command('cohort')
    .description('Kafka consumer groups, done right: a Kafka-compatible broker, client and tools')
    .version(VERSION)
    .exitOverride()
  registerBroker(cmd)
  registerTopics(cmd)
  registerProduce(cmd)
  registerConsume(cmd)
  registerGroups(cmd)
  registerLag(cmd)
  return cmd
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: 'user' })
    return typeof process.exitCode === 'number' ? process.exitCode : 0
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode
    throw err
  }
}
