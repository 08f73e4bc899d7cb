/** Starts Cohort's broker for tests: in-process (fast) or as a child process (for kill -9). */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Broker } from '../../src/broker/broker.ts'
import type { BrokerConfig } from '../../src/broker/config.ts'

export function tempDir(prefix = 'cohort-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export interface TestBroker {
  broker: Broker
  bootstrap: string
  dataDir: string
  logs: string[]
  stop(): Promise<void>
}

export async function startBroker(config: Partial<BrokerConfig> = {}): Promise<TestBroker> {
  const dataDir = config['log.dirs'] ?? tempDir()
  const logs: string[] = []
  const broker = await Broker.start({
    config: { port: 0, 'log.dirs': dataDir, 'group.initial.rebalance.delay.ms': 0, ...config },
    log: (m) => logs.push(m),
  })
  return {
    broker,
    bootstrap: broker.bootstrap,
    dataDir,
    logs,
    stop: async () => {
      await broker.close()
      if (!config['log.dirs']) rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

const BIN = resolve(import.meta.dirname, '../../bin/cohort.js')

export interface ChildBroker {
  child: ChildProcess
  bootstrap: string
  stderr: () => string
  kill(signal?: NodeJS.Signals): Promise<number | null>
}

/** Runs `cohort broker` in its own process and waits for its ready line. */
export async function spawnBroker(dataDir: string, args: string[] = [], port = 0): Promise<ChildBroker> {
  const child = spawn(
    process.execPath,
    [BIN, 'broker', '--port', String(port), '--data-dir', dataDir, '--set', 'group.initial.rebalance.delay.ms=0', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let err = ''
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString()
  })
  const bootstrap = await new Promise<string>((res, rej) => {
    let out = ''
    const timer = setTimeout(() => rej(new Error(`broker did not start: ${err}`)), 15000)
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /listening on (\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        res(m[1] as string)
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      rej(new Error(`broker exited with ${code}: ${err}`))
    })
  })
  return {
    child,
    bootstrap,
    stderr: () => err,
    kill: (signal = 'SIGKILL') =>
      new Promise((res) => {
        if (child.exitCode !== null) return res(child.exitCode)
        child.once('exit', (code) => res(code))
        child.kill(signal)
      }),
  }
}
