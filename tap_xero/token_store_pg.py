"""PostgresTokenStore: the token store in PostgreSQL, for processes on different machines sharing one connection.

Setting ``token_store_url`` (``postgresql://user:password@host:5432/database``) chooses it over the file store
(``token_store.TokenStore``); the rules of the rotation (``token_rotation.RefreshTokenRotation``: newest wins,
adopt what another process rotated, save before use) are the same for both. What this store guarantees them:

- **Its table.** ``tap_xero_token_store`` (one row per connection: ``store_key``, the record as ``jsonb``, when it
  was saved) in the first schema of the connection's ``search_path``; created on first use if missing (under an
  advisory lock, so concurrent first uses do not race), never altered otherwise. PostgreSQL grants a new table
  to its owner only: the tokens are as private as the database role.
- ``load()``: the newest *committed* record for ``store_key``, or None when there is none or it is damaged.
- ``locked()``: a transaction holding ``pg_advisory_xact_lock`` on a 64-bit key derived from ``store_key``; a
  ``load()`` or ``save()`` inside it runs in that transaction. A process that waits for the lock then reads
  (READ COMMITTED) whatever the holder committed, so it adopts the rotated token instead of spending the old one.
  Why an advisory lock and not ``SELECT ... FOR UPDATE``: a row lock needs the row, and the first refresh of a
  new connection has none yet; why a *transaction* lock: the server releases it at commit, at rollback, and when
  the holder's connection dies (a crashed process never leaves it locked), and it works behind PgBouncer's
  transaction pooling, where session locks do not.
- ``save(record)``: an upsert, committed with ``synchronous_commit = on`` before it returns (durable even where
  the server's default is ``off``); inside ``locked()`` that commit also releases the lock, so the next process
  gets the lock only once the new token is durable. A failure is an ``OSError`` (the rotation then stops before
  the new access token is used; the previous refresh token lives 30 more minutes).

Waiting for the lock is bounded (``LOCK_WAIT_SECONDS``), and so is holding it (``LOCK_HOLD_SECONDS``: the server
ends a session idle in its transaction for longer, e.g. a hung process mid-refresh). ``path`` is the URL with
its password masked, for messages; no password or token ever reaches a message. The driver is psycopg 3, an
optional dependency: ``pip install 'tap-xero[postgres]'``; without it the store refuses to start and says so.
"""

from __future__ import annotations

import contextlib
import errno
import json
import threading
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from tap_xero import pg
from tap_xero.errors import ConfigError, TapXeroError, redact
from tap_xero.pg import advisory_key, psycopg, reason
from tap_xero.settings import check_postgres_url
from tap_xero.token_store import StoredToken

TABLE = "tap_xero_token_store"  # written out in the statements below (constant SQL, no formatting)
_CREATE = (
    "CREATE TABLE IF NOT EXISTS tap_xero_token_store ("
    "store_key text PRIMARY KEY, record jsonb NOT NULL, saved_at timestamptz NOT NULL DEFAULT now())"
)
_SELECT = "SELECT record FROM tap_xero_token_store WHERE store_key = %s"
_UPSERT = (
    "INSERT INTO tap_xero_token_store (store_key, record, saved_at) VALUES (%s, %s::jsonb, now()) "
    "ON CONFLICT (store_key) DO UPDATE SET record = EXCLUDED.record, saved_at = EXCLUDED.saved_at"
)
SETTING = "token_store_url"
LOCK_WAIT_SECONDS = 600  # another process's refresh: its token call, retried, lasts far less
LOCK_HOLD_SECONDS = 600  # a session idle in its refresh transaction longer than this is ended by the server


class PostgresTokenStore:
    """One row of ``tap_xero_token_store`` per connection (``store_key``). See the module docstring."""

    setting = SETTING
    fix = (
        "check token_store_url (the server must be reachable, and its user able to create, read and write the "
        f"table {TABLE})"
    )

    def __init__(self, url: str, store_key: str) -> None:
        check_postgres_url(url, SETTING)
        pg.require_driver(SETTING)
        self.url = url
        self.store_key = store_key
        self.path = f"{redact(url)} (key {store_key})"
        self._lock_key = advisory_key(f"token store:{store_key}")
        self._held = threading.local()  # the connection of this thread's locked() block, while it holds the lock
        self._table_ready = False

    # -- the store's contract ---------------------------------------------------------------------

    def load(self) -> StoredToken | None:
        held = getattr(self._held, "connection", None)
        if held is not None:
            return self._select(held)
        with self._connect(autocommit=True) as connection:
            return self._select(connection)

    def save(self, record: StoredToken) -> None:
        """Upsert ``record`` and commit it durably; inside ``locked()`` this commit ends the lock."""
        held = getattr(self._held, "connection", None)
        try:
            if held is not None:
                self._upsert(held, record)
                held.commit()  # durable now; the advisory lock goes with the transaction
                self._held.connection = None  # the block has no lock any more: later reads use their own
                return
            with self._connect(autocommit=False) as connection:
                self._upsert(connection, record)
                connection.commit()
        except ConfigError as exc:
            raise OSError(errno.EIO, str(exc)) from None
        except psycopg.Error as exc:
            raise OSError(errno.EIO, reason(exc)) from None

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the connection's advisory lock in a transaction; ``load``/``save`` inside it use that transaction."""
        connection = self._connect(autocommit=False)
        try:
            self._take_lock(connection)
            self._held.connection = connection
            try:
                yield
            finally:
                still_held = self._held.connection is not None
                self._held.connection = None
                if still_held:
                    with contextlib.suppress(psycopg.Error):
                        connection.rollback()  # nothing saved: release the lock
        finally:
            connection.close()

    # -- PostgreSQL -------------------------------------------------------------------------------

    def _connect(self, *, autocommit: bool) -> Any:  # noqa: ANN401 - psycopg.Connection (an optional import)
        connection = pg.connect(self.url, SETTING, "token store", self.fix, autocommit=autocommit)
        if not self._table_ready:
            try:
                pg.ensure_table(connection, TABLE, _CREATE)
            except psycopg.Error as exc:
                connection.close()
                problem = f"cannot create or read the table {TABLE} ({reason(exc)})"
                raise ConfigError(SETTING, problem, self.fix) from None
            self._table_ready = True
        return connection

    def _take_lock(self, connection: Any) -> None:  # noqa: ANN401 - psycopg.Connection
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('lock_timeout', %s, true), "
                    "set_config('idle_in_transaction_session_timeout', %s, true)",
                    (f"{LOCK_WAIT_SECONDS}s", f"{LOCK_HOLD_SECONDS}s"),
                )
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
        except psycopg.errors.LockNotAvailable:
            connection.close()
            raise TapXeroError(
                f"Another process has held the lock of the token store {self.path} for over {LOCK_WAIT_SECONDS} s "
                "(a refresh takes seconds). Look for a hung tap-xero process (pg_stat_activity, application_name "
                "'tap-xero token store'), stop it, and run again."
            ) from None
        except psycopg.Error as exc:
            connection.close()
            raise ConfigError(SETTING, f"cannot lock the token store {self.path} ({reason(exc)})", self.fix) from None

    def _select(self, connection: Any) -> StoredToken | None:  # noqa: ANN401 - psycopg.Connection
        try:
            with connection.cursor() as cursor:
                cursor.execute(_SELECT, (self.store_key,))
                row = cursor.fetchone()
        except psycopg.Error as exc:
            raise ConfigError(SETTING, f"cannot read the token store {self.path} ({reason(exc)})", self.fix) from None
        return _record(row[0]) if row else None

    def _upsert(self, connection: Any, record: StoredToken) -> None:  # noqa: ANN401 - psycopg.Connection
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = on")
            cursor.execute(_UPSERT, (self.store_key, json.dumps(asdict(record), sort_keys=True)))


def _record(data: object) -> StoredToken | None:
    """A stored record, or None for a damaged one (as the file store reads a damaged file)."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            return None
    if not isinstance(data, dict) or not isinstance(data.get("refresh_token"), str):
        return None
    known = StoredToken.__dataclass_fields__
    try:
        return StoredToken(**{key: value for key, value in data.items() if key in known})
    except TypeError:
        return None
