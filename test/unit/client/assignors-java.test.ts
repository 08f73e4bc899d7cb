/**
 * Assignments recorded from Apache Kafka's own assignors: RangeAssignor, RoundRobinAssignor, StickyAssignor and
 * CooperativeStickyAssignor of apache/kafka at 1eb7644349cb07139d6a3c1ad1986979647cac99 (trunk, 2024-10-25),
 * compiled with JDK 17 and driven through `assign(Cluster, GroupSubscription)` as
 * `ConsumerCoordinator.onLeaderElected` does: subscriptions put into a `new HashMap<>()` in the order listed,
 * every replica without a rack. The cases are random groups (1-14 members, 1-4 topics, 0-16 partitions,
 * identical or differing subscriptions, static members, previous assignments with churn and with conflicting
 * or stale claims); a differential run of many thousands more agreed wherever Java's result was valid (see
 * abstract-sticky.ts for the inputs on which Java throws, hangs or assigns a topic to a non-subscriber).
 *
 * Format, one case per block (fields separated by one space):
 *   CASE <assignor>
 *   T <topic> <partitions>
 *   M <memberId> <group.instance.id|~> <subscription generationId> <userData hex|~> <ownedPartitions|~> <topics|~> <rack|~>
 *   END
 *   RESULT
 *   <memberId> <topic:partition,...|~>        (sorted; one line per member, in member order)
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { assignorByName, type MemberSubscription, type TopicPartition } from '../../../src/client/assignors/index.ts'

const JAVA = `
CASE range
T t1 10
M c889 inst-18 -1 ~ ~ t1 ~
M c498 ~ -1 ~ ~ t1 ~
M c717 ~ -1 ~ ~ t1 ~
M c273 ~ -1 ~ ~ t1 ~
M c217 ~ -1 ~ ~ t1 ~
M c275 ~ -1 ~ ~ t1 ~
END
RESULT
c889 t1:0,t1:1
c498 t1:8
c717 t1:9
c273 t1:4,t1:5
c217 t1:2,t1:3
c275 t1:6,t1:7
CASE range
T topic3 7
T t4 1
T topic2 10
M consumer328 ~ -1 ~ ~ topic3,orders.0,t4,topic2,x_1 rack1
M consumer293 inst-8 -1 ~ ~ topic3 ~
M consumer155 ~ -1 ~ ~ t4 ~
M consumer218 ~ -1 ~ ~ orders.0,t4 ~
END
RESULT
consumer328 topic2:0,topic2:1,topic2:2,topic2:3,topic2:4,topic2:5,topic2:6,topic2:7,topic2:8,topic2:9,topic3:4,topic3:5,topic3:6
consumer293 topic3:0,topic3:1,topic3:2,topic3:3
consumer155 t4:0
consumer218 ~
CASE range
T x_3 2
T t1 10
M consumer310 ~ -1 ~ ~ t1,x_3 ~
M consumer66 ~ -1 ~ ~ x_3,t1 ~
END
RESULT
consumer310 t1:0,t1:1,t1:2,t1:3,t1:4,x_3:0
consumer66 t1:5,t1:6,t1:7,t1:8,t1:9,x_3:1
CASE range
T x_2 1
M cli-y9dv6vjd ~ -1 ~ ~ x_2 ~
M cli-bwrf9-y7 ~ -1 ~ ~ t0 ~
M cli-jm9ypl4n ~ -1 ~ ~ t0,x_2 ~
M cli-kb01icdj ~ -1 ~ ~ x_2,x_1 ~
M cli-ldl0rj4j ~ -1 ~ ~ x_2,x_1 ~
M cli-97geanc4 ~ -1 ~ ~ x_2 ~
END
RESULT
cli-y9dv6vjd ~
cli-bwrf9-y7 ~
cli-jm9ypl4n ~
cli-kb01icdj ~
cli-ldl0rj4j ~
cli-97geanc4 x_2:0
CASE range
T orders.0 3
M consumer17 ~ -1 ~ ~ orders.0 ~
M consumer225 ~ -1 ~ ~ orders.0 ~
M consumer14 ~ -1 ~ ~ orders.0 ~
M consumer100 ~ -1 ~ ~ orders.0 ~
M consumer47 ~ -1 ~ ~ orders.0 ~
END
RESULT
consumer17 orders.0:2
consumer225 ~
consumer14 orders.0:1
consumer100 orders.0:0
consumer47 ~
CASE range
T orders.3 6
T orders.2 8
M cli-hxdgiehe inst-26 5 ~ orders.3:1,orders.3:3,orders.3:5 orders.2,orders.3,topic0 rack1
M cli-zl5a-dsw ~ 0 ~ orders.2:2,orders.2:5,gone:0 orders.2 ~
M cli--dn2g8zx inst-24 4 ~ orders.3:0,orders.3:2,orders.3:4 orders.3 ~
M cli-p5-g38z2 ~ -1 ~ orders.2:0,orders.2:3,orders.2:6 orders.2,x_1 ~
M cli-pypgzvbx inst-19 5 ~ orders.2:1,orders.2:4,orders.2:7 orders.2 ~
END
RESULT
cli-hxdgiehe orders.2:2,orders.2:3,orders.3:3,orders.3:4,orders.3:5
cli-zl5a-dsw orders.2:6,orders.2:7
cli--dn2g8zx orders.3:0,orders.3:1,orders.3:2
cli-p5-g38z2 orders.2:4,orders.2:5
cli-pypgzvbx orders.2:0,orders.2:1
CASE range
T t2 6
T orders.4 4
T topic1 6
M consumer123 inst-16 1 ~ orders.4:0,t2:0,t2:1,topic1:0,topic1:1 t2,orders.4,topic1 ~
M consumer296 ~ 1 ~ t2:4,orders.4:0,topic1:4 topic1,t2,orders.4 ~
M consumer179 inst-25 -1 ~ orders.4:1,t2:2,t2:3,topic1:2,topic1:3 t2,orders.4,topic1 ~
END
RESULT
consumer123 orders.4:0,orders.4:1,t2:0,t2:1,topic1:0,topic1:1
consumer296 orders.4:3,t2:4,t2:5,topic1:4,topic1:5
consumer179 orders.4:2,t2:2,t2:3,topic1:2,topic1:3
CASE range
T x_0 0
T x_2 6
T t4 10
M cli-ut9lqboq ~ 1 ~ t4:9 x_0,t4,topic1 ~
M cli-2uaiia7n ~ 1 ~ t4:4,t4:5 t4 rack2
M cli-2s2l7dfn ~ 1 ~ ~ x_3 ~
M cli-btrot2iy inst-11 1 ~ t4:0,t4:1 x_0,t4,x_3 ~
M cli-a14r8t12 ~ 1 ~ t4:6,t4:7 x_0,t4 ~
M cli-n660bni4 ~ 1 ~ x_2:3,x_2:4,x_2:5 x_3,x_2,x_0 ~
M cli-e28z6673 ~ 1 ~ x_2:0,x_2:1,x_2:2 x_0,x_2,topic1 ~
M cli-ofwx-ekj ~ 1 ~ t4:8 t4,x_3,topic1 ~
M cli-zbxmyb-i ~ 1 ~ ~ x_3,topic1 ~
M cli-hyuvl1nq ~ 1 ~ ~ x_0,x_3 ~
M cli-i3jvc8dz ~ 1 ~ ~ topic1,x_3 ~
M cli-gc7ca5uj inst-5 1 ~ t4:2,t4:3 topic1,t4,x_3 ~
M new-yfg0r ~ -1 ~ ~ x_3,topic1 ~
END
RESULT
cli-ut9lqboq t4:9
cli-2uaiia7n t4:4,t4:5
cli-2s2l7dfn ~
cli-btrot2iy t4:0,t4:1
cli-a14r8t12 t4:6,t4:7
cli-n660bni4 x_2:3,x_2:4,x_2:5
cli-e28z6673 x_2:0,x_2:1,x_2:2
cli-ofwx-ekj t4:8
cli-zbxmyb-i ~
cli-hyuvl1nq ~
cli-i3jvc8dz ~
cli-gc7ca5uj t4:2,t4:3
new-yfg0r ~
CASE range
T t4 11
T orders.1 0
T t0 6
T x_3 0
M consumer173 ~ -1 ~ ~ t4,t0,x_3 ~
M consumer141 ~ -1 ~ ~ x_3,t0,t4 ~
M consumer160 ~ -1 ~ ~ t4,t0,x_3 ~
M consumer204 ~ -1 ~ ~ t4,t0,x_3 ~
END
RESULT
consumer173 t0:4,t4:6,t4:7,t4:8
consumer141 t0:0,t0:1,t4:0,t4:1,t4:2
consumer160 t0:2,t0:3,t4:3,t4:4,t4:5
consumer204 t0:5,t4:9,t4:10
CASE roundrobin
T x_1 0
M cli-nfqjjhpw ~ 5 ~ ~ x_1,t2,t0 ~
M new-rkub9 ~ -1 ~ ~ x_1,t2,t0 ~
END
RESULT
cli-nfqjjhpw ~
new-rkub9 ~
CASE roundrobin
T x_2 1
T t1 0
T topic3 10
M c683 ~ -1 ~ ~ t1,topic3 ~
M c241 ~ -1 ~ ~ t0,topic3 ~
M c761 inst-22 -1 ~ ~ topic3 rack2
END
RESULT
c683 topic3:2,topic3:5,topic3:8
c241 topic3:1,topic3:4,topic3:7
c761 topic3:0,topic3:3,topic3:6,topic3:9
CASE roundrobin
T t1 0
M c930 ~ 2 ~ ~ t1 ~
M c985 ~ 2 ~ ~ t1 ~
M c048 ~ 2 ~ ~ t1 ~
M c282 ~ 2 ~ ~ t1 ~
M new-02dtr ~ -1 ~ ~ t1 ~
END
RESULT
c930 ~
c985 ~
c048 ~
c282 ~
new-02dtr ~
CASE roundrobin
T orders.0 3
T x_3 4
M cli-9xhn76ku ~ -1 ~ ~ orders.0,x_3 ~
M cli-02hj7-de ~ -1 ~ ~ x_3,orders.0 ~
M cli-fqcquuo9 ~ -1 ~ ~ orders.0,x_3 ~
M cli-9pqn0sy6 ~ -1 ~ ~ orders.0,x_3 ~
M cli--gh0is7b ~ -1 ~ ~ orders.0,x_3 ~
M cli-mxsgqz43 ~ -1 ~ ~ orders.0,x_3 ~
M cli-5csa7i5c ~ -1 ~ ~ orders.0,x_3 ~
END
RESULT
cli-9xhn76ku x_3:1
cli-02hj7-de orders.0:1
cli-fqcquuo9 x_3:2
cli-9pqn0sy6 x_3:0
cli--gh0is7b orders.0:0
cli-mxsgqz43 x_3:3
cli-5csa7i5c orders.0:2
CASE roundrobin
T topic1 1
T orders.3 6
T t2 9
M consumer170 ~ -1 ~ ~ topic1,orders.3,t2 ~
M consumer148 ~ -1 ~ ~ t2,topic1,orders.3 ~
M consumer96 ~ -1 ~ ~ orders.3,topic1,t2 ~
M consumer317 ~ -1 ~ ~ topic1,orders.3,t2 ~
M consumer70 ~ -1 ~ ~ orders.3,topic1,t2 rack0
M consumer63 ~ -1 ~ ~ topic1,orders.3,t2 ~
END
RESULT
consumer170 orders.3:1,t2:1,t2:7
consumer148 orders.3:0,t2:0,t2:6
consumer96 orders.3:5,t2:5
consumer317 orders.3:2,t2:2,t2:8
consumer70 orders.3:4,t2:4
consumer63 orders.3:3,t2:3,topic1:0
CASE roundrobin
T orders.2 10
M c834 ~ 4 ~ orders.2:5 orders.2 ~
M c363 ~ 3 ~ orders.2:1,orders.2:8 orders.2 ~
M c644 ~ 3 ~ orders.2:4 orders.2 rack2
M c986 ~ 4 ~ orders.2:0,orders.2:1,orders.2:8 orders.2 ~
M c232 ~ 5 ~ ~ orders.2 rack2
M c514 ~ 4 ~ orders.2:6,orders.2:7 orders.2 ~
M new-lk6ln ~ 1 ~ ~ orders.2 ~
END
RESULT
c834 orders.2:4
c363 orders.2:1,orders.2:8
c644 orders.2:3
c986 orders.2:5
c232 orders.2:0,orders.2:7
c514 orders.2:2,orders.2:9
new-lk6ln orders.2:6
CASE roundrobin
T orders.2 4
M consumer159 ~ 2 ~ orders.2:1 orders.2 ~
M consumer198 ~ 2 ~ orders.2:2 orders.2 ~
M consumer7 ~ 2 ~ ~ orders.2 ~
M consumer355 inst-16 2 ~ orders.2:0 orders.2 rack2
M consumer209 ~ 2 ~ orders.2:3 orders.2 ~
M consumer245 ~ 2 ~ ~ orders.2 ~
M consumer47 ~ 2 ~ ~ orders.2 ~
END
RESULT
consumer159 orders.2:1
consumer198 orders.2:2
consumer7 ~
consumer355 orders.2:0
consumer209 orders.2:3
consumer245 ~
consumer47 ~
CASE roundrobin
T x_1 2
T orders.5 13
T x_2 3
T x_0 1
M cli-0yjkpa75 ~ 2 ~ x_0:0 orders.3,t4,x_0 ~
M cli-atvylo4a inst-17 2 ~ orders.5:0,orders.5:6,orders.5:12 t4,orders.5,x_0 ~
M cli-1el0mh0p ~ 2 ~ orders.5:2,orders.5:8 t4,orders.5,orders.3 ~
M cli-xy2cv-yj ~ 2 ~ orders.5:5,orders.5:11,x_2:2 orders.5,x_2,t4,orders.3,x_0 rack1
M cli-sxk21mt6 ~ 2 ~ orders.5:4,orders.5:10,x_2:1 x_1,orders.5,x_2,t4 ~
M cli-m-v8i1v6 ~ 2 ~ x_1:1 x_2,x_0,x_1 ~
M cli--2q0l-yn ~ 2 ~ orders.5:1,orders.5:7 orders.5 ~
M cli-zzqy0wk- ~ 2 ~ ~ x_2,t4 ~
M cli-q3ed-as0 ~ 2 ~ orders.5:3,orders.5:9,x_2:0 x_1,orders.5,x_2,x_0,orders.3 ~
M cli-1c4dqqzk ~ 2 ~ x_1:0 orders.3,x_1,x_0,t4 ~
END
RESULT
cli-0yjkpa75 x_0:0
cli-atvylo4a orders.5:0,orders.5:6,orders.5:12
cli-1el0mh0p orders.5:2,orders.5:8
cli-xy2cv-yj orders.5:5,orders.5:11,x_2:2
cli-sxk21mt6 orders.5:4,orders.5:10,x_2:1
cli-m-v8i1v6 x_1:1
cli--2q0l-yn orders.5:1,orders.5:7
cli-zzqy0wk- ~
cli-q3ed-as0 orders.5:3,orders.5:9,x_2:0
cli-1c4dqqzk x_1:0
CASE roundrobin
T orders.0 0
M new-u-ecz ~ -1 ~ ~ orders.0 rack1
M consumer22 ~ 4 ~ ~ orders.0 rack1
M consumer253 ~ 4 ~ ~ orders.0 ~
END
RESULT
new-u-ecz ~
consumer22 ~
consumer253 ~
CASE sticky
T orders.0 1
M c233 ~ -1 ~ ~ orders.0 ~
M c034 ~ -1 ~ ~ orders.0 ~
END
RESULT
c233 ~
c034 orders.0:0
CASE sticky
T orders.2 1
T x_0 4
T topic4 5
M cli-q-el4xep ~ -1 ~ ~ topic4,orders.2,x_0 rack1
M cli-za6yrhjm ~ -1 ~ ~ orders.2,x_0,topic4 ~
M cli-9f38tg9y inst-11 -1 ~ ~ orders.2,x_0,topic4 rack0
M cli-ai315u1u ~ -1 ~ ~ topic4,orders.2,x_0 ~
M cli-p1ytwfnv ~ -1 ~ ~ orders.2,x_0,topic4 ~
M cli-eed7vhnm ~ -1 ~ ~ orders.2,x_0,topic4 ~
END
RESULT
cli-q-el4xep topic4:3
cli-za6yrhjm topic4:4
cli-9f38tg9y orders.2:0,x_0:0
cli-ai315u1u topic4:0,x_0:1
cli-p1ytwfnv topic4:2,x_0:3
cli-eed7vhnm topic4:1,x_0:2
CASE sticky
T x_3 3
T x_1 6
M c491 ~ -1 ~ ~ x_1,x_3 ~
M c179 inst-19 -1 ~ ~ x_3,x_1 ~
M c790 ~ -1 ~ ~ x_1,x_3 ~
M c309 inst-21 -1 ~ ~ x_1,x_3 ~
END
RESULT
c491 x_1:2,x_3:0
c179 x_1:0,x_1:4,x_3:2
c790 x_1:3,x_3:1
c309 x_1:1,x_1:5
CASE sticky
T t2 10
M consumer154 inst-4 5 00000001000274320000000a0000000000000001000000020000000300000004000000050000000600000007000000080000000900000005 ~ t2,topic1 ~
M new-j8l5z ~ -1  ~ t2,topic1 ~
END
RESULT
consumer154 t2:0,t2:1,t2:2,t2:3,t2:4
new-j8l5z t2:5,t2:6,t2:7,t2:8,t2:9
CASE sticky
T orders.1 7
M consumer82 ~ 2 0000000100086f72646572732e31000000010000000500000002 ~ orders.1 ~
M consumer91 ~ 2 0000000100086f72646572732e31000000010000000600000002 ~ orders.1 ~
M consumer348 ~ 2 0000000100086f72646572732e31000000010000000400000002 ~ orders.1 ~
M consumer155 inst-12 2 0000000100086f72646572732e31000000010000000000000002 ~ orders.1 ~
M consumer253 ~ 2 0000000100086f72646572732e31000000010000000200000002 ~ orders.1 ~
M consumer180 ~ 2 0000000100086f72646572732e31000000010000000100000002 orders.1:1 orders.1 ~
M consumer286 ~ 2 0000000100086f72646572732e31000000010000000300000002 orders.1:3 orders.1 rack2
END
RESULT
consumer82 orders.1:5
consumer91 orders.1:6
consumer348 orders.1:4
consumer155 orders.1:0
consumer253 orders.1:2
consumer180 orders.1:1
consumer286 orders.1:3
CASE sticky
T t0 5
T orders.1 0
T x_4 7
M c286 inst-1 6 0000000000000006 ~ orders.1,x_3,orders.2 ~
M c160 ~ 6 0000000000000006 ~ orders.1 ~
END
RESULT
c286 ~
c160 ~
CASE sticky
T topic2 8
M cli-amf-umek ~ 6 0000000000000006 ~ t0 rack1
M cli-js7jsv2f ~ 5 0000000000000005 ~ t0 ~
M cli-cd39jc56 ~ 6 000000010006746f7069633200000002000000020000000300000006 ~ orders.1 ~
M cli-ain8iems ~ 6 0000000000000006 ~ orders.1 ~
M new-gqg2a ~ -1  ~ orders.1 rack1
END
RESULT
cli-amf-umek ~
cli-js7jsv2f ~
cli-cd39jc56 ~
cli-ain8iems ~
new-gqg2a ~
CASE sticky
T x_0 6
M c084 inst-0 3 000000010003785f3000000002000000000000000400000003 ~ x_0 ~
M c623 ~ 3 000000010003785f3000000002000000010000000500000003 x_0:1,x_0:5 x_0 ~
M c643 inst-29 3 000000010003785f30000000010000000200000003 ~ x_0 ~
M c731 inst-27 3 000000010003785f30000000010000000300000003 ~ x_0 ~
END
RESULT
c084 x_0:0,x_0:4
c623 x_0:1,x_0:5
c643 x_0:2
c731 x_0:3
CASE sticky
T topic0 0
T topic3 0
T x_1 4
M consumer155 ~ 4 000000010003785f31000000040000000000000001000000020000000300000004 x_1:0,x_1:1,x_1:2,x_1:3 topic4,x_1,topic3,topic0 ~
END
RESULT
consumer155 x_1:0,x_1:1,x_1:2,x_1:3
CASE sticky
T orders.2 12
T x_0 0
M c026 ~ -1 0000000200086f72646572732e32000000030000000000000005000000080004676f6e650000000100000000ffffffff ~ x_0,x_3 ~
M c251 ~ 4 0000000200086f72646572732e320000000200000008000000090004676f6e65000000010000000000000004 ~ orders.2,x_0,topic1,x_3 ~
M c128 ~ 1 0000000100086f72646572732e3200000002000000060000000700000001 orders.2:6,orders.2:7 x_3,orders.2,topic1 ~
M c275 inst-9 2 0000000000000003 ~ x_0,topic1,x_3 ~
M c999 ~ 4 0000000000000004 ~ x_0 rack0
M c017 ~ 4 0000000100086f72646572732e3200000002000000000000000700000004 ~ x_3 ~
M c726 ~ 0 0000000100086f72646572732e32000000010000000800000004 ~ topic1,orders.2,x_0 ~
M c700 inst-28 4 0000000100086f72646572732e320000000300000000000000010000000200000004 orders.2:0,orders.2:1,orders.2:2 x_0,x_3,topic1,orders.2 ~
M c753 ~ 4 0000000000000004 ~ x_0,topic1 ~
M c329 inst-4 3 0000000100086f72646572732e320000000300000003000000040000000500000003 ~ topic1,orders.2 rack1
END
RESULT
c026 ~
c251 orders.2:8,orders.2:9
c128 orders.2:6,orders.2:7,orders.2:11
c275 ~
c999 ~
c017 ~
c726 orders.2:0,orders.2:10
c700 orders.2:1,orders.2:2
c753 ~
c329 orders.2:3,orders.2:4,orders.2:5
CASE sticky
T t1 7
T t3 9
M cli-jwojf9jb ~ -1 ~ ~ t1,orders.2 ~
END
RESULT
cli-jwojf9jb t1:0,t1:1,t1:2,t1:3,t1:4,t1:5,t1:6
CASE cooperative-sticky
T t2 8
T x_1 6
M cli-ijrxb372 ~ -1 ~ ~ x_1,t2 ~
M cli-crv6o6ne ~ -1 ~ ~ t2,x_1 ~
M cli-bnz9zxrp ~ -1 ~ ~ t2,x_1 ~
END
RESULT
cli-ijrxb372 t2:2,t2:5,x_1:0,x_1:3
cli-crv6o6ne t2:1,t2:4,t2:7,x_1:2,x_1:5
cli-bnz9zxrp t2:0,t2:3,t2:6,x_1:1,x_1:4
CASE cooperative-sticky
T x_1 3
M consumer332 ~ -1 ~ ~ x_1 ~
M consumer170 ~ -1 ~ ~ x_1 ~
M consumer179 ~ -1 ~ ~ x_1 ~
M consumer275 ~ -1 ~ ~ x_1 ~
M consumer19 ~ -1 ~ ~ x_1 ~
END
RESULT
consumer332 ~
consumer170 x_1:0
consumer179 x_1:1
consumer275 ~
consumer19 x_1:2
CASE cooperative-sticky
T orders.2 0
T t3 1
T topic1 7
M consumer89 ~ -1 ~ ~ orders.2,t3,topic1 ~
END
RESULT
consumer89 t3:0,topic1:0,topic1:1,topic1:2,topic1:3,topic1:4,topic1:5,topic1:6
CASE cooperative-sticky
T orders.2 0
T x_4 4
T orders.0 4
M cli-ra2qmhy8 ~ 1 00000001 x_4:0,x_4:2 orders.2,x_4 ~
END
RESULT
cli-ra2qmhy8 x_4:0,x_4:1,x_4:2,x_4:3
CASE cooperative-sticky
T t0 5
M cli-aw72iuxr ~ -1 ffffffff t0:2 t0 ~
M cli-anwx40gg inst-7 5 00000004 t0:1 t0 ~
M cli-5txxd-b1 ~ -1 000000 ~ t0 ~
M cli-i2an3pav ~ 0 00000000 t0:3 t0 ~
M new-czpbd ~ -1 ffffffff gone:0 t0 ~
END
RESULT
cli-aw72iuxr t0:2
cli-anwx40gg t0:1
cli-5txxd-b1 t0:0
cli-i2an3pav t0:3
new-czpbd t0:4
CASE cooperative-sticky
T topic3 3
T x_2 1
M c748 ~ 2 00000002 topic3:2 topic3,x_2 rack1
M c222 ~ 2 00000002 topic3:0 topic3,x_2 ~
M c238 ~ 2 00000002 topic3:1 topic3,x_2 ~
M c944 ~ 2 00000002 x_2:0 topic3,x_2 rack0
END
RESULT
c748 topic3:2
c222 topic3:0
c238 topic3:1
c944 x_2:0
CASE cooperative-sticky
T orders.2 6
T t3 10
T topic0 4
M c544 ~ 1 00000001 topic0:0,topic0:1,topic0:2,topic0:3 topic0,t4,topic1 ~
M c010 ~ 1 00000001 t3:0,t3:2,t3:4,t3:6,t3:8 t3,t4,topic1 ~
M c774 ~ -1 00000001 t3:1,t3:3,t3:5,t3:7,t3:9 t3 ~
M new-7793q ~ -1 ffffffff ~ topic0,t4,topic1 ~
END
RESULT
c544 topic0:2,topic0:3
c010 t3:0,t3:2,t3:4,t3:6,t3:8
c774 t3:1,t3:3,t3:5,t3:7,t3:9
new-7793q ~
CASE cooperative-sticky
T t0 8
T x_2 1
M c738 ~ 6 00000006 t0:0,t0:1,t0:2,t0:3,t0:4,t0:5,t0:6,t0:7,x_2:0 t0,x_2 ~
M new-k2n6c ~ -1 ffffffff t0:0 t0,x_2 ~
END
RESULT
c738 t0:0,t0:1,t0:2,t0:3,x_2:0
new-k2n6c ~
CASE cooperative-sticky
T t1 3
M cli-ne2eugh- ~ 2 00000002 t1:1 topic2,t1 ~
M cli-dan8zg-n inst-5 0 00000000 t1:1 t1 ~
M new-av75c ~ -1 ~ ~ topic2,t1 ~
END
RESULT
cli-ne2eugh- t1:1
cli-dan8zg-n t1:0
new-av75c t1:2
CASE cooperative-sticky
T orders.3 1
T orders.4 10
T orders.2 9
T topic1 1
M c778 ~ 1 00000001 orders.4:0,orders.4:2,orders.4:4,orders.4:7,orders.4:9,orders.2:3 topic1,orders.2,orders.0,orders.3,orders.4 ~
M c773 inst-16 0 00000001 orders.4:3 orders.4 ~
M c775 ~ -1 00000001 orders.2:3,orders.2:7 orders.2 ~
M c643 ~ 1 00000001 orders.4:0,orders.4:1,orders.4:8,orders.4:9,orders.2:0 orders.2,orders.0 ~
M c541 ~ -1 ffffffff orders.3:0,orders.4:8 orders.3,orders.4,orders.2,topic1 ~
M c772 ~ 1 00000001 orders.2:2,orders.2:6 orders.3,orders.0,orders.2 ~
M c624 inst-23 0 00000000 orders.4:2,orders.4:9 orders.4,orders.3,orders.2,orders.0,x_5 ~
M c678 ~ 1 00000001 orders.4:5,orders.4:7,topic1:0 orders.2,topic1,x_5,orders.0,orders.3 ~
M new-ay-3c ~ -1 ffffffff gone:0 orders.2,orders.0 ~
M c523 ~ 1 00000001 orders.4:1,orders.4:7 orders.4,orders.0,orders.2,topic1,x_5 ~
M c061 inst-4 -1 00000001 topic1:0 topic1 ~
M c868 ~ 2 00000002 orders.4:5 orders.4,orders.2,orders.0 ~
M c160 ~ -1 0000 orders.2:5,orders.2:6 orders.4,x_5 ~
END
RESULT
c778 orders.4:2,orders.4:4
c773 orders.4:3
c775 orders.2:7,orders.2:8
c643 orders.2:0,orders.2:4
c541 orders.3:0
c772 orders.2:2,orders.2:6
c624 orders.4:6
c678 ~
new-ay-3c orders.2:1
c523 orders.4:1
c061 topic1:0
c868 orders.4:5
c160 ~
CASE cooperative-sticky
T x_4 0
T orders.1 12
T topic2 16
M c565 inst-7 -1 ~ ~ topic2 ~
M c370 ~ -1 ~ ~ topic2 rack2
END
RESULT
c565 topic2:1,topic2:3,topic2:5,topic2:7,topic2:9,topic2:11,topic2:13,topic2:15
c370 topic2:0,topic2:2,topic2:4,topic2:6,topic2:8,topic2:10,topic2:12,topic2:14
`

interface Case {
  assignor: string
  topics: Map<string, number>
  members: MemberSubscription[]
  expected: Map<string, string>
}

const parseTps = (s: string): TopicPartition[] =>
  s === '~' ? [] : s.split(',').map((x) => ({ topic: x.slice(0, x.lastIndexOf(':')), partition: Number(x.slice(x.lastIndexOf(':') + 1)) }))

function parse(text: string): Case[] {
  const cases: Case[] = []
  let c: Case | undefined
  let inResult = false
  for (const line of text.trim().split('\n')) {
    const f = line.split(' ')
    if (f[0] === 'CASE') {
      c = { assignor: f[1], topics: new Map(), members: [], expected: new Map() }
      cases.push(c)
      inResult = false
    } else if (f[0] === 'T') c!.topics.set(f[1], Number(f[2]))
    else if (f[0] === 'M')
      c!.members.push({
        memberId: f[1],
        groupInstanceId: f[2] === '~' ? null : f[2],
        generationId: Number(f[3]),
        userData: f[4] === '~' ? null : Buffer.from(f[4], 'hex'),
        ownedPartitions: parseTps(f[5]),
        topics: f[6] === '~' ? [] : f[6].split(','),
        rackId: f[7] === '~' ? null : f[7],
      })
    else if (f[0] === 'RESULT') inResult = true
    else if (inResult) c!.expected.set(f[0], f[1])
  }
  return cases
}

const cases = parse(JAVA)

test('the recorded fixture covers every assignor', () => {
  assert.deepEqual(new Set(cases.map((c) => c.assignor)), new Set(['range', 'roundrobin', 'sticky', 'cooperative-sticky']))
  assert.ok(cases.length >= 40)
})

for (const [i, c] of cases.entries()) {
  test(`case ${i}: ${c.assignor}, ${c.members.length} members, ${[...c.topics.values()].reduce((a, b) => a + b, 0)} partitions`, () => {
    const result = assignorByName(c.assignor)!.assign(c.members, c.topics)
    const got = new Map(
      [...result.assignments].map(([id, a]) => [
        id,
        a.partitions.length === 0 ? '~' : a.partitions.map((p) => `${p.topic}:${p.partition}`).join(','),
      ]),
    )
    assert.deepEqual(got, c.expected)
  })
}
