/** `cohort consume`: print records in a kcat-style format, from chosen partitions (group consumption comes with the client's group support). */
import type { Command } from 'commander'
import { Admin } from '../admin/index.ts'
import { SimpleConsumer } from '../client/index.ts'
import { parseIntOption, withBootstrap } from './common.ts'
import { compileFormat } from './format.ts'

interface ConsumeFlags {
  bootstrapServer: string
  topic: string
  partition?: string
  fromBeginning?: boolean
  maxMessages?: string
  format: string
  exitAtEnd?: boolean
}

export function registerConsume(program: Command): void {
  withBootstrap(program.command('consume'))
    .description('print records from a topic')
    .requiredOption('--topic <topic>', 'topic to read')
    .option('--partition <p>', 'read only this partition (default: all)')
    .option('--from-beginning', 'start at the earliest offset (default: the end)')
    .option('--max-messages <n>', 'stop after N records')
    .option('--format <fmt>', 'kcat-style format: %t %p %o %k %v %T %h %K %S, \\n \\t escapes', '%v\\n')
    .option('-e, --exit-at-end', 'stop when every partition is read to its end')
    .action(async (o: ConsumeFlags) => {
      const format = compileFormat(o.format)
      const max = parseIntOption('--max-messages', o.maxMessages, 1)
      const only = parseIntOption('--partition', o.partition, 0)
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
          if (!process.stdout.write(format(r))) await new Promise((res) => process.stdout.once('drain', res))
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
