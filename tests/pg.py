"""The PostgreSQL the tests use: CI's server on 127.0.0.1:5432 (trust authentication), or the one the
``TAP_XERO_TEST_PG_*`` variables name. Every test works in a database or schema of its own and drops it.

``scratch_database(purpose)`` creates ``tapxero_<purpose>_<random>`` and yields its URL (dropped on exit, even
while sessions are still connected); ``schema_url(url, schema)`` is the same database with ``schema`` first on
the ``search_path`` (libpq's ``options``), which is how a user puts the tap's table in a schema of its choice.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from urllib.parse import quote

PG_HOST = os.environ.get("TAP_XERO_TEST_PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("TAP_XERO_TEST_PG_PORT", "5432")
PG_USER = os.environ.get("TAP_XERO_TEST_PG_USER", "postgres")
PG_PASSWORD = os.environ.get("TAP_XERO_TEST_PG_PASSWORD", "")


def database_url(database: str) -> str:
    password = f":{quote(PG_PASSWORD, safe='')}" if PG_PASSWORD else ""
    return f"postgresql://{quote(PG_USER, safe='')}{password}@{PG_HOST}:{PG_PORT}/{database}"


def schema_url(url: str, schema: str) -> str:
    return f"{url}?options=-csearch_path%3D{schema}"


def connect(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True, connect_timeout=10)


@contextlib.contextmanager
def scratch_database(purpose: str) -> Iterator[str]:
    name = f"tapxero_{purpose}_{secrets.token_hex(4)}"
    try:
        admin = connect(database_url("postgres"))
    except Exception as exc:  # any failure to connect means the same to the reader
        raise AssertionError(
            f"these tests need PostgreSQL at {PG_HOST}:{PG_PORT} as {PG_USER} ({type(exc).__name__}); see the "
            "README (PostgreSQL) to run one, or set TAP_XERO_TEST_PG_HOST/PORT/USER/PASSWORD"
        ) from None
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(name)
    finally:
        with connect(database_url("postgres")) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
