"""One chaos-group member on confluent-kafka (librdkafka): the production pattern, like
chaos/cohort-member.ts, printing the same JSON events (chaos/events.ts). Derived from
test/interop/peers/group_member.py.

Manual commits: `enable.auto.commit=false`; after every --commit-every records the processed
positions are committed synchronously; `on_revoke` commits them synchronously before the partitions
go. A record's line is printed (and flushed) before the record is processed or committed, so kill -9
loses nothing of what the member did. With --store FILE each record's side effect (one row in
`chaos_notifications`) goes through processed_store.run_once, in the same SQLite transaction as its
mark — the same table and steps as Cohort's SqliteProcessedStore.

Commands on stdin, one a line: "stop" or "leave" closes the consumer gracefully and exits (librdkafka
sends no LeaveGroup for a static member either way); so does end of input and SIGTERM.
"""
import argparse
import json
import os
import signal
import sys
import threading
import time

from confluent_kafka import Consumer, KafkaError, KafkaException

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from processed_store import ProcessedStore  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--bootstrap", required=True)
parser.add_argument("--topic", default="chaos")
parser.add_argument("--group", default="chaos")
parser.add_argument("--name", default="python")
parser.add_argument("--strategy", default="cooperative-sticky")
parser.add_argument("--instance-id", default="")
parser.add_argument("--session-timeout-ms", type=int, default=6000)
parser.add_argument("--heartbeat-interval-ms", type=int, default=500)
parser.add_argument("--max-poll-interval-ms", type=int, default=20000)
parser.add_argument("--metadata-refresh-ms", type=int, default=1000)
parser.add_argument("--commit-every", type=int, default=1)
parser.add_argument("--process-ms", type=float, default=0)
parser.add_argument("--store", default="")
parser.add_argument("--synchronous", default="FULL")
parser.add_argument("--debug", default="")
args = parser.parse_args()

out_lock = threading.Lock()


def emit(ev, **fields):
    line = json.dumps({"ev": ev, "name": args.name, "t": int(time.time() * 1000), **fields})
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

store = None
if args.store:
    store = ProcessedStore(args.store, synchronous=args.synchronous)
    store.conn.execute(
        "CREATE TABLE IF NOT EXISTS chaos_notifications (identity TEXT NOT NULL, member TEXT NOT NULL, "
        "partition INTEGER NOT NULL, offset INTEGER NOT NULL, at INTEGER NOT NULL)"
    )

processed = 0
since_commit = 0


def parts(partitions):
    return sorted(p.partition for p in partitions)


def commit_sync(where):
    """Commits the processed positions (librdkafka's stored offsets) synchronously; prints what it committed."""
    try:
        result = consumer.commit(asynchronous=False)
    except KafkaException as e:
        # _NO_OFFSET: nothing was consumed since the last commit, so there is nothing to commit.
        if e.args[0].code() == KafkaError._NO_OFFSET:
            return True
        emit("commit-failed", where=where, error=str(e))
        return False
    committed = {}
    ok = True
    for tp in result or []:
        if tp.error is not None:
            emit("commit-failed", where=where, error=str(tp.error), partition=tp.partition)
            ok = False
        elif tp.offset >= 0:
            committed[str(tp.partition)] = tp.offset
    if committed:
        emit("commit", where=where, offsets=committed)
    return ok


def on_assign(c, partitions):
    emit("assigned", partitions=parts(partitions))


def on_revoke(c, partitions):
    commit_sync("revoke")
    emit("revoked", partitions=parts(partitions))


def on_lost(c, partitions):
    emit("lost", partitions=parts(partitions))


consumer = Consumer(config)
stop = threading.Event()


def read_commands():
    for line in sys.stdin:
        if line.strip() in ("stop", "leave"):
            break
    stop.set()


threading.Thread(target=read_commands, daemon=True).start()
signal.signal(signal.SIGTERM, lambda *_: stop.set())

consumer.subscribe([args.topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)
emit("started", kind="python", pid=os.getpid(), instanceId=args.instance_id or None)


def notify(identity, partition, offset):
    def effect(conn):
        conn.execute(
            "INSERT INTO chaos_notifications (identity, member, partition, offset, at) VALUES (?, ?, ?, ?, ?)",
            (identity, args.name, partition, offset, int(time.time() * 1000)),
        )

    outcome, _, _ = store.run_once(identity, args.name, effect)
    return "new" if outcome == "processed" else "dup"


try:
    while not stop.is_set():
        msg = consumer.poll(0.1)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() != KafkaError._PARTITION_EOF:
                emit("error", error=str(msg.error()))
            continue
        rid = msg.value().decode()
        emit("rec", p=msg.partition(), o=msg.offset(), id=rid)
        if store is not None:
            emit("fx", p=msg.partition(), o=msg.offset(), id=rid, r=notify(rid, msg.partition(), msg.offset()))
        if args.process_ms > 0:
            time.sleep(args.process_ms / 1000.0)
        processed += 1
        since_commit += 1
        if since_commit >= args.commit_every:
            commit_sync("record")
            since_commit = 0
finally:
    # close() revokes the assignment through on_revoke, which commits synchronously.
    consumer.close()
    if store is not None:
        store.close()
    emit("closed", processed=processed)
