import { ApiVersions } from '../../protocol/apis/18-api-versions.ts'
import { ErrorCode } from '../../protocol/errors.ts'
import { defineHandler } from './handler.ts'

/** The list is filled in by the server from the registered handlers (see Router.supportedVersions). */
export function apiVersionsHandler(supported: () => { apiKey: number; minVersion: number; maxVersion: number }[]) {
  return defineHandler(ApiVersions, { min: 0, max: 3 }, () => ({
    errorCode: ErrorCode.NONE,
    apiKeys: supported(),
    throttleTimeMs: 0,
  }))
}
