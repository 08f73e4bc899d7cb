/**
 * Prometheus metrics of the broker, loaded only when `metrics.port` is set:
 *   request-stats.ts     RequestStats: allocation-free per-API counters and latency buckets (the router's observer)
 *   response-errors.ts   errorFinder: a response's error code, found by walking only its errorCode fields
 *   broker-metrics.ts    BrokerMetrics: the Registry; every metric computed at scrape time (docs/metrics.md)
 *   server.ts            MetricsServer: `GET /metrics`
 */
export { BrokerMetrics, type MetricsSources } from './broker-metrics.ts'
export { ApiStats, DURATION_BUCKETS_SECONDS, RequestStats } from './request-stats.ts'
export { type ErrorFinder, errorFinder } from './response-errors.ts'
export { MetricsServer } from './server.ts'
