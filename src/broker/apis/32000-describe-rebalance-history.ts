/**
 * DescribeRebalanceHistory (key 32000, Cohort's own API): the group coordinator's record of each group's
 * recent rebalances. Kafka has no such API, so it is answered but not advertised in ApiVersions: clients
 * that parse the advertised list never see an API key they do not know (docs/compatibility.md).
 */
import { DescribeRebalanceHistory } from '../../protocol/apis/index.ts'
import { defineHandler } from './handler.ts'

export const describeRebalanceHistoryHandler = defineHandler(DescribeRebalanceHistory, { min: 0, max: 0, advertised: false }, (ctx, req) =>
  ctx.broker.groups.run((c) =>
    c.describeRebalanceHistory(req, {
      version: ctx.version,
      clientId: ctx.header.clientId ?? '',
      clientHost: `/${ctx.conn.remoteAddress}`,
    }),
  ),
)
