"""Fixtures for the end-to-end tests: the real `meltano` CLI, the real PostgreSQL, the sandbox in-process.

- ``meltano_ready``: .venv-meltano and the Meltano plugins, installed by scripts/demo_setup.sh (the same
  idempotent setup the README's commands use), so these tests also run from a bare checkout.
- ``pg``: a fresh database ``tapxero_e2e_<random>`` on 127.0.0.1:5432, dropped afterwards. Queries go
  through the ``psql`` client that ships with PostgreSQL, so the tap's venv needs no database driver.
- ``MeltanoProject``: runs ``meltano --environment=sandbox ...`` in the repository with an environment
  of its own: a temporary system database (state), the sandbox's URL and credentials, a temporary
  token store, and the loaders pointed at the test database and a temporary DuckDB file.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tap_xero.errors import redact

ROOT = Path(__file__).resolve().parents[2]
MELTANO = ROOT / ".venv-meltano" / "bin" / "meltano"
DUCKDB_PYTHON = ROOT / ".meltano" / "loaders" / "target-duckdb" / "venv" / "bin" / "python"
# Where the warehouse server is; the defaults are the CI machine's (trust authentication).
PG_HOST = os.environ.get("TAP_XERO_TEST_PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("TAP_XERO_TEST_PG_PORT", "5432")
PG_USER = os.environ.get("TAP_XERO_TEST_PG_USER", "postgres")
PG_PASSWORD = os.environ.get("TAP_XERO_TEST_PG_PASSWORD", "")
SCHEMA = "xero"

def _load_script(name: str):
    """A module from scripts/ (not a package), so the tests use the demo's own helpers."""
    spec = importlib.util.spec_from_file_location(f"scripts_{name}", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


duckdb_key_stream_maps = _load_script("demo_credentials").duckdb_key_stream_maps
# Columns the target adds; everything else in a row came from Xero.
SDC_COLUMNS = (
    "_sdc_extracted_at", "_sdc_received_at", "_sdc_batched_at", "_sdc_deleted_at",
    "_sdc_sequence", "_sdc_table_version", "_sdc_sync_started_at",
)
# Variables from the developer's shell that would change what Meltano, the tap or the targets do.
_FOREIGN_VARIABLES = re.compile(
    r"^(MELTANO_|TAP_XERO_|TARGET_POSTGRES_|TARGET_DUCKDB_|DBT_|PAN_SEC_|PAN_CFG_|PAN_CTX_)")


@pytest.fixture(scope="session")
def meltano_ready() -> Path:
    """Meltano and its plugins, installed exactly as scripts/demo.sh and scripts/test.sh do it."""
    result = subprocess.run(
        ["bash", "-c", 'set -euo pipefail; source scripts/demo_setup.sh; setup_all'],
        cwd=ROOT, capture_output=True, text=True, timeout=1200,
    )
    assert result.returncode == 0, f"setup failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert MELTANO.exists()
    return MELTANO


class Postgres:
    """One database on the local server, queried with psql."""

    def __init__(self, database: str) -> None:
        self.database = database

    def _psql(self, sql: str, database: str | None = None) -> str:
        result = subprocess.run(
            ["psql", "-h", PG_HOST, "-p", PG_PORT, "-U", PG_USER, "-d", database or self.database,
             "-X", "-q", "-A", "-t", "-F", "\x1f", "-v", "ON_ERROR_STOP=1", "-c", sql],
            capture_output=True, text=True, timeout=120, env={**os.environ, "PGPASSWORD": PG_PASSWORD},
        )
        if result.returncode != 0:
            raise AssertionError(f"psql failed: {result.stderr.strip()}\n{sql}")
        return result.stdout

    def rows(self, sql: str) -> list[tuple[str, ...]]:
        return [tuple(line.split("\x1f")) for line in self._psql(sql).splitlines() if line]

    def scalar(self, sql: str) -> str:
        rows = self.rows(sql)
        assert len(rows) == 1 and len(rows[0]) == 1, f"expected one value from {sql!r}, got {rows!r}"
        return rows[0][0]

    def tables(self, schema: str = SCHEMA) -> set[str]:
        return {name for (name,) in self.rows(
            f"select table_name from information_schema.tables where table_schema = '{schema}'"
        )}

    def row_counts(self, schema: str = SCHEMA) -> dict[str, int]:
        return {name: int(self.scalar(f'select count(*) from "{schema}"."{name}"')) for name in self.tables(schema)}

    def column_types(self, table: str, schema: str = SCHEMA) -> dict[str, str]:
        """{column: type}: information_schema's data_type, or for arrays the element type plus '[]'."""
        return {name: f"{udt.lstrip('_')}[]" if kind == "ARRAY" else kind for name, kind, udt in self.rows(
            "select column_name, data_type, udt_name from information_schema.columns "
            f"where table_schema = '{schema}' and table_name = '{table}'"
        )}

    def row_fingerprints(self, table: str, key_columns: tuple[str, ...], schema: str = SCHEMA) -> dict:
        """{primary key: md5 of the row without the target's _sdc_ columns}."""
        keys = ", ".join(f'"{c}"' for c in key_columns)
        dropped = ", ".join(f"'{c}'" for c in SDC_COLUMNS)
        rows = self.rows(
            f"select {keys}, md5((to_jsonb(t) - array[{dropped}])::text) from \"{schema}\".\"{table}\" t"
        )
        return {tuple(row[:-1]): row[-1] for row in rows}


@pytest.fixture(scope="session")
def pg() -> Postgres:
    database = f"tapxero_e2e_{secrets.token_hex(4)}"
    admin = Postgres("postgres")
    admin._psql(f'create database "{database}"')
    try:
        yield Postgres(database)
    finally:
        admin._psql(f'drop database if exists "{database}" with (force)')


@dataclass
class MeltanoResult:
    returncode: int
    output: str  # stdout and stderr, secrets redacted
    stdout: str


@dataclass
class MeltanoProject:
    """Runs the real meltano CLI on this repository's meltano.yml, isolated from the developer's state."""

    workdir: Path
    sandbox_url: str
    client_id: str
    client_secret: str
    refresh_token: str
    database: str
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def token_store(self) -> Path:
        return self.workdir / "tokens.json"

    @property
    def duckdb_path(self) -> Path:
        return self.workdir / "xero.duckdb"

    @property
    def sys_dir(self) -> Path:
        """A .meltano of our own: Meltano writes each run's config and catalog under <sys dir>/run/, so
        two test sessions sharing the checkout's .meltano would overwrite each other's files. The
        installed plugin venvs are shared through symlinks."""
        sys_dir = self.workdir / "meltano-sys"
        if not sys_dir.exists():
            sys_dir.mkdir()
            for kind in ("extractors", "loaders", "transformers"):
                (sys_dir / kind).symlink_to(ROOT / ".meltano" / kind, target_is_directory=True)
        return sys_dir

    def env(self, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not _FOREIGN_VARIABLES.match(k)}
        env.update({
            "MELTANO_PROJECT_ROOT": str(ROOT),
            "MELTANO_SYS_DIR_ROOT": str(self.sys_dir),
            "MELTANO_DATABASE_URI": f"sqlite:///{self.workdir / 'meltano.db'}",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "MELTANO_ENVIRONMENT": "sandbox",
            "XERO_SANDBOX_URL": self.sandbox_url,
            "TAP_XERO_CLIENT_ID": self.client_id,
            "TAP_XERO_CLIENT_SECRET": self.client_secret,
            "TAP_XERO_REFRESH_TOKEN": self.refresh_token,
            "TAP_XERO_TOKEN_STORE_PATH": str(self.token_store),
            "TARGET_POSTGRES_HOST": PG_HOST,
            "TARGET_POSTGRES_PORT": PG_PORT,
            "TARGET_POSTGRES_USER": PG_USER,
            "TARGET_POSTGRES_PASSWORD": PG_PASSWORD or "unused-with-trust-auth",
            "TARGET_POSTGRES_DATABASE": self.database,
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": SCHEMA,
            "TARGET_DUCKDB_FILEPATH": str(self.duckdb_path),
            "TARGET_DUCKDB_DEFAULT_TARGET_SCHEMA": SCHEMA,
            "DBT_POSTGRES_HOST": PG_HOST,
            "DBT_POSTGRES_PORT": PG_PORT,
            "DBT_POSTGRES_USER": PG_USER,
            "DBT_POSTGRES_PASSWORD": PG_PASSWORD,
            "DBT_POSTGRES_DBNAME": self.database,
            "DBT_POSTGRES_SOURCE_SCHEMA": SCHEMA,
            "DBT_DUCKDB_PATH": str(self.duckdb_path),
            "DBT_DUCKDB_SOURCE_SCHEMA": SCHEMA,
            # dbt writes its compiled SQL and logs here, not into the checkout's transform/.
            "DBT_TARGET_PATH": str(self.workdir / "dbt-target"),
            "DBT_LOG_PATH": str(self.workdir / "dbt-logs"),
        })
        env.update(self.extra_env)
        env.update(overrides)
        return env

    def meltano(self, *args: str, timeout: float = 600, **env_overrides: str) -> MeltanoResult:
        result = subprocess.run(
            [str(MELTANO), *args], cwd=ROOT, env=self.env(**env_overrides),
            capture_output=True, text=True, timeout=timeout,
        )
        output = redact(result.stdout + result.stderr)
        for secret in (self.client_secret, self.refresh_token):
            output = output.replace(secret, "***")
        return MeltanoResult(result.returncode, output, result.stdout)

    def run(self, *blocks: str, expect_ok: bool = True, **env_overrides: str) -> MeltanoResult:
        result = self.meltano("run", *blocks, **env_overrides)
        if expect_ok:
            assert result.returncode == 0, f"meltano run {' '.join(blocks)} failed:\n{result.output[-6000:]}"
        return result

    def state(self, state_id: str) -> dict:
        result = self.meltano("state", "get", state_id)
        assert result.returncode == 0, result.output[-3000:]
        # `meltano state get` prints the state as JSON on stdout (its logs go to stderr).
        return json.loads(result.stdout)

    def duckdb_counts(self) -> dict[str, int]:
        """Rows per table of the DuckDB file, read with the target-duckdb venv's own duckdb."""
        script = (
            "import duckdb, json, sys\n"
            "sys.path.insert(0, sys.argv[2])\n"
            "from demo_summary import table_row_counts\n"
            "with duckdb.connect(sys.argv[1], read_only=True) as c:\n"
            "    print(json.dumps(table_row_counts(c, sys.argv[3])))\n"
        )
        result = subprocess.run(
            [str(DUCKDB_PYTHON), "-c", script, str(self.duckdb_path), str(ROOT / "scripts"), SCHEMA],
            capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout)
