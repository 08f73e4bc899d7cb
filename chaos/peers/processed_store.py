"""The idempotent-processing store of src/client/idempotent/sqlite.ts, for Python processes.

Same table, same steps, so Cohort (TypeScript) and confluent-kafka (Python) members of one group
share one store. Only the in-transaction form is here: `run_once(identity, owner, effect)` runs
`effect(conn)` and marks `identity` done in one BEGIN IMMEDIATE transaction, unless it is done
already. Exactly once with respect to this database: the effect's writes and the mark commit or roll
back together.

Durability: WAL journal; `synchronous=FULL` (default) fsyncs at each commit, so a committed
transaction survives power loss; `NORMAL` survives a crash of the process only (kill -9 included).
"""
import os
import re
import socket
import sqlite3
import time

DEFAULT_TABLE = "cohort_processed"


def table_sql(table=DEFAULT_TABLE):
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", table):
        raise ValueError("bad table name %r" % table)
    return (
        "CREATE TABLE IF NOT EXISTS %s ("
        "identity TEXT PRIMARY KEY, "
        "state TEXT NOT NULL CHECK (state IN ('pending', 'done')), "
        "owner TEXT NOT NULL, "
        "attempts INTEGER NOT NULL, "
        "claimed_at INTEGER NOT NULL, "
        "completed_at INTEGER"
        ") WITHOUT ROWID" % table
    )


def default_owner():
    return "%s:%d" % (socket.gethostname(), os.getpid())


class ProcessedStore:
    def __init__(self, path, synchronous="FULL", busy_timeout_ms=5000, table=DEFAULT_TABLE):
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError("synchronous must be FULL or NORMAL")
        # isolation_level=None: no implicit transactions; each step issues its own BEGIN IMMEDIATE.
        self.conn = sqlite3.connect(path, timeout=busy_timeout_ms / 1000.0, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = %s" % synchronous)
        self.table = table
        self.conn.execute(table_sql(table))

    def run_once(self, identity, owner, effect):
        """("processed", value, attempt) when the effect ran, ("duplicate", None, attempts) when already done."""
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        try:
            row = c.execute(
                "SELECT state, attempts, claimed_at FROM %s WHERE identity = ?" % self.table, (identity,)
            ).fetchone()
            if row is not None and row[0] == "done":
                c.execute("COMMIT")
                return ("duplicate", None, row[1])
            value = effect(c)
            now = int(time.time() * 1000)
            attempts = (row[1] if row else 0) + 1
            claimed_at = row[2] if row else now
            c.execute(
                "INSERT INTO %s (identity, state, owner, attempts, claimed_at, completed_at) VALUES (?, 'done', ?, ?, ?, ?) "
                "ON CONFLICT (identity) DO UPDATE SET state = excluded.state, owner = excluded.owner, "
                "attempts = excluded.attempts, claimed_at = excluded.claimed_at, completed_at = excluded.completed_at"
                % self.table,
                (identity, owner, attempts, claimed_at, now),
            )
            c.execute("COMMIT")
            return ("processed", value, attempts)
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def close(self):
        self.conn.close()
