"""Every capability `tap-xero --about` advertises, working through the tap's own paths, over HTTP against the sandbox.

catalog, state, discover and about are exercised everywhere (test_streams_sync, test_tap_cli, test_client);
stream maps and flattening byte for byte in test_output. Here: the list itself, batch files (parents and their
child tables, the STATE after the files it covers), structured logging (every line JSON, progress and summary
included), and the refusal of activate-version.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from xero_sandbox import Sandbox
from tap_xero.tap import TapXero
from tests.capture import sync_selected

TAP_XERO = str(Path(sys.executable).parent / "tap-xero")
ADVERTISED = ["catalog", "state", "discover", "about", "stream-maps", "schema-flattening", "batch",
              "structured-logging"]


def test_the_advertised_capabilities_are_the_tested_ones(tmp_path: Path) -> None:
    about = subprocess.run([TAP_XERO, "--about", "--format", "json"], capture_output=True, text=True, timeout=60)
    assert json.loads(about.stdout)["capabilities"] == ADVERTISED  # activate-version is not advertised


def test_activate_version_is_refused_with_the_reason() -> None:
    from tap_xero.errors import ConfigError

    with pytest.raises(ConfigError, match="emit_activate_version_messages") as refused:
        TapXero(config={"access_token": "t", "emit_activate_version_messages": True})
    assert "live rows" in str(refused.value)


def config(sb: Sandbox, **extra) -> dict:
    return {"access_token": sb.issue_access_token(), "api_url": sb.api_url, "identity_url": sb.base_url,
            "tenant_ids": sb.tenant_ids, **extra}


def batch_rows(message: dict) -> list[dict]:
    rows = []
    for url in message["manifest"]:
        path = Path(url.removeprefix("file://"))
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as handle:
            rows += [json.loads(line) for line in handle]
    return rows


def test_batch_mode_writes_parents_and_their_child_rows_to_files_before_the_state(sandbox, tmp_path: Path) -> None:
    batch = {"encoding": {"format": "jsonl", "compression": "gzip"},
             "storage": {"root": f"file://{tmp_path}", "prefix": "batch-"}, "batch_size": 70}
    messages, error = sync_selected(TapXero(config=config(sandbox, batch_config=batch, page_size=50)),
                                    {"invoices", "invoice_line_items"})
    assert error is None
    assert not [m for m in messages if m["type"] == "RECORD"]  # nothing as RECORD messages, children included
    batches = [m for m in messages if m["type"] == "BATCH"]
    invoices = [row for m in batches if m["stream"] == "invoices" for row in batch_rows(m)]
    lines = [row for m in batches if m["stream"] == "invoice_line_items" for row in batch_rows(m)]
    served = sandbox.counts()
    assert len({(r["tenant_id"], r["InvoiceID"]) for r in invoices}) == sum(c["Invoices"] for c in served.values())
    want_lines = {(r["tenant_id"], r["InvoiceID"]) for r in invoices if r.get("LineItems")}
    assert {(r["tenant_id"], r["InvoiceID"]) for r in lines} == want_lines and lines
    assert all("line_number" in r for r in lines)
    # Every STATE comes after the batch files of the records it covers, children included: no STATE before a
    # parent's BATCH whose children are not yet written, and the first BATCH of the children precedes the parents'.
    kinds = [(m["type"], m.get("stream")) for m in messages]
    first_parent = kinds.index(("BATCH", "invoices"))
    assert ("BATCH", "invoice_line_items") in kinds[:first_parent]
    for index, (kind, _) in enumerate(kinds):
        if kind == "STATE" and index < first_parent:
            state = messages[index]["value"]
            assert "replication_key_value" not in json.dumps(state.get("bookmarks", {}).get("invoices", {}))
    assert messages[-1]["type"] == "STATE"


def test_structured_logging_makes_every_stderr_line_json_progress_and_summary_included(
    sandbox, tmp_path: Path
) -> None:
    log_config = tmp_path / "logging.yml"
    log_config.write_text(
        "version: 1\ndisable_existing_loggers: false\n"
        "formatters:\n  structured:\n    (): singer_sdk.logging.StructuredFormatter\n"
        "handlers:\n  stderr:\n    class: logging.StreamHandler\n    formatter: structured\n    stream: ext://sys.stderr\n"
        "root:\n  level: INFO\n  handlers: [stderr]\n"
    )
    (tmp_path / "config.json").write_text(json.dumps(config(sandbox)))
    catalog = TapXero(config={}, validate_config=False).catalog_dict
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] == "currencies"
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("PAN_", "TAP_XERO_"))},
           "SINGER_SDK_LOG_CONFIG": str(log_config), "HOME": str(tmp_path)}
    done = subprocess.run(
        [TAP_XERO, "--config", str(tmp_path / "config.json"), "--catalog", str(tmp_path / "catalog.json")],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line parses: nothing printed around the logging
    messages = [record.get("message", "") for record in records]
    assert any(message.startswith("summary:") for message in messages)
    assert any("API calls in total" in message for message in messages)
