"""Real Xero in 2026 against the sandbox over HTTP: pricing tiers, report months read only when they can have
changed (lock dates, journals), and the calls each run spends."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from tap_xero import errors
from tap_xero.sync import gating
from tap_xero.sync.report_months import STATE_KEY, add_months, month_of
from xero_sandbox import Sandbox
from tap_xero.tap import TapXero
from tests.capture import sync_selected

REPORTS = {
    "report_balance_sheet": "BalanceSheet", "report_profit_and_loss": "ProfitAndLoss",
    "report_trial_balance": "TrialBalance", "report_bank_summary": "BankSummary",
    "report_budget_summary": "BudgetSummary", "report_executive_summary": "ExecutiveSummary",
}
MONTHLY = {"report_trial_balance", "report_bank_summary", "report_executive_summary"}
CURRENT = month_of(dt.datetime.now(dt.timezone.utc).date())


@pytest.fixture
def sb(make_sandbox) -> Sandbox:
    # limits off but a generous minute allowance: these runs make more than 60 calls (see test_streams_sync).
    return make_sandbox(scale=60, tenants=2, limits=False, minute_limit=100_000)


def run(sb: Sandbox, streams: set[str], *, state: dict | None = None, tenant: int = 0, **config):
    """One in-process run over HTTP: (messages, error, calls by path for the tenant, tap)."""
    settings = {
        "access_token": sb.issue_access_token(), "api_url": sb.api_url, "identity_url": sb.base_url,
        "tenant_ids": [sb.tenant_ids[tenant]], **config,
    }
    before = copy.deepcopy(sb.requests()["by_tenant"].get(sb.tenant_ids[tenant], {}))
    tap = TapXero(config=settings, state=copy.deepcopy(state))
    messages, error = sync_selected(tap, streams)
    after = sb.requests()["by_tenant"].get(sb.tenant_ids[tenant], {})
    calls = {path: n - before.get(path, 0) for path, n in after.items() if n - before.get(path, 0)}
    return messages, error, calls, tap


def rows(messages, stream):
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream]


def last_state(messages) -> dict:
    assert messages[-1]["type"] == "STATE", "every run ends on a STATE"
    return messages[-1]["value"]


def partition(state: dict, stream: str, tenant: str) -> dict:
    for entry in state["bookmarks"].get(stream, {}).get("partitions", []):
        if entry["context"] == {"tenant_id": tenant}:
            return entry
    return {}


# -- tiers ---------------------------------------------------------------------------------------------


def test_below_advanced_journals_end_with_one_warning_the_run_goes_on_and_is_not_asked_again_for_a_day(
    sb: Sandbox, caplog
) -> None:
    sb.set_tier("core")
    tenant = sb.tenant_ids[0]
    streams = {"journals", "journal_lines", "invoices", "contacts"}
    messages, error, calls, _ = run(sb, streams)
    assert error is None  # exit 0
    assert not rows(messages, "journals") and not rows(messages, "journal_lines")
    assert rows(messages, "invoices") and rows(messages, "contacts")  # streams after journals still run
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "'journals'" in r.getMessage()]
    assert len(warnings) == 1 and "pricing tier" in warnings[0] and "Advanced" in warnings[0]
    assert calls["Journals"] == 1
    state = last_state(messages)
    assert partition(state, "journals", tenant)[gating.STATE_KEY]["reason"] == "AuthorizationUnsuccessful"

    # The next run does not spend a call on it.
    caplog.clear()
    messages, error, calls, _ = run(sb, streams, state=state)
    assert error is None and "Journals" not in calls and rows(messages, "invoices") is not None
    assert any("skipped" in r.getMessage() and "'journals'" in r.getMessage() for r in caplog.records)

    # A day later it is asked again; after an upgrade to Advanced the stream is back and the memory gone.
    aged = copy.deepcopy(last_state(messages))
    memory = partition(aged, "journals", tenant)[gating.STATE_KEY]
    memory["checked_at"] = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=25)).strftime("%Y-%m-%dT%H:%M:%SZ")
    messages, error, calls, _ = run(sb, streams, state=aged)
    assert error is None and calls["Journals"] == 1  # the daily probe, refused again
    again = copy.deepcopy(last_state(messages))
    partition(again, "journals", tenant)[gating.STATE_KEY]["checked_at"] = memory["checked_at"]
    sb.set_tier("advanced")
    messages, error, calls, _ = run(sb, streams, state=again)
    assert error is None and rows(messages, "journals") and rows(messages, "journal_lines")
    assert gating.STATE_KEY not in partition(last_state(messages), "journals", tenant)


def test_with_fail_on_missing_scope_a_gated_endpoint_is_an_error_after_a_state(sb: Sandbox) -> None:
    sb.set_tier("starter")
    messages, error, _, _ = run(sb, {"journals", "invoices"}, fail_on_missing_scope=True)
    assert isinstance(error, errors.ScopeError) and error.exit_code == 3
    assert "journals" in str(error) and "tier" in str(error)
    assert messages[-1]["type"] == "STATE"


# -- reports: months read once, and again only when they can have changed ---------------------------------


def test_reports_read_nothing_again_when_no_journal_says_a_month_changed(sb: Sandbox) -> None:
    streams = {"journals", "journal_lines", *REPORTS}
    messages, error, calls, _ = run(sb, streams, report_history_months=14)
    assert error is None
    for stream, name in REPORTS.items():
        assert calls[f"Reports/{name}"] == (14 if stream in MONTHLY else 2), stream
    state = last_state(messages)
    sb.mutate(sb.tenant_ids[0], "Invoices", "touch", sb.store.list(
        sb.tenant_ids[0], "Invoices", _query(page=1)).records[0]["InvoiceID"])  # no posting: no new journal
    messages, error, calls, _ = run(sb, streams, state=state, report_history_months=14)
    assert error is None
    # Not one call for a report made of postings; budgets (no journals to tell) read their window in one call.
    assert [path for path in calls if path.startswith("Reports/")] == ["Reports/BudgetSummary"], calls
    assert calls["Reports/BudgetSummary"] == 1
    assert not any(rows(messages, stream) for stream in REPORTS if stream != "report_budget_summary")
    assert calls["Journals"] == 1 and calls["Organisation"] == 1  # the new journals (none), the lock date


def test_a_back_dated_posting_rereads_its_month_and_for_balances_every_month_after(sb: Sandbox) -> None:
    tenant = sb.tenant_ids[0]
    streams = {"journals", *REPORTS}
    messages, _, _, _ = run(sb, streams, report_history_months=14)
    state = last_state(messages)
    changed = add_months(CURRENT, -4)
    post(sb, tenant, changed.replace(day=15))
    messages, error, calls, _ = run(sb, streams, state=state, report_history_months=14)
    assert error is None
    months_after = {add_months(changed, n).isoformat() for n in range(5)}  # that month to the current one
    assert {r["period_start"] for r in rows(messages, "report_trial_balance")} == months_after
    assert calls["Reports/TrialBalance"] == 5 and calls["Reports/BankSummary"] == 5
    assert {r["period_start"] for r in rows(messages, "report_profit_and_loss")} >= {changed.isoformat()}
    assert calls["Reports/ProfitAndLoss"] == 1 and calls["Reports/BalanceSheet"] == 1
    assert "Reports/BudgetSummary" in calls  # budgets follow the re-read window, not journals
    # The trial balance of the changed month is Xero's new one.
    new = next(r for r in rows(messages, "report_trial_balance")
               if r["period_start"] == changed.isoformat() and r["row_title"] == "Total")
    assert new["value"] is not None


def test_a_posting_that_touches_no_bank_account_leaves_the_bank_summary_unread(sb: Sandbox) -> None:
    tenant = sb.tenant_ids[0]
    streams = {"journals", "report_trial_balance", "report_bank_summary"}
    messages, _, _, _ = run(sb, streams, report_history_months=14)
    state = last_state(messages)
    changed = add_months(CURRENT, -3)
    post_invoice(sb, tenant, changed.replace(day=10))  # receivables and revenue: no bank account moves
    messages, error, calls, _ = run(sb, streams, state=state, report_history_months=14)
    assert error is None
    assert calls["Reports/TrialBalance"] == 4  # that month to the current one (balances)
    assert "Reports/BankSummary" not in calls, calls
    post(sb, tenant, changed.replace(day=12))  # a bank spend: the bank summary of that month on is read again
    messages, error, calls, _ = run(sb, streams, state=last_state(messages), report_history_months=14)
    assert error is None and calls["Reports/BankSummary"] == 4 and calls["Reports/TrialBalance"] == 4


def test_without_journals_only_the_months_after_the_lock_date_in_the_reread_window_are_read_again(
    sb: Sandbox,
) -> None:
    sb.set_tier("core")  # no Journals: no evidence of what changed
    tenant = sb.tenant_ids[1]  # an organisation without lock dates at first
    streams = {"journals", *REPORTS}
    messages, _, _, _ = run(sb, streams, tenant=1, report_history_months=14)
    state = last_state(messages)
    messages, _, calls, _ = run(sb, streams, state=state, tenant=1, report_history_months=14, report_reread_months=4)
    assert calls["Reports/TrialBalance"] == 4  # the current month and the three before it
    assert {r["period_start"] for r in rows(messages, "report_trial_balance")} == {
        add_months(CURRENT, -n).isoformat() for n in range(4)}
    # Lock everything up to the end of the month before last: that month and the ones before are settled.
    lock = add_months(CURRENT, -1) - dt.timedelta(days=1)
    sb.set_lock_dates(tenant, period_lock_date=lock)
    messages, _, calls, _ = run(sb, streams, state=last_state(messages), tenant=1, report_history_months=14,
                                report_reread_months=4)
    read = {r["period_start"] for r in rows(messages, "report_trial_balance")}
    assert add_months(CURRENT, -1).isoformat() in read  # the month after the lock date: read again
    assert add_months(CURRENT, -2).isoformat() in read  # locked since it was read: read once more, final
    messages, _, calls, _ = run(sb, streams, state=last_state(messages), tenant=1, report_history_months=14,
                                report_reread_months=4)
    read = {r["period_start"] for r in rows(messages, "report_trial_balance")}
    assert read == {add_months(CURRENT, -1).isoformat(), CURRENT.isoformat()}  # the locked month is settled
    assert partition(last_state(messages), "report_trial_balance", tenant)[STATE_KEY]["locked_through"] == (
        add_months(CURRENT, -2).strftime("%Y-%m"))


def test_reports_find_what_changed_from_journals_they_read_themselves(sb: Sandbox) -> None:
    tenant = sb.tenant_ids[0]
    messages, _, _, _ = run(sb, {"journals", "report_trial_balance"}, report_history_months=6)
    state = last_state(messages)
    post(sb, tenant, add_months(CURRENT, -2).replace(day=3))
    # The journals stream is not selected this time: the report reads the new journals itself (one call).
    messages, error, calls, _ = run(sb, {"report_trial_balance"}, state=state, report_history_months=6)
    assert error is None and calls["Journals"] == 1
    assert calls["Reports/TrialBalance"] == 3


def post(sb: Sandbox, tenant: str, day: dt.date) -> None:
    """A posted bank spend dated ``day`` (new journals in that month)."""
    contact_id = sb.store.list(tenant, "Contacts", _query(page=1)).records[0]["ContactID"]
    sb.mutate(tenant, "BankTransactions", "create", fields={
        "Type": "SPEND", "Contact": {"ContactID": contact_id}, "BankAccount": {"Code": "090"}, "Date": day.isoformat(),
        "LineItems": [{"Description": "Back-dated", "Quantity": 1, "UnitAmount": 99, "AccountCode": "429"}],
    })


def post_invoice(sb: Sandbox, tenant: str, day: dt.date) -> None:
    """An authorised sales invoice dated ``day``: journals on receivables and revenue, none on a bank account."""
    contact_id = sb.store.list(tenant, "Contacts", _query(page=1)).records[0]["ContactID"]
    sb.mutate(tenant, "Invoices", "create", fields={
        "Type": "ACCREC", "Status": "AUTHORISED", "Contact": {"ContactID": contact_id}, "Date": day.isoformat(),
        "DueDate": (day + dt.timedelta(days=30)).isoformat(),
        "LineItems": [{"Description": "Back-dated sale", "Quantity": 1, "UnitAmount": 120, "AccountCode": "200"}],
    })


def _query(**kw):
    from xero_sandbox import Query

    return Query(**kw)
