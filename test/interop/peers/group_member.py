"""One consumer-group member running the "production consumer pattern" with confluent-kafka (librdkafka).

Manual commits: `enable.auto.commit=false`, each record is committed after it is processed
(`commit(message=msg)`), and the processed offsets are committed synchronously
(`commit(asynchronous=False)`) inside `on_revoke`, before the partitions go.

Events go to stdout as JSON lines (flushed one by one):
  {"ev": "started", "name": ...}
  {"ev": "assigned", "partitions": [...], "owned": [...]}
  {"ev": "revoked", "partitions": [...], "owned": [...]}       (after the synchronous commit)
  {"ev": "lost", "partitions": [...], "owned": [...]}
  {"ev": "committed", "offsets": {"<partition>": <next offset>, ...}}   (the commit in on_revoke)
  {"ev": "commit-failed", "where": ..., "error": ...}
  {"ev": "record", "p": <partition>, "o": <offset>, "v": <value>}
  {"ev": "error", "error": ...}
  {"ev": "closed", "processed": <count>}
Commands come on stdin, one a line: "stop" closes the consumer gracefully and exits; so does end of input,
unless --max-records N is given: then the member stops by itself after processing N records.
librdkafka's own log (e.g. --debug cgrp,protocol) goes to stderr.
"""
import argparse
import json
import sys
import threading
import time

from confluent_kafka import Consumer, KafkaError, KafkaException

parser = argparse.ArgumentParser()
parser.add_argument("--bootstrap", required=True)
parser.add_argument("--topic", required=True)
parser.add_argument("--group", required=True)
parser.add_argument("--name", default="member")
parser.add_argument("--strategy", default="range")
parser.add_argument("--instance-id", default="")
parser.add_argument("--session-timeout-ms", type=int, default=6000)
parser.add_argument("--heartbeat-interval-ms", type=int, default=500)
parser.add_argument("--max-poll-interval-ms", type=int, default=30000)
parser.add_argument("--metadata-refresh-ms", type=int, default=1000)
parser.add_argument("--max-records", type=int, default=0)
parser.add_argument("--debug", default="")
args = parser.parse_args()

out_lock = threading.Lock()


def emit(ev, **fields):
    line = json.dumps({"ev": ev, "name": args.name, "t": round(time.time(), 3), **fields})
    with out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


config = {
    "bootstrap.servers": args.bootstrap,
    "group.id": args.group,
    "client.id": args.name,
    "partition.assignment.strategy": args.strategy,
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,
    "session.timeout.ms": args.session_timeout_ms,
    "heartbeat.interval.ms": args.heartbeat_interval_ms,
    "max.poll.interval.ms": args.max_poll_interval_ms,
    "topic.metadata.refresh.interval.ms": args.metadata_refresh_ms,
    "reconnect.backoff.ms": 50,
    "reconnect.backoff.max.ms": 500,
    "fetch.wait.max.ms": 100,
}
if args.instance_id:
    config["group.instance.id"] = args.instance_id
if args.debug:
    config["debug"] = args.debug

owned = set()
processed = 0


def parts(partitions):
    return sorted(p.partition for p in partitions)


def commit_sync(where):
    """The synchronous commit of the processed offsets; returns them (partition -> next offset)."""
    try:
        result = consumer.commit(asynchronous=False)
    except KafkaException as e:
        # _NO_OFFSET: nothing was consumed since the last commit, so there is nothing to commit.
        if e.args[0].code() == KafkaError._NO_OFFSET:
            return {}
        emit("commit-failed", where=where, error=str(e))
        return None
    committed = {}
    for tp in result or []:
        if tp.error is not None:
            emit("commit-failed", where=where, error=str(tp.error), partition=tp.partition)
        elif tp.offset >= 0:
            committed[str(tp.partition)] = tp.offset
    return committed


def on_assign(c, partitions):
    owned.update(parts(partitions))
    emit("assigned", partitions=parts(partitions), owned=sorted(owned))


def on_revoke(c, partitions):
    committed = commit_sync("on_revoke")
    if committed is not None:
        emit("committed", offsets=committed)
    owned.difference_update(parts(partitions))
    emit("revoked", partitions=parts(partitions), owned=sorted(owned))


def on_lost(c, partitions):
    owned.difference_update(parts(partitions))
    emit("lost", partitions=parts(partitions), owned=sorted(owned))


def on_commit(err, partitions):
    # The asynchronous per-record commits report here; only failures are interesting.
    if err is not None:
        emit("commit-failed", where="async", error=str(err))
        return
    for tp in partitions:
        if tp.error is not None:
            emit("commit-failed", where="async", error=str(tp.error), partition=tp.partition)


config["on_commit"] = on_commit
consumer = Consumer(config)
stop = threading.Event()


def read_commands():
    for line in sys.stdin:
        if line.strip() == "stop":
            stop.set()
            return
    # End of input stops an interactive member; one with --max-records runs until it has them.
    if not args.max_records:
        stop.set()


threading.Thread(target=read_commands, daemon=True).start()

consumer.subscribe([args.topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)
emit("started")
try:
    while not stop.is_set():
        msg = consumer.poll(0.1)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() != KafkaError._PARTITION_EOF:
                emit("error", error=str(msg.error()))
            continue
        # "Process" the record, then commit it.
        emit("record", p=msg.partition(), o=msg.offset(), v=msg.value().decode())
        processed += 1
        consumer.commit(message=msg)
        if args.max_records and processed >= args.max_records:
            break
finally:
    # close() revokes the assignment through on_revoke, which commits synchronously.
    consumer.close()
    emit("closed", processed=processed)
