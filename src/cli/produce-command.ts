/** `cohort produce`: one record per stdin line, optionally split into key and value. */
import { createInterface } from 'node:readline'
import type { Command } from 'commander'
import { Producer } from '../client/index.ts'
import { parseIntOption, withBootstrap } from './common.ts'

interface ProduceFlags {
  bootstrapServer: string
  topic: string
  keySeparator?: string
  partition?: string
  acks: string
  compression: string
}

function parseAcks(s: string): 'all' | 1 | 0 {
  if (s === 'all' || s === '-1') return 'all'
  if (s === '1') return 1
  if (s === '0') return 0
  throw new Error(`--acks must be all, 1 or 0, got '${s}'`)
}

export function registerProduce(program: Command): void {
  withBootstrap(program.command('produce'))
    .description("produce stdin lines as records (keys hash with the Java client's murmur2)")
    .requiredOption('--topic <topic>', 'topic to produce to')
    .option('--key-separator <sep>', 'split each line at the first SEP into key and value')
    .option('--partition <p>', 'send every record to this partition')
    .option('--acks <acks>', 'all, 1 or 0', 'all')
    .option('--compression <codec>', 'none, gzip, snappy, lz4 or zstd', 'none')
    .action(async (o: ProduceFlags) => {
      const partition = parseIntOption('--partition', o.partition, 0)
      const compression = o.compression as 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
      if (!['none', 'gzip', 'snappy', 'lz4', 'zstd'].includes(compression)) throw new Error(`unknown --compression '${o.compression}'`)
      const producer = new Producer({ bootstrapServers: o.bootstrapServer, clientId: 'cohort-cli', acks: parseAcks(o.acks), compression })
      let failures = 0
      const pending = new Set<Promise<unknown>>()
      try {
        const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY })
        for await (const line of lines) {
          let key: string | null = null
          let value = line
          if (o.keySeparator !== undefined) {
            const at = line.indexOf(o.keySeparator)
            if (at >= 0) {
              key = line.slice(0, at)
              value = line.slice(at + o.keySeparator.length)
            }
          }
          const p = producer
            .send({ topic: o.topic, key, value, ...(partition !== undefined ? { partition } : {}) })
            .catch((err: unknown) => {
              failures++
              process.stderr.write(`cohort produce: ${err instanceof Error ? err.message : String(err)}\n`)
            })
          pending.add(p)
          p.finally(() => pending.delete(p))
          // Bound memory when stdin is much faster than the broker.
          if (pending.size >= 10000) await Promise.race(pending)
        }
        await producer.flush()
        await Promise.all(pending)
      } finally {
        await producer.close()
      }
      if (failures > 0) {
        process.stderr.write(`cohort produce: ${failures} record(s) failed\n`)
        process.exitCode = 1
      }
    })
}
