/**
 * The classic group protocol's APIs: each hands the decoded request to the
 * group coordinator through GroupService, which makes the coordinator's
 * records durable before the response leaves.
 */
import {
  DeleteGroups,
  DescribeGroups,
  Heartbeat,
  JoinGroup,
  LeaveGroup,
  ListGroups,
  OffsetCommit,
  OffsetDelete,
  OffsetFetch,
  SyncGroup,
} from '../../protocol/apis/index.ts'
import type { RequestContext as CoordinatorContext } from '../coordinator/index.ts'
import { defineHandler, type RequestContext } from './handler.ts'

function who(ctx: RequestContext): CoordinatorContext {
  return { version: ctx.version, clientId: ctx.header.clientId ?? '', clientHost: `/${ctx.conn.remoteAddress}` }
}

export const offsetCommitHandler = defineHandler(OffsetCommit, { min: 0, max: 9 }, (ctx, req) =>
  ctx.broker.groups.run((c) => c.offsetCommit(req, who(ctx))),
)
export const offsetFetchHandler = defineHandler(OffsetFetch, { min: 0, max: 9 }, (ctx, req) =>
  ctx.broker.groups.run((c) => c.offsetFetch(req, who(ctx))),
)
export const joinGroupHandler = defineHandler(JoinGroup, { min: 0, max: 9 }, (ctx, req) =>
  ctx.broker.groups.run((c) => c.joinGroup(req, who(ctx))),
)
export const heartbeatHandler = defineHandler(Heartbeat, { min: 0, max: 4 }, (ctx, req) =>
  ctx.broker.groups.run((c) => c.heartbeat(req, who(ctx))),
)
export const leaveGroupHandler = defineHandler(LeaveGroup, { min: 0, max: 5 }, (ctx, req) =>
  ctx.broker.groups.run((c) => c.leaveGroup(req, who(ctx))),
)
export const syncGroupHandler = defineHandler(SyncGroup, { min: 0, max: 5 }, (ctx, req) =>
  ctx.broker.groups.run((c) => c.syncGroup(req, who(ctx))),
)
export const describeGroupsHandler = defineHandler(DescribeGroups, { min: 0, max: 5 }, (ctx, req) =>
  ctx.broker.groups.run((c) => c.describeGroups(req, who(ctx))),
)
export const listGroupsHandler = defineHandler(ListGroups, { min: 0, max: 5 }, (ctx, req) =>
  ctx.broker.groups.run((c) => c.listGroups(req, who(ctx))),
)
export const deleteGroupsHandler = defineHandler(DeleteGroups, { min: 0, max: 2 }, (ctx, req) =>
  ctx.broker.groups.run((c) => c.deleteGroups(req, who(ctx))),
)
export const offsetDeleteHandler = defineHandler(OffsetDelete, { min: 0, max: 0 }, (ctx, req) =>
  ctx.broker.groups.run((c) => c.offsetDelete(req, who(ctx))),
)
