/**
 * On-CPU profile of a process with Linux `perf` (kernel included), summarised
 * by thread and by what the main thread was doing: which syscall, page faults,
 * softirq work (loopback TCP delivery), or user space (JS, V8, libc).
 *
 * The V8 profile (--cpu-prof) samples the JS thread by wall clock, so a
 * blocking pwrite shows there as time in `writeBuffer` whether the CPU works or
 * waits; perf's cpu-clock samples only on-CPU time, and sees into the kernel.
 * Start the process with --perf-basic-prof to get JS function names.
 *
 * Run alone: node --import tsx bench/lib/perf.ts perf.data [mainTid]
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { pathToFileURL } from 'node:url'

export function perfAvailable(): boolean {
  return spawnSync('perf', ['--version'], { stdio: 'ignore' }).status === 0
}

/** Starts `perf record` on `pid` for `seconds`; resolves when it has written `file`. */
export function perfRecord(pid: number, seconds: number, file: string): { done: Promise<boolean>; child: ChildProcess } {
  const child = spawn('perf', ['record', '-F', '999', '-g', '-p', String(pid), '-o', file, '--', 'sleep', String(seconds)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let err = ''
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString()
  })
  const done = new Promise<boolean>((resolve) => child.on('exit', (code) => resolve(code === 0 || /wrote/.test(err))))
  return { done, child }
}

interface Sample {
  comm: string
  tid: number
  frames: string[]
}

function* samples(text: string): Generator<Sample> {
  for (const block of text.split(/\n\s*\n/)) {
    const lines = block.split('\n').filter((l) => l.trim() !== '')
    const head = lines[0]
    if (!head) continue
    const m = /^\s*(.*?)\s+(\d+)\s*$/.exec(head)
    if (!m) continue
    const frames = lines.slice(1).map((l) => l.trim().replace(/^[0-9a-f]+\s+/, ''))
    yield { comm: m[1] as string, tid: Number(m[2]), frames }
  }
}

function syscallName(frame: string): string {
  return frame.replace(/^(__x64_sys_|__do_sys_|ksys_|__se_sys_|do_)/, '')
}

/** Which kind of thread a non-main sample ran on, from its stack. */
function threadKind(s: Sample): string {
  if (s.frames.some((f) => /^uv__(threadpool|work|fs_)|^worker$|uv__fs_work/.test(f)))
    return 'libuv threadpool (fs work: fdatasync, async fs)'
  if (s.frames.some((f) => /v8::internal::|v8::platform|DefaultWorker|Builtins_/.test(f)))
    return 'V8 helper threads (concurrent GC, compiler)'
  return `other thread (${s.comm})`
}

/** What a main-thread sample was doing, from its stack (leaf first). */
function category(frames: string[]): string {
  const has = (re: RegExp) => frames.some((f) => re.test(f))
  if (has(/^net_rx_action|^__netif_receive_skb|^tcp_v4_rcv/)) return 'kernel: TCP receive processing (loopback softirq)'
  const fault = frames.indexOf('asm_exc_page_fault')
  if (fault >= 0) {
    const sys = frames.indexOf('do_syscall_64')
    const by =
      sys > fault
        ? `the kernel copying into a fresh buffer in syscall ${syscallName(frames[sys - 1] as string)}`
        : (frames[fault + 1] ?? '?').replace(/ file:.*| node:.*/, '').replace(/_avx.*|_erms/, '')
    return `page faults (first touch of fresh memory), in ${by}`
  }
  if (has(/^handle_softirqs|^__do_softirq|^asm_sysvec|^asm_common_interrupt/)) return 'kernel: interrupts / softirq (timers, RCU)'
  const sys = frames.indexOf('do_syscall_64')
  if (sys > 0) return `syscall ${syscallName(frames[sys - 1] as string)}`
  const leaf = frames[0] ?? '?'
  if (leaf.startsWith('JS:')) return 'user: JavaScript'
  if (/^Builtins_/.test(leaf)) return 'user: V8 builtins'
  if (
    /v8::internal::(Heap|Scavenger|Mark|Sweeper|Concurrent|MemoryAllocator|SemiSpace|Evacuat)/.test(leaf) ||
    /Scaveng|Marking|Sweep|Evacuat/.test(leaf)
  )
    return 'user: V8 garbage collector'
  if (/^(__mem|_int_|malloc|free|cfree|sysmalloc)/.test(leaf)) return `user: libc ${leaf.replace(/@.*|_avx.*|_erms/, '')}`
  if (/^0x/.test(leaf) || leaf === '[unknown]') return 'user: unresolved (native addon, e.g. crc32c)'
  return 'user: node / V8 C++'
}

export interface PerfSummary {
  samples: number
  byThread: { name: string; pct: number }[]
  mainByCategory: { name: string; pct: number }[]
  mainTopLeaf: { name: string; pct: number }[]
}

export function summarisePerf(file: string, mainTid?: number): PerfSummary | null {
  const r = spawnSync('perf', ['script', '-i', file, '-F', 'comm,tid,ip,sym'], { encoding: 'utf8', maxBuffer: 1 << 30 })
  if (r.status !== 0) return null
  const all = [...samples(r.stdout)]
  if (all.length === 0) return null
  const main = mainTid ?? all.find((s) => s.comm === 'node')?.tid
  const threads = new Map<string, number>()
  const cats = new Map<string, number>()
  const leaves = new Map<string, number>()
  let mainCount = 0
  for (const s of all) {
    const isMain = s.tid === main
    const t = isMain ? 'main thread (event loop)' : threadKind(s)
    threads.set(t, (threads.get(t) ?? 0) + 1)
    if (!isMain) continue
    mainCount++
    const c = category(s.frames)
    cats.set(c, (cats.get(c) ?? 0) + 1)
    const leaf = (s.frames[0] ?? '?').replace(/ file:\/\/.*\/(src\/.*):\d+:\d+$/, ' $1')
    leaves.set(leaf, (leaves.get(leaf) ?? 0) + 1)
  }
  const top = (m: Map<string, number>, n: number, of: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, c]) => ({ name, pct: (100 * c) / of }))
  return {
    samples: all.length,
    byThread: top(threads, 8, all.length),
    mainByCategory: top(cats, 14, mainCount),
    mainTopLeaf: top(leaves, 15, mainCount),
  }
}

export function formatPerf(s: PerfSummary): string {
  const lines = [`perf: ${s.samples} on-CPU samples at 999 Hz per thread`, 'CPU by thread (share of all samples):']
  for (const t of s.byThread) lines.push(`  ${t.pct.toFixed(1).padStart(5)} %  ${t.name}`)
  lines.push('main thread, by activity (share of its on-CPU samples):')
  for (const c of s.mainByCategory) lines.push(`  ${c.pct.toFixed(1).padStart(5)} %  ${c.name}`)
  lines.push('main thread, top leaf functions:')
  for (const c of s.mainTopLeaf) lines.push(`  ${c.pct.toFixed(1).padStart(5)} %  ${c.name}`)
  return lines.join('\n')
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2]
  if (!file) {
    console.error('usage: node --import tsx bench/lib/perf.ts perf.data [mainTid]')
    process.exit(2)
  }
  const s = summarisePerf(file, process.argv[3] ? Number(process.argv[3]) : undefined)
  console.log(s ? formatPerf(s) : 'no samples')
}
