"""Platform runs that always finish: the real `tap-xero` run as the integration platform runs it.

Each run gets an access token it cannot renew (``PAN_SEC_XERO_ACCESS_TOKEN``; the sandbox's clock is sped
up so that a 30-minute token lives ten real seconds) and the previous run's last stdout line
(``PAN_CTX_LAST_RUN_STD_OUT``). A run stops before its token dies, on a STATE, with exit 75; the next one
resumes there; the chain ends with exit 0 and has delivered every record.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from xero_sandbox import Sandbox
from xero_sandbox import Query

TAP_XERO = str(Path(sys.executable).parent / "tap-xero")
CLOCK_SPEED = 180  # a 30-minute token lives ten real seconds
SETTINGS = {  # what the platform's configuration would carry; the secrets come as PAN_SEC_*
    "token_refresh_margin_seconds": 2, "request_timeout": 2, "report_history_months": 6, "page_size": 50,
}
CHECKED = {"invoices": ("Invoices", "InvoiceID"), "contacts": ("Contacts", "ContactID"),
           "payments": ("Payments", "PaymentID"), "quotes": ("Quotes", "QuoteID"),
           "bank_transactions": ("BankTransactions", "BankTransactionID")}


@pytest.fixture
def sb(make_sandbox) -> Sandbox:
    # Limits off (the tap still keeps its own 60 calls a minute), and latency: a run does not finish in one token.
    return make_sandbox(scale=300, tenants=1, limits=False, minute_limit=100_000, clock_speed=CLOCK_SPEED,
                        latency_ms=40)


def platform_env(sb: Sandbox, tmp_path: Path, last_line: str | None, expires_in: int = 1800) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAN_", "TAP_XERO_"))}
    env.update(
        HOME=str(tmp_path), XDG_STATE_HOME=str(tmp_path / "state"),
        # fresh for each run, as the platform does
        PAN_SEC_XERO_ACCESS_TOKEN=sb.issue_access_token(expires_in=expires_in),
        PAN_SEC_XERO_TENANT_URL=f"https://go.xero.com/organisationlogin/default.aspx?shortcode=!x&tenant={sb.tenant_ids[0]}",
        PAN_SEC_XERO_CLIENT_ID="platform-client", PAN_SEC_XERO_CLIENT_SECRET="platform-secret",
    )
    if last_line is not None:
        env["PAN_CTX_LAST_RUN_STD_OUT"] = last_line
    return env


def start(sb: Sandbox, tmp_path: Path, last_line: str | None, expires_in: int = 1800) -> subprocess.Popen:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({**SETTINGS, "api_url": sb.api_url, "identity_url": sb.base_url}))
    return subprocess.Popen(
        [TAP_XERO, "--config", str(config)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=platform_env(sb, tmp_path, last_line, expires_in), cwd=tmp_path,
    )


def finish(process: subprocess.Popen, timeout: float = 90) -> tuple[int, list[str], str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out.splitlines(), err


def records(lines: list[str]) -> dict[str, set]:
    got: dict[str, set] = {}
    for line in lines:
        message = json.loads(line, parse_float=Decimal)
        if message["type"] == "RECORD" and message["stream"] in CHECKED:
            got.setdefault(message["stream"], set()).add(message["record"][CHECKED[message["stream"]][1]])
    return got


def held_by(sb: Sandbox) -> dict[str, set]:
    """What the sandbox holds (from its store, not over the API)."""
    tenant = sb.tenant_ids[0]
    held: dict[str, set] = {}
    for stream, (key, id_field) in CHECKED.items():
        ids, page = set(), 1
        while True:
            batch = sb.store.list(tenant, key, Query(page=page, page_size=1000, include_archived=True)).records
            ids.update(record[id_field] for record in batch)
            if len(batch) < 1000:
                break
            page += 1
        held[stream] = ids
    return held


def resume_until_done(sb: Sandbox, tmp_path: Path, last_line: str, delivered: dict[str, set]) -> str:
    """Platform runs from ``last_line`` until one exits 0 (each other one 75), their records added to
    ``delivered``; the last run's last line."""
    for _ in range(12):
        status, lines, err = finish(start(sb, tmp_path, last_line))
        for stream, ids in records(lines).items():
            delivered.setdefault(stream, set()).update(ids)
        last_line = lines[-1]
        if status == 0:
            return last_line
        assert status == 75, err[-2000:]
    raise AssertionError("no run of twelve finished")


def test_a_chain_of_platform_runs_ends_with_exit_0_and_every_record(sb: Sandbox, tmp_path: Path) -> None:
    last_line: str | None = None
    delivered: dict[str, set] = {}
    statuses = []
    for _ in range(12):
        status, lines, err = finish(start(sb, tmp_path, last_line))
        statuses.append(status)
        assert lines and json.loads(lines[-1])["type"] == "STATE", (status, err[-1500:])  # always ends on a STATE
        for stream, ids in records(lines).items():
            delivered.setdefault(stream, set()).update(ids)
        last_line = lines[-1]
        if status == 0:
            break
        assert status == 75, err[-2000:]
        assert "expires at" in err and "fresh token" in err  # one clear line: why, and that the next run resumes
        assert "even after" not in err  # never claims a refresh that did not happen
    assert statuses[-1] == 0 and len(statuses) >= 2, statuses  # it needed several runs, and it finished
    held = held_by(sb)
    for stream, ids in held.items():
        assert ids and ids <= delivered.get(stream, set()), f"{stream}: {len(ids - delivered.get(stream, set()))} lost"
    final = json.loads(last_line)["value"]
    reports = final["bookmarks"]["report_trial_balance"]["partitions"][0]["report_months"]
    assert reports["pending"] == []  # every report month was read across the runs


def test_a_sigterm_mid_run_still_ends_on_a_state_and_the_next_run_resumes(sb: Sandbox, tmp_path: Path) -> None:
    process = start(sb, tmp_path, None)
    time.sleep(2.5)  # well into the paged streams
    process.send_signal(signal.SIGTERM)
    status, lines, err = finish(process)
    assert status == 143, err[-2000:]
    assert json.loads(lines[-1])["type"] == "STATE" and "SIGTERM" in err
    first = records(lines)
    assert sum(len(ids) for ids in first.values()) > 0  # it had written records before the signal
    delivered = {stream: set(ids) for stream, ids in first.items()}
    resume_until_done(sb, tmp_path, lines[-1], delivered)
    for stream, ids in held_by(sb).items():
        assert ids <= delivered.get(stream, set()), stream


def test_a_garbage_last_line_is_ignored_with_one_warning(sb: Sandbox, tmp_path: Path) -> None:
    process = start(sb, tmp_path, '{"type": "RECORD", "stream": "invoices", "rec')  # a line cut short
    time.sleep(1.5)
    process.send_signal(signal.SIGTERM)
    status, lines, err = finish(process)
    assert err.count("PAN_CTX_LAST_RUN_STD_OUT") == 1 and "ignored" in err
    assert status in (0, 75, 143) and json.loads(lines[-1])["type"] == "STATE"


def test_a_bad_setting_hands_the_platforms_state_on_unchanged(tmp_path: Path) -> None:
    state = {"bookmarks": {"invoices": {"partitions": [{"context": {"tenant_id": "t"}, "replication_key_value": "x"}]}}}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAN_", "TAP_XERO_"))}
    env.update(HOME=str(tmp_path), PAN_SEC_XERO_ACCESS_TOKEN="x",
               PAN_CTX_LAST_RUN_STD_OUT=json.dumps({"type": "STATE", "value": state}))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"page_size": 5000}))
    done = subprocess.run([TAP_XERO, "--config", str(config)], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2 and "page_size" in done.stderr
    assert [json.loads(line) for line in done.stdout.splitlines()] == [{"type": "STATE", "value": state}]


@pytest.mark.parametrize("refused_with", [400, 403])
def test_a_request_refused_mid_run_ends_on_a_state_and_the_next_run_resumes(sb: Sandbox, tmp_path: Path,
                                                                             refused_with: int) -> None:
    sb.faults.add(f"refuse:status={refused_with},path=Payments,after=1")  # one page of payments, then refused
    # A token that outlives the run, so that the refusal comes in the first run, after its first page of
    # payments (a run stopped at the token's deadline first could have read that page ahead and not written it).
    status, lines, err = finish(start(sb, tmp_path, None, expires_in=1800 * CLOCK_SPEED))
    assert status == 1 and lines and json.loads(lines[-1])["type"] == "STATE", (status, err[-1500:])
    assert "Traceback" not in err
    assert f"({refused_with} on Payments)" in err.strip().splitlines()[-1]  # one line: what Xero refused
    delivered = records(lines)
    assert delivered.get("payments"), "the refusal came after a page of payments was written"
    sb.faults.clear()
    resume_until_done(sb, tmp_path, lines[-1], delivered)  # each run a fresh limiter: quick
    for stream, ids in held_by(sb).items():  # the refused run's STATE claimed only what it had written
        assert ids <= delivered.get(stream, set()), f"{stream}: {len(ids - delivered.get(stream, set()))} lost"
