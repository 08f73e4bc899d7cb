"""What admin clients see of a consumer group: prints one JSON object.

  groups:    confluent-kafka AdminClient.list_groups() (ListGroups + DescribeGroups): every group with its
             state, protocol type, protocol and members (client id, decoded assignment of the topic)
  described: kafka-python KafkaAdminClient.describe_consumer_groups([group])
  offsets:   kafka-python KafkaAdminClient.list_consumer_group_offsets(group) (OffsetFetch): partition -> offset

Usage: group_admin.py BOOTSTRAP GROUP TOPIC
"""
import json
import struct
import sys

from confluent_kafka.admin import AdminClient
from kafka.admin import KafkaAdminClient

bootstrap, group, topic = sys.argv[1], sys.argv[2], sys.argv[3]


def assigned_partitions(assignment: bytes):
    """ConsumerProtocol Assignment: int16 version, [string topic, [int32 partition]], bytes user_data."""
    if not assignment:
        return []
    pos = 2
    (n_topics,) = struct.unpack_from(">i", assignment, pos)
    pos += 4
    out = []
    for _ in range(n_topics):
        (tlen,) = struct.unpack_from(">h", assignment, pos)
        pos += 2
        name = assignment[pos:pos + tlen].decode()
        pos += tlen
        (n_parts,) = struct.unpack_from(">i", assignment, pos)
        pos += 4
        parts = list(struct.unpack_from(f">{n_parts}i", assignment, pos))
        pos += 4 * n_parts
        if name == topic:
            out.extend(parts)
    return sorted(out)


admin = AdminClient({"bootstrap.servers": bootstrap})
groups = []
for g in admin.list_groups(timeout=10):
    groups.append({
        "id": g.id,
        "state": g.state,
        "protocol_type": g.protocol_type,
        "protocol": g.protocol,
        "members": [{"id": m.id, "client_id": m.client_id, "partitions": assigned_partitions(m.assignment)} for m in g.members],
    })

kp = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="group-admin")
described = []
for d in kp.describe_consumer_groups([group]):
    described.append({
        "group": d.group,
        "state": d.state,
        "protocol_type": d.protocol_type,
        "protocol": d.protocol,
        "members": [{"id": m.member_id, "client_id": m.client_id} for m in d.members],
    })
offsets = {
    str(tp.partition): meta.offset
    for tp, meta in kp.list_consumer_group_offsets(group).items()
    if tp.topic == topic
}
kp.close()
print(json.dumps({"groups": groups, "described": described, "offsets": offsets}))
