/**
 * One client's process in the client benchmark: started by bench/clients.ts with
 * `node --import tsx bench/lib/clients/runner.ts <json RunnerConfig>`, runs its
 * jobs in order against the broker, and reports over IPC (marks at the start and
 * end of each timed window, so the parent can sample the broker's CPU; then each
 * job's result). Each client runs in a process of its own so that it has a fresh
 * heap and event loop and no other client's work shares its CPU.
 */
import * as cohort from './cohort.ts'
import type { ChildMessage, Job, JobResult, RunnerConfig } from './common.ts'
import * as kafkajs from './kafkajs.ts'
import * as platformatic from './platformatic.ts'

const config = JSON.parse(process.argv[2] ?? '{}') as RunnerConfig
const send = (m: ChildMessage) =>
  new Promise<void>((resolve) => {
    if (!process.send) resolve()
    else process.send(m, undefined, undefined, () => resolve())
  })

async function run(job: Job, index: number): Promise<JobResult> {
  const { bootstrap, tuning, jobTimeoutMs: t } = config
  switch (config.client) {
    case 'cohort':
      if (job.kind === 'produce') return cohort.produce(bootstrap, job, index, tuning, t)
      if (job.kind === 'consume') return cohort.consume(bootstrap, job, index, t)
      return cohort.latency(bootstrap, job, t)
    case 'kafkajs':
      if (job.kind === 'produce') return kafkajs.produce(bootstrap, job, index, t)
      if (job.kind === 'consume') return kafkajs.consume(bootstrap, job, index, t)
      return kafkajs.latency(bootstrap, job, t)
    case 'platformatic':
      if (job.kind === 'produce') return platformatic.produce(bootstrap, job, index, t)
      if (job.kind === 'consume') return platformatic.consume(bootstrap, job, index, t)
      return platformatic.latency(bootstrap, job, t)
  }
}

for (const [i, job] of config.jobs.entries()) {
  try {
    await send({ type: 'result', job: i, result: await run(job, i) })
  } catch (err) {
    await send({ type: 'error', job: i, message: (err as Error).stack ?? String(err) })
  }
}
await send({ type: 'done' })
// Clients may leave timers behind (reconnects, metadata refreshes): the job is over.
process.exit(0)
