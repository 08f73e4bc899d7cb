import { defineApi, t } from '../schema/dsl.ts'

// v1 adds throttleTimeMs; v4 is the first flexible version; v5 adds an error message.
// v6 addresses topics by name or id (a struct per topic instead of a list of names).
export const DeleteTopics = defineApi({
  key: 20,
  name: 'DeleteTopics',
  versions: '0-6',
  flexible: '4+',
  request: {
    topics: t
      .array({
        name: t.string.nullable('6+').default(null),
        topicId: t.uuid,
      })
      .v('6+'),
    topicNames: t.array(t.string).v('0-5'),
    timeoutMs: t.int32,
  },
  response: {
    throttleTimeMs: t.int32.v('1+'),
    responses: t.array({
      name: t.string.nullable('6+'),
      topicId: t.uuid.v('6+'),
      errorCode: t.int16,
      errorMessage: t.string.v('5+').nullable('5+').default(null),
    }),
  },
})
