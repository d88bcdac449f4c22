"""Issue #14's test of the shared token store: four `tap-xero` processes that share only PostgreSQL.

Each process reads its own organisation (a shard), with its own empty home and working folder, so nothing but
the token store in PostgreSQL connects them. The sandbox's clock runs 60 times fast: an access token lives 30 s
and a rotated-out refresh token dies 30 s after its successor was issued, so a process that ever spent a stale
refresh token, or lost a rotated one, would fail within the run. All four finish, every record is there, the
rotations form one chain (as many grants as links in the stored lineage: no token was ever spent twice), and a
fifth run, configured with no refresh token at all and long after the others, still connects with the stored one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tap_xero.settings import app_store_name
from tests.pg import connect, scratch_database

pytestmark = pytest.mark.postgres

TAP_XERO = str(Path(sys.executable).parent / "tap-xero")
PROCESSES = 4
STREAMS = ("invoices", "contacts")
GRACE = 1800  # sandbox seconds a rotated-out refresh token keeps working


def clean_env(home: Path, **variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAN_", "TAP_XERO_", "PG"))}
    env.update(HOME=str(home), XDG_STATE_HOME=str(home / "state"), **variables)
    return env


def catalog_selecting(discovered: dict, names: tuple[str, ...], folder: Path) -> str:
    """``folder``/catalog.json: the discovered catalog with only ``names`` selected (each machine has its own)."""
    catalog = json.loads(json.dumps(discovered))
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] in names
    path = folder / "catalog.json"
    path.write_text(json.dumps(catalog))
    return str(path)


def record_ids(stdout: str) -> dict[str, set[tuple[str, str]]]:
    keys = {"invoices": "InvoiceID", "contacts": "ContactID"}
    found: dict[str, set[tuple[str, str]]] = {name: set() for name in keys}
    for line in stdout.splitlines():
        if not line.startswith("{"):
            continue
        message = json.loads(line)
        if message.get("type") == "RECORD" and message["stream"] in keys:
            record = message["record"]
            found[message["stream"]].add((record["tenant_id"], record[keys[message["stream"]]]))
    return found


def test_four_processes_sharing_only_postgresql_rotate_one_chain_and_a_fifth_run_still_connects(
    make_sandbox, tmp_path_factory
):
    # 4 organisations, one per process; 0.7 s a response and one call at a time, so that each run (some 65
    # calls) outlives a 30-second access token.
    sb = make_sandbox(scale=150, tenants=PROCESSES, limits=False, clock_speed=60.0, latency_ms=700)
    configured = sb.issue_refresh_token()
    with scratch_database("shared_runs") as url:
        base = {
            "TAP_XERO_CLIENT_ID": sb.client_id, "TAP_XERO_CLIENT_SECRET": sb.client_secret,
            "TAP_XERO_IDENTITY_URL": sb.base_url, "TAP_XERO_API_URL": sb.api_url, "TAP_XERO_TOKEN_STORE_URL": url,
            "TAP_XERO_PAGE_SIZE": "10", "TAP_XERO_MAX_CONCURRENT_REQUESTS": "1",
        }
        homes = [tmp_path_factory.mktemp(f"machine{index}") for index in range(PROCESSES + 1)]
        discovered = json.loads(subprocess.run(
            [TAP_XERO, "--discover"], capture_output=True, text=True, timeout=60, cwd=homes[0],
            env=clean_env(homes[0]),
        ).stdout)
        catalogs = [catalog_selecting(discovered, STREAMS, home) for home in homes[:PROCESSES]]
        catalogs.append(catalog_selecting(discovered, ("accounts",), homes[PROCESSES]))  # one call is enough
        token_calls = sb.requests()["token"]
        began = time.monotonic()
        runs = [
            subprocess.Popen(
                [TAP_XERO, "--config", "ENV", "--catalog", catalogs[index]], cwd=homes[index],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                env=clean_env(homes[index], **base, TAP_XERO_REFRESH_TOKEN=configured,
                              TAP_XERO_TENANT_IDS=json.dumps([sb.tenant_ids[index]])),
            )
            for index in range(PROCESSES)
        ]
        outputs = [run.communicate(timeout=600) for run in runs]
        took = time.monotonic() - began
        for run, (_, stderr) in zip(runs, outputs, strict=True):
            assert run.returncode == 0, stderr[-3000:]
        assert took > 35, f"the runs took {took:.0f} s: too short to outlive a 30 s access token"

        # Nothing missing: every invoice and contact of every organisation, each from its own process.
        counts = sb.counts()
        for index, (stdout, _) in enumerate(outputs):
            tenant = sb.tenant_ids[index]
            found = record_ids(stdout)
            assert {t for t, _ in found["invoices"] | found["contacts"]} == {tenant}
            assert len(found["invoices"]) == counts[tenant]["Invoices"]
            assert len(found["contacts"]) == counts[tenant]["Contacts"]

        # One chain: every grant spent the newest token, and the store remembers each one it replaced.
        grants = sb.requests()["token"] - token_calls
        with connect(url) as connection:
            record = connection.execute(
                "SELECT record FROM tap_xero_token_store WHERE store_key = %s", (app_store_name(sb.client_id),)
            ).fetchone()[0]
        assert grants >= 2, f"only {grants} rotation(s): the access tokens did not expire during the runs"
        assert len(record["lineage"]) == grants
        # Shared, not separate: four processes each rotating for themselves would need about four times as many.
        assert grants <= took / 10

        # Nothing on the "machines" but their catalogs: the token lived in PostgreSQL only.
        for home in homes:
            assert sorted(p.name for p in home.rglob("*")) == ["catalog.json"]

        # A fifth run long after (every rotated-out token dead), configured with no refresh token at all.
        sb.clock.advance(GRACE + 60)
        fifth = subprocess.run(
            [TAP_XERO, "--config", "ENV", "--catalog", catalogs[PROCESSES]], cwd=homes[PROCESSES],
            capture_output=True, text=True, timeout=300,
            env=clean_env(homes[PROCESSES], **base, TAP_XERO_TENANT_IDS=json.dumps([sb.tenant_ids[0]])),
        )
        assert fifth.returncode == 0, fifth.stderr[-3000:]
        assert '"stream":"accounts"' in fifth.stdout.replace(" ", "")
        assert sb.requests()["token"] > token_calls + grants  # it refreshed with the stored token
        for stdout, stderr in [*outputs, (fifth.stdout, fifth.stderr)]:
            for secret in (configured, sb.client_secret, record["refresh_token"], record["access_token"]):
                assert secret not in stdout + stderr
