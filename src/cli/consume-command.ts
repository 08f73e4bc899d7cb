/** `cohort consume`: print records in a kcat-style format, from chosen partitions or as a member of a consumer group. */
import type { Command } from 'commander'
import { Admin } from '../admin/index.ts'
import { SimpleConsumer } from '../client/index.ts'
import { parseIntOption, withBootstrap } from './common.ts'
import { consumeWithGroup } from './consume-group.ts'
import { compileFormat } from './format.ts'

interface ConsumeFlags {
  bootstrapServer: string
  topic: string
  partition?: string
  fromBeginning?: boolean
  maxMessages?: string
  format: string
  exitAtEnd?: boolean
  group?: string
  assignor: string
  instanceId?: string
}

async function writeOut(s: string): Promise<void> {
  if (!process.stdout.write(s)) await new Promise((res) => process.stdout.once('drain', res))
}

export function registerConsume(program: Command): void {
  withBootstrap(program.command('consume'))
    .description('print records from a topic')
    .requiredOption('--topic <topic>', 'topic to read')
    .option('--partition <p>', 'read only this partition (default: all)')
    .option('--from-beginning', 'start at the earliest offset (default: the end)')
    .option('--max-messages <n>', 'stop after N records')
    .option('--format <fmt>', 'kcat-style format: %t %p %o %k %v %T %h %K %S, \\n \\t escapes', '%v\\n')
    .option('-e, --exit-at-end', 'stop when every partition is read to its end (without --group)')
    .option('--group <group>', 'join this consumer group: commit after each record, commit on revoke, leave on SIGTERM')
    .option('--assignor <name>', 'range, roundrobin, sticky or cooperative-sticky (with --group)', 'range')
    .option('--instance-id <id>', 'static membership: group.instance.id (with --group)')
    .action(async (o: ConsumeFlags) => {
      const format = compileFormat(o.format)
      const max = parseIntOption('--max-messages', o.maxMessages, 1)
      const only = parseIntOption('--partition', o.partition, 0)
      if (o.group !== undefined) {
        if (only !== undefined || o.exitAtEnd) throw new Error('--partition and --exit-at-end do not go with --group')
        process.exitCode = await consumeWithGroup({
          bootstrapServers: o.bootstrapServer,
          topic: o.topic,
          groupId: o.group,
          assignor: o.assignor,
          instanceId: o.instanceId,
          fromBeginning: o.fromBeginning === true,
          maxMessages: max,
          format,
          write: writeOut,
          log: (s) => process.stderr.write(`cohort consume: ${s}\n`),
        })
        return
      }
      const admin = new Admin({ bootstrapServers: o.bootstrapServer, clientId: 'cohort-cli' })
      let partitions: number[]
      try {
        const t = (await admin.describeTopics([o.topic])).get(o.topic)
        if (!t || t.error) throw new Error(t?.error?.message ?? `Topic '${o.topic}' does not exist`)
        partitions = t.partitions.map((p) => p.partition)
      } finally {
        await admin.close()
      }
      if (only !== undefined) {
        if (!partitions.includes(only)) throw new Error(`Topic '${o.topic}' has no partition ${only}`)
        partitions = [only]
      }
      const consumer = new SimpleConsumer({ bootstrapServers: o.bootstrapServer, clientId: 'cohort-cli' })
      const offset = o.fromBeginning ? 'earliest' : 'latest'
      consumer.assign(partitions.map((partition) => ({ topic: o.topic, partition, offset })))
      let stop = false
      const onSignal = () => {
        stop = true
        void consumer.close()
      }
      process.once('SIGINT', onSignal)
      process.once('SIGTERM', onSignal)
      let count = 0
      try {
        for await (const r of consumer.records({ exitAtEnd: o.exitAtEnd === true })) {
          await writeOut(format(r))
          count++
          if ((max !== undefined && count >= max) || stop) break
        }
      } finally {
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
        await consumer.close()
      }
    })
}
