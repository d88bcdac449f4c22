"""EventQueue: a durable, append-only log of Xero webhook events in SQLite (WAL mode).

Positions are SQLite AUTOINCREMENT row ids: strictly increasing and never reused, even after
rows are removed, so a reader's "last position processed" stays meaningful forever.

Durability: WAL mode with ``synchronous=FULL`` fsyncs the log on every commit. The receiver
answers Xero only after ``append`` returns, and a 200 ends Xero's retries, so an acknowledged
event must survive an OS crash or power loss, not just the receiver's process dying (which
``NORMAL`` would already cover). One fsync per delivery is cheap next to Xero's rate of sends.

Several processes may share one file (the receiver appends while the tap reads): writers take
the database lock with ``BEGIN IMMEDIATE`` and wait up to ``busy_timeout`` for each other.

``append`` stores what it is given: the receiver validates deliveries first (``payload``). Reads
check each event again, so an event that a receiver older than that validation stored with a field
of the wrong type is skipped with one warning naming its position, never handed to the tap.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tap_xero.webhooks.payload import event_identity, event_problem

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    identity TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL,
    event_category TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    event_date_utc TEXT NOT NULL,
    received_at TEXT NOT NULL,
    event TEXT NOT NULL
)
"""


class EventQueue:
    """Append events (deduplicated by identity) and read them back in position order.

    Thread-safe within a process (one connection behind a lock) and safe across processes.
    ``path`` may be ``":memory:"`` for a queue that lives only as long as this object.
    """

    def __init__(self, path: str | Path, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # isolation_level=None: we issue BEGIN/COMMIT ourselves.
        self._db = sqlite3.connect(
            self.path, timeout=busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False
        )
        self._db.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)

    def append(self, events: Iterable[dict[str, Any]]) -> int:
        """Store ``events`` durably (committed and fsynced on return); returns how many were new."""
        received_at = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        rows = [
            (
                event_identity(e), e["tenantId"], e["eventCategory"], e["resourceId"], e["eventType"],
                e["eventDateUtc"], received_at, json.dumps(e, separators=(",", ":")),
            )
            for e in events
        ]
        if not rows:
            return 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                before = self._db.total_changes
                self._db.executemany(
                    "INSERT OR IGNORE INTO events (identity, tenant_id, event_category, resource_id,"
                    " event_type, event_date_utc, received_at, event) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                added = self._db.total_changes - before
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return added

    def read_after(self, position: int, limit: int = 1000) -> list[tuple[int, dict[str, Any]]]:
        """Up to ``limit`` events with a position above ``position``, oldest first."""
        return [(pos, event) for pos, _, event in self.entries_after(position, limit)]

    def entries_after(self, position: int, limit: int = 1000) -> list[tuple[int, str, dict[str, Any]]]:
        """Like ``read_after`` with the receipt time: ``(position, received_at, event)``.

        Invalid stored events are skipped (see the module docstring): a window may hold fewer than
        ``limit`` entries while more follow, but is empty only when nothing valid follows.
        """
        while True:
            with self._lock:
                rows = self._db.execute(
                    "SELECT position, received_at, event FROM events WHERE position > ? ORDER BY position LIMIT ?",
                    (int(position), int(limit)),
                ).fetchall()
            entries = [entry for entry in map(self._checked, rows) if entry is not None]
            if entries or len(rows) < int(limit):
                return entries
            position = rows[-1][0]  # a whole window of invalid rows: read on

    def _checked(self, row: tuple[int, str, str]) -> tuple[int, str, dict[str, Any]] | None:
        position, received_at, text = row
        try:
            event = json.loads(text)
            problem = event_problem(event)
        except (ValueError, RecursionError):
            problem = "not JSON"
        if problem:
            logger.warning("Webhook queue %s: skipping the event at position %d, stored by an older receiver: %s",
                           self.path, position, problem)
            return None
        return position, received_at, event

    def max_position(self) -> int:
        """The highest position stored (0 when empty)."""
        with self._lock:
            (value,) = self._db.execute("SELECT COALESCE(MAX(position), 0) FROM events").fetchone()
        return int(value)

    def count(self) -> int:
        """How many events are stored."""
        with self._lock:
            (value,) = self._db.execute("SELECT COUNT(*) FROM events").fetchone()
        return int(value)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> EventQueue:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
