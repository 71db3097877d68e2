"""`GET /healthz` (the process answers) and `GET /readyz` (it can do its job), for systemd, Docker and Kubernetes.

Why two: an orchestrator restarts a process whose liveness fails, and only stops routing traffic to one whose
readiness fails. A platform outage or a backlog must not get the bot killed (restarting would not help and would
drop the long connections), so those are readiness conditions only; liveness is just "the event loop answers".

Both are cheap (a few indexed queries) and neither leaks configuration: the answer names which checks failed
(database, migrations, platform:<name>, inbox, outbox), never paths, hosts, ids or counts beyond the two ages.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from store import operations
from store.migrate import available as available_migrations


@dataclass
class Readiness:
    ready: bool
    failing: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"ready": self.ready, "failing": self.failing}


def database_writable(store: Any) -> bool:
    """Can this process take the write lock right now? BEGIN IMMEDIATE then roll back: writes nothing."""
    if store.conn.in_transaction:  # the runtime holds it at this very moment: writable by definition
        return True
    try:
        store.conn.execute("BEGIN IMMEDIATE")
        store.conn.execute("ROLLBACK")
        return True
    except sqlite3.Error:
        return False


def migrations_current(store: Any) -> bool:
    shipped = {number for number, _name, _sql in available_migrations()}
    try:
        applied = operations.applied_migration_ids(store)
    except sqlite3.Error:
        return False
    return shipped <= applied


def check(store: Any, config: Any, now_ms: int, adapters: list[Any], last_send_ok: dict[str, bool]) -> Readiness:
    failing: list[str] = []
    if not database_writable(store):
        failing.append("database")
    if not migrations_current(store):
        failing.append("migrations")
    for adapter in adapters:
        if adapter.platform not in config.enabled_platforms():
            continue
        connected = adapter.connected()
        if connected is False or last_send_ok.get(adapter.platform) is False:
            failing.append(f"platform:{adapter.platform}")
    limits = config.health
    oldest = operations.oldest_pending_inbox_ms(store)
    if oldest is not None and now_ms - oldest > limits.max_inbox_age_s * 1000:
        failing.append("inbox")
    if operations.outbox_backlog(store, now_ms) > limits.max_outbox_backlog:
        failing.append("outbox")
    return Readiness(ready=not failing, failing=failing)
