/** What the numbers were measured on. */
import { execFileSync } from 'node:child_process'
import os from 'node:os'

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return '?'
  }
}

export interface MachineInfo {
  date: string
  cpuModel: string
  nproc: string
  memory: string
  disk: string
  kernel: string
  node: string
}

export function machineInfo(dataDir: string): MachineInfo {
  const model = run('lscpu', [])
    .split('\n')
    .find((l) => l.startsWith('Model name:'))
  const df = run('df', ['-h', dataDir]).split('\n')[1]?.trim().split(/\s+/) ?? []
  const dev = df[0] ?? '?'
  const fstype = run('findmnt', ['-n', '-o', 'FSTYPE', '--target', dataDir])
  return {
    date: new Date().toISOString(),
    cpuModel: model ? model.slice('Model name:'.length).trim() : (os.cpus()[0]?.model ?? '?'),
    nproc: run('nproc', []),
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    disk: `${dev} ${fstype} ${df[1] ?? '?'} (${df[3] ?? '?'} free) mounted on ${df[5] ?? '?'}`,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
  }
}
