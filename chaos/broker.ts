/**
 * `cohort broker` from the sources (the harness runs the code under test, not a possibly stale
 * dist/): node --import tsx chaos/broker.ts --port P --data-dir D --set key=value …
 */
// As bin/cohort.js: enough libuv threads for one fdatasync per dirty partition per group-commit round.
process.env.UV_THREADPOOL_SIZE ??= '16'
const { main } = await import('../src/cli/main.ts')
process.exitCode = await main(['broker', ...process.argv.slice(2)])
