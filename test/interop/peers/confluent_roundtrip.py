"""Produce N keyed records with confluent-kafka (librdkafka) and read them back by partition assignment.

Prints one JSON line: what was produced, and per partition the sequence numbers consumed in order.
"""
import json
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap, topic, count, codec, partitions = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])

admin = AdminClient({"bootstrap.servers": bootstrap})
for f in admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)]).values():
    f.result(30)

producer = Producer({
    "bootstrap.servers": bootstrap,
    "compression.codec": codec,
    "enable.idempotence": True,
    "linger.ms": 5,
    "acks": "all",
})
errors = []


def delivered(err, msg):
    if err is not None:
        errors.append(str(err))


for i in range(count):
    while True:
        try:
            producer.produce(topic, key=f"key-{i % 1000}", value=f"{i}", on_delivery=delivered)
            break
        except BufferError:
            producer.poll(0.05)
    if i % 10000 == 0:
        producer.poll(0)
remaining = producer.flush(60)
if remaining or errors:
    print(json.dumps({"error": f"{remaining} undelivered, errors: {errors[:5]}"}))
    sys.exit(1)

consumer = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": "interop-assign-only",
    "enable.auto.commit": False,
    "enable.partition.eof": True,
})
consumer.assign([TopicPartition(topic, p, -2) for p in range(partitions)])
seen = {p: [] for p in range(partitions)}
keys = {}
eof = set()
total = 0
deadline = time.time() + 120
while total < count and time.time() < deadline:
    for msg in consumer.consume(10000, 1.0):
        if msg.error():
            if msg.error().code() == -191:  # _PARTITION_EOF
                eof.add(msg.partition())
                continue
            print(json.dumps({"error": str(msg.error())}))
            sys.exit(1)
        seen[msg.partition()].append(int(msg.value()))
        keys[msg.key().decode()] = msg.partition()
        total += 1
consumer.close()
print(json.dumps({"consumed": {str(p): v for p, v in seen.items()}, "keyPartitions": keys}))
