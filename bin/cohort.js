#!/usr/bin/env node
// Each dirty partition costs one fdatasync per group-commit round on libuv's threadpool; the default 4 threads
// cap how many run at once. libuv reads this once, at first use, so set it before anything is loaded.
process.env.UV_THREADPOOL_SIZE ??= '16'

const { main } = await import('../dist/cli/main.js')
main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code
  },
  (err) => {
    console.error(`cohort: ${err instanceof Error ? err.message : String(err)}`)
    process.exitCode = 1
  },
)
