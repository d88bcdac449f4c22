"""Shared helpers for the webhook tests: events, signed POSTs, a receiver subprocess."""

from __future__ import annotations

import http.client
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from tap_xero.webhooks.signature import SIGNATURE_HEADER, sign

TEST_KEY = "test-webhook-key-Zq9wX3vB7nM2pL5kR8tY1uI4oA6sD0fG+/=="
TENANT_ID = "aef86862-2015-4b6b-88bc-d89032cecc50"

_RESOURCE = {"INVOICE": "Invoices", "CONTACT": "Contacts", "CREDITNOTE": "CreditNotes"}


def rid(label: str) -> str:
    """A fixed resource UUID for a readable label: ``rid("inv-1")`` (Xero's ids are UUIDs)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"tap-xero-test:{label}"))


def make_event(category: str = "INVOICE", resource_id: str | None = None, *, tenant_id: str = TENANT_ID,
               event_type: str = "UPDATE", date: str = "2026-11-24T08:00:00.000") -> dict:
    """A valid event; a ``resource_id`` that is not a UUID is a label turned into one (``rid``)."""
    if resource_id is None:
        resource_id = str(uuid.uuid4())
    elif not _is_uuid(resource_id):
        resource_id = rid(resource_id)
    return {
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/{_RESOURCE.get(category, 'Subscriptions')}/{resource_id}",
        "resourceId": resource_id,
        "eventDateUtc": date,
        "eventType": event_type,
        "eventCategory": category,
        "tenantId": tenant_id,
        "tenantType": "ORGANISATION",
    }


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def post(url: str, body: bytes, signature: str | None = None, key: str | None = TEST_KEY,
         headers: dict[str, str] | None = None, connection: http.client.HTTPConnection | None = None,
         ) -> tuple[int, bytes]:
    """POST ``body`` signed with ``key`` (or the given ``signature``); returns (status, body)."""
    parts = urlsplit(url)
    all_headers = {"Content-Type": "application/json"}
    if signature is None and key is not None:
        signature = sign(body, key)
    if signature is not None:
        all_headers[SIGNATURE_HEADER] = signature
    all_headers.update(headers or {})
    own = connection is None
    conn = connection or http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("POST", parts.path, body=body, headers=all_headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if own:
            conn.close()


def start_receiver_process(queue_path: Path, ready_file: Path, port: int = 0,
                           extra_env: dict[str, str] | None = None,
                           extra_args: tuple[str, ...] = (),
                           open_file_limit: int | None = None,
                           log_level: str = "DEBUG") -> tuple[subprocess.Popen, str]:
    """Run ``tap-xero-webhooks serve`` as a subprocess; returns (process, base URL).

    Its output goes to ``<ready_file>.log`` (read it with ``receiver_log``): a pipe nobody drains
    would fill up and block the receiver's logging. ``open_file_limit`` sets its RLIMIT_NOFILE (soft
    and hard, so it cannot raise it back).
    """

    def limit_open_files() -> None:
        if open_file_limit is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_file_limit, open_file_limit))

    env = {k: v for k, v in os.environ.items() if k != "PAN_SEC_XERO_WEBHOOK_KEY"}
    env.update({"TAP_XERO_WEBHOOK_KEY": TEST_KEY, **(extra_env or {})})
    ready_file.unlink(missing_ok=True)
    log = open(receiver_log_path(ready_file), "ab")  # noqa: SIM115 (handed to the child)
    process = subprocess.Popen(
        [sys.executable, "-m", "tap_xero.webhooks.cli", "serve", "--port", str(port), "--queue", str(queue_path),
         "--ready-file", str(ready_file), "--log-level", log_level, *extra_args],
        env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=limit_open_files,
    )
    log.close()  # the child holds its own descriptor
    deadline = time.monotonic() + 15
    while not ready_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise RuntimeError(f"receiver did not start: {receiver_log(ready_file)[-2000:]}")
        time.sleep(0.02)
    info = json.loads(ready_file.read_text(encoding="utf-8"))
    assert info["pid"] == process.pid and info["webhook_url"] == info["base_url"] + "/webhooks/xero"
    return process, info["base_url"]


def receiver_log_path(ready_file: Path) -> Path:
    return ready_file.with_name(ready_file.name + ".log")


def receiver_log(ready_file: Path) -> str:
    return receiver_log_path(ready_file).read_text(encoding="utf-8", errors="replace")
