"""PostgreSQL for the tap's shared mechanisms (the token store, the app-wide limiter): the driver and its errors.

- ``psycopg``: psycopg 3, or None when the optional extra is not installed; ``require_driver(setting)`` turns
  that into a ConfigError naming the setting and ``pip install 'tap-xero[postgres]'``.
- ``connect(url, setting, what, fix, autocommit)``: a connection with a bounded connect timeout, an
  ``application_name`` that says which mechanism holds it, and no server-side prepared statements (so it works
  behind PgBouncer's transaction pooling); a failure is a ConfigError naming the setting, with the URL's
  password masked.
- ``ensure_table(connection, name, ddl)``: ``CREATE TABLE IF NOT EXISTS`` under an advisory lock, so that
  processes starting together do not race PostgreSQL's catalog (which answers such a race with an error).
- ``advisory_key(name)``: a signed 64-bit advisory-lock key, namespaced ("tap-xero:") so it never meets another
  program's keys in a shared database.
- ``reason(exc)``: the driver's first line, passwords masked.
"""

from __future__ import annotations

import hashlib
from typing import Any

from tap_xero.errors import ConfigError, redact

try:
    import psycopg
except ImportError:  # the optional extra is not installed: require_driver says what to install
    psycopg = None  # type: ignore[assignment]

INSTALL_HINT = "pip install 'tap-xero[postgres]' (under Meltano: pip_url: -e .[postgres], or tap-xero[postgres])"
CONNECT_TIMEOUT_SECONDS = 10


def require_driver(setting: str) -> None:
    if psycopg is None:
        raise ConfigError(setting, "needs the PostgreSQL driver psycopg, which is not installed", INSTALL_HINT)


def advisory_key(name: str) -> int:
    digest = hashlib.sha256(f"tap-xero:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return redact(text.splitlines()[0] if text else type(exc).__name__)[:300]


def connect(url: str, setting: str, what: str, fix: str, *, autocommit: bool) -> Any:  # noqa: ANN401 - psycopg.Connection
    """A connection for ``what`` (e.g. "token store"); ConfigError naming ``setting`` when it cannot be had."""
    require_driver(setting)
    try:
        # No server-side prepared statements (prepare_threshold=None): they break behind PgBouncer's transaction
        # pooling, and the statements are cheap to plan.
        return psycopg.connect(
            url, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT_SECONDS, application_name=f"tap-xero {what}",
            prepare_threshold=None,
        )
    except psycopg.Error as exc:
        raise ConfigError(setting, f"cannot connect to the {what} at {redact(url)} ({reason(exc)})", fix) from None


def ensure_table(connection: Any, name: str, ddl: str) -> None:  # noqa: ANN401 - psycopg.Connection
    """Create table ``name`` with ``ddl`` unless it exists; commits when the connection is in a transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", (name,))
        row = cursor.fetchone()
        if not (row and row[0]):
            with connection.transaction():
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", (advisory_key(f"create table {name}"),))
                cursor.execute(ddl)
    if not connection.autocommit:
        connection.commit()
