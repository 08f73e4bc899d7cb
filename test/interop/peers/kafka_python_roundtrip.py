"""Produce N keyed records with kafka-python 2.0.2 and read them back with a group-less KafkaConsumer."""
import json
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

bootstrap, topic, count, codec, partitions = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
codec = None if codec == "none" else codec

admin = KafkaAdminClient(bootstrap_servers=bootstrap)
admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
admin.close()

producer = KafkaProducer(bootstrap_servers=bootstrap, compression_type=codec, acks="all", linger_ms=5, batch_size=65536)
futures = [producer.send(topic, key=f"key-{i % 1000}".encode(), value=f"{i}".encode()) for i in range(count)]
producer.flush(60)
for f in futures[-10:]:
    f.get(30)
producer.close()

consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=5000, max_poll_records=5000)
tps = [TopicPartition(topic, p) for p in range(partitions)]
consumer.assign(tps)
consumer.seek_to_beginning(*tps)
seen = {p: [] for p in range(partitions)}
keys = {}
total = 0
deadline = time.time() + 120
while total < count and time.time() < deadline:
    batch = consumer.poll(timeout_ms=1000, max_records=5000)
    for tp, msgs in batch.items():
        for m in msgs:
            seen[tp.partition].append(int(m.value))
            keys[m.key.decode()] = tp.partition
            total += 1
consumer.close()
print(json.dumps({"consumed": {str(p): v for p, v in seen.items()}, "keyPartitions": keys}))
