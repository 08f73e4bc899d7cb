/** `cohort topics`: create, list, describe, alter (add partitions) and delete topics, with kafka-topics.sh's output shapes. */
import type { Command } from 'commander'
import { Admin } from '../admin/index.ts'
import { collect, parseConfigs, parseIntOption, withBootstrap } from './common.ts'

interface Common {
  bootstrapServer: string
}

async function withAdmin<T>(opts: Common, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin({ bootstrapServers: opts.bootstrapServer, clientId: 'cohort-cli' })
  try {
    return await fn(admin)
  } finally {
    await admin.close()
  }
}

/** kafka-topics.sh reports a failed item with the broker's message; so do we. */
function failOn(error: Error | null | undefined): void {
  if (error) throw new Error(`Error while executing topic command : ${error.message}`)
}

export function registerTopics(program: Command): void {
  const topics = program.command('topics').description('manage topics')

  withBootstrap(topics.command('create <name>'))
    .description('create a topic')
    .requiredOption('--partitions <n>', 'number of partitions')
    .option('--replication-factor <n>', 'replication factor', '1')
    .option('--config <key=value>', 'a topic config, repeatable', collect, [])
    .action(async (name: string, o: Common & { partitions: string; replicationFactor: string; config: string[] }) => {
      const partitions = parseIntOption('--partitions', o.partitions, 1) as number
      const replicationFactor = parseIntOption('--replication-factor', o.replicationFactor, 1) as number
      const results = await withAdmin(o, (a) => a.createTopics([{ name, partitions, replicationFactor, configs: parseConfigs(o.config) }]))
      failOn(results.get(name)?.error)
      process.stdout.write(`Created topic ${name}.\n`)
    })

  withBootstrap(topics.command('list'))
    .description('list topics')
    .option('--exclude-internal', 'hide internal topics')
    .action(async (o: Common & { excludeInternal?: boolean }) => {
      const list = await withAdmin(o, (a) => a.listTopics({ includeInternal: !o.excludeInternal }))
      for (const t of [...list.values()].sort((a, b) => a.name.localeCompare(b.name))) {
        process.stdout.write(`${t.name}\n`)
      }
    })

  withBootstrap(topics.command('describe <name>'))
    .description('describe a topic: id, partitions, leaders, configs')
    .action(async (name: string, o: Common) => {
      await withAdmin(o, async (a) => {
        const t = (await a.describeTopics([name])).get(name)
        if (!t || t.error) throw new Error(t?.error?.message ?? `Topic '${name}' does not exist`)
        const configs = [...(await a.describeConfigs(name)).values()].filter((c) => c.source === 'topic').map((c) => `${c.name}=${c.value}`)
        const rf = t.partitions[0]?.replicas.length ?? 0
        process.stdout.write(
          `Topic: ${t.name}\tTopicId: ${t.topicId}\tPartitionCount: ${t.partitions.length}\tReplicationFactor: ${rf}\tConfigs: ${configs.join(',')}\n`,
        )
        for (const p of t.partitions) {
          process.stdout.write(
            `\tTopic: ${t.name}\tPartition: ${p.partition}\tLeader: ${p.leader}\tReplicas: ${p.replicas.join(',')}\tIsr: ${p.isr.join(',')}\n`,
          )
        }
      })
    })

  withBootstrap(topics.command('alter <name>'))
    .description('add partitions to a topic')
    .requiredOption('--partitions <n>', 'new total number of partitions')
    .action(async (name: string, o: Common & { partitions: string }) => {
      const total = parseIntOption('--partitions', o.partitions, 1) as number
      await withAdmin(o, (a) => a.createPartitions(name, total))
      process.stdout.write(`Topic ${name} now has ${total} partitions.\n`)
    })

  withBootstrap(topics.command('delete <name>'))
    .description('delete a topic')
    .action(async (name: string, o: Common) => {
      const results = await withAdmin(o, (a) => a.deleteTopics([name]))
      failOn(results.get(name)?.error)
      process.stdout.write(`Deleted topic ${name}.\n`)
    })
}
