/**
 * The broker under test, in its own process: started by broker-proc.ts with
 * `node [--cpu-prof …] --import tsx bench/lib/broker-child.ts <json config>`.
 * Talks to the parent over IPC: sends {ready, bootstrap}; answers {cpu} with
 * its process.cpuUsage(); on {stop} closes the broker and exits normally, so
 * that --cpu-prof writes its profile.
 */
import type { BrokerConfig } from '../../src/broker/config.ts'

// Profiling runs load a tsc-compiled copy (COHORT_BENCH_BROKER_MODULE), so the profile has real line numbers.
const { Broker } = (await import(
  process.env.COHORT_BENCH_BROKER_MODULE ?? '../../src/broker/broker.ts'
)) as typeof import('../../src/broker/broker.ts')

type Msg = { type: 'cpu'; id: number } | { type: 'stop' }

const config = JSON.parse(process.argv[2] ?? '{}') as Partial<BrokerConfig>
const broker = await Broker.start({ config: { port: 0, ...config }, log: () => {} })
const send = (m: unknown) => process.send?.(m)

process.on('message', (m: Msg) => {
  if (m.type === 'cpu') {
    const u = process.cpuUsage()
    send({
      type: 'cpu',
      id: m.id,
      user: u.user,
      system: u.system,
      wall: Number(process.hrtime.bigint() / 1000n),
      rss: process.memoryUsage.rss(),
    })
  } else if (m.type === 'stop') {
    void broker.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
})
process.on('disconnect', () => {
  void broker.close().finally(() => process.exit(0))
})
send({ type: 'ready', bootstrap: broker.bootstrap })
