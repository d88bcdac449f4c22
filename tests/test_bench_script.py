"""The benchmark script: its arithmetic, and a tiny end-to-end run that prints every figure it promises.

No timing is asserted: these tests check that the benchmark measures and reports, not how fast.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tap_xero import endpoints

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "scripts" / "bench.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


bench = load_bench()


@pytest.mark.parametrize(
    ("endpoint", "records", "calls"),
    [
        (endpoints.INVOICES, 0, 1),  # an empty collection still takes one call to learn it is empty
        (endpoints.INVOICES, 1000, 1),  # pagination says there is one page: no extra call
        (endpoints.INVOICES, 1001, 2),
        (endpoints.INVOICES, 10_000, 10),
        (endpoints.QUOTES, 0, 1),  # page only, 100 a page: the end shows as a short page
        (endpoints.QUOTES, 99, 1),
        (endpoints.QUOTES, 100, 2),
        (endpoints.JOURNALS_ENDPOINT, 250, 3),
        (endpoints.ACCOUNTS, 5000, 1),  # unpaged: one call whatever the size
    ],
)
def test_minimum_calls_per_endpoint(endpoint, records, calls):
    assert bench.minimum_calls_for(endpoint, records) == calls


def test_minimum_calls_adds_the_token_call():
    assert bench.minimum_calls([{"Invoices": 2500, "Accounts": 40, "Journals": 100}]) == 1 + 3 + 1 + 2
    # Each tenant pages on its own: two tenants of 1,500 invoices take 2 + 2 calls, not 3.
    assert bench.minimum_calls([{"Invoices": 1500}, {"Invoices": 1500}]) == 1 + 2 + 2


def test_incremental_minimum_rereads_only_what_cannot_be_filtered():
    records = {"Invoices": 5000, "LinkedTransactions": 250, "Currencies": 3}
    changed = {"Invoices": 20, "LinkedTransactions": 2}
    # Invoices honour If-Modified-Since (1 call for 20 changes); LinkedTransactions ignores it
    # (all 250 again: 3 calls); Currencies has no filter (1 call); the saved access token may
    # still be valid, so no token call is needed.
    assert bench.incremental_minimum_calls([records], [changed]) == 1 + 3 + 1


def test_the_report_minimum_is_twelve_months_a_call_where_xero_takes_periods():
    # Three reports take periods (twelve months a call), three do not (one a month).
    assert bench.minimum_report_calls(24) == 3 * 2 + 3 * 24
    assert bench.minimum_report_calls(13) == 3 * 2 + 3 * 13
    assert bench.minimum_report_calls(1) == 6
    # The profit and loss by tracking category: a month a call, once per active category.
    assert bench.minimum_report_calls(24, tracking_categories=2) == 3 * 2 + 3 * 24 + 24 * 2


def test_an_organisations_bound_is_its_calls_at_sixty_a_minute_and_five_at_once():
    assert bench.organisation_bound_s(0, 0.2) == 0
    assert bench.organisation_bound_s(5, 0.2) == pytest.approx(0.2)
    assert bench.organisation_bound_s(60, 0.2) == pytest.approx(2.4)
    assert bench.organisation_bound_s(61, 0.2) == pytest.approx(60.2)  # call 61 starts a minute after call 1
    assert bench.organisation_bound_s(148, 0.2) == pytest.approx(121.2)  # the 40-organisation bound


def test_snake_case_matches_the_singerio_stream_ids():
    assert bench.snake_case("CreditNotes") == "credit_notes"
    assert bench.snake_case("Invoices") == "invoices"
    assert [p for p in bench.STANDARD_MIX if p not in endpoints.BY_PATH] == []


def test_reader_counts_records_and_keeps_the_last_state():
    lines = "\n".join(json.dumps(m) for m in [
        {"type": "SCHEMA", "stream": "invoices", "schema": {}, "key_properties": []},
        {"type": "RECORD", "stream": "invoices", "record": {"InvoiceID": "a"}},
        {"type": "RECORD", "stream": "invoices", "record": {"InvoiceID": "b"}},
        {"type": "STATE", "value": {"bookmarks": {"invoices": 1}}},
        {"type": "RECORD", "stream": "contacts", "record": {"ContactID": "c"}},
        {"type": "STATE", "value": {"bookmarks": {"invoices": 2}}},
    ]) + "\n"
    result = subprocess.run([sys.executable, "-c", bench.READER_CODE], input=lines.encode(),
                            capture_output=True, check=True)
    summary = json.loads(result.stdout)
    assert summary["records"] == {"invoices": 2, "contacts": 1}
    assert summary["state"] == {"bookmarks": {"invoices": 2}}
    assert summary["lines"] == 6


def test_quick_run_prints_and_writes_every_promised_figure(tmp_path):
    out = tmp_path / "results.json"
    result = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--which", "both", "--json", str(out),
         "--workdir", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = result.stdout
    for heading in ("full API calls", "incremental API calls", "full physical minimum", "calls / minimum",
                    "records / CPU-s",
                    "peak RSS MB", "under Xero's limits", "scaled back to real seconds", "Peak RSS (MB) by scale",
                    "ratios ours/singer-io", "Run cost", "incremental, 1% of invoices changed", "of which reports",
                    "changed invoices re-emitted", "Many organisations in one process",
                    "A first sync under call_budget"):
        assert heading in report, heading

    results = json.loads(out.read_text())
    calls = results["calls"]
    for tap in ("ours", "singerio"):
        full, incremental = calls["full"][tap], calls["incremental"][tap]
        assert full["minimum_calls"] > 1 and full["calls_vs_minimum"] > 0
        assert full["records"] > 0 and full["api_calls"] >= 1 and full["token_calls"] >= 1
        assert full["cpu_s"] > 0 and full["peak_rss_mb"] > 10
        assert incremental["state"] is not None
        limits = results["limits"]["taps"][tap]
        scale = results["limits"]["time_scale"]
        assert limits["wall_s_real_upper"] == pytest.approx(limits["wall_s_measured"] * scale)
        assert limits["cpu_s"] <= limits["wall_s_real"] <= limits["wall_s_real_upper"]
        assert limits["minimum_calls"] > 1
    cost = results["cost"]
    assert cost["first"]["report_calls"] == cost["first"]["minimum_report_calls"] > 0  # the fewest Xero allows
    assert cost["incremental"]["api_calls"] < cost["first"]["api_calls"]
    assert cost["incremental"]["changed_invoices_emitted"] == cost["changed_invoices"] >= 1
    assert [row["scale"] for row in results["rss"]["rows"]] == [100, 200]
    assert all(row["ours"]["peak_rss_mb"] > 10 for row in results["rss"]["rows"])
    orgs = results["orgs"]["rows"]
    assert [row["organisations"] for row in orgs] == [1, 3]
    for row in orgs:
        assert row["bound_s"] > 0 and row["wall_s"] > 0 and row["peak_rss_mb"] > 10
        assert row["calls_per_organisation"]["min"] > 1 and row["records"] > 0
    assert orgs[1]["records"] > orgs[0]["records"]
    budget = results["budget"]
    [row] = budget["rows"]
    assert row["budget"] == 40 and row["complete"] and row["runs"] >= 2  # several runs, and it finished
    assert row["api_calls"] >= budget["unbounded"]["api_calls"] and budget["unbounded"]["runs"] == 1
    assert results["machine"]["cores"] >= 1
