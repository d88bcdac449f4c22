"""`meltano run tap-xero target-postgres dbt-postgres:build`: the models of transform/ over a real load,
tied out against Xero's own reports, with the real meltano and dbt CLIs and PostgreSQL.

The sandbox serves Xero's TrialBalance and BalanceSheet, so the trial balance is tied out on every column,
as it is against Xero; one organisation's balance sheet also shows a foreign-currency revaluation
(xero_reports.py), which no journal holds. One load for the module; the tests that break a model build a
copy of transform/ over that same load.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import date, timedelta
from decimal import Decimal

import pytest

from xero_sandbox import Sandbox, SandboxConfig
from xero_sandbox import Query

from .conftest import ROOT, MeltanoProject, Postgres
from .xero_reports import revalue

pytestmark = pytest.mark.e2e

SCALE = 60
RAW_SCHEMA = "xero_ledger"  # the loader's schema here (test_meltano.py loads into "xero")
MODELS_SCHEMA = "xero_ledger_models"
# What the models read. Other streams would only cost calls: the tap keeps to Xero's 60 calls a minute
# per organisation, and the three reports (13 months each) already take 39 of them.
MODEL_STREAMS = (
    "organisations", "accounts", "contacts", "invoices", "invoice_line_items", "credit_notes",
    "bank_transactions", "prepayments", "overpayments", "journals", "journal_lines", "cash_journals",
    "cash_journal_lines", "report_trial_balance", "report_profit_and_loss", "report_balance_sheet",
)
COMMAND = ("tap-xero", "target-postgres", "dbt-postgres:build")
TIE_OUT_TESTS = ("tie_out_trial_balance", "tie_out_profit_and_loss", "tie_out_balance_sheet",
                 "balance_sheet_balances")


def _select(streams) -> str:
    return json.dumps([f"{name}.*" for name in streams])


def _month_start(day: date, months_back: int) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def _post_recent_documents(sandbox: Sandbox) -> dict[str, str]:
    """Postings inside the tap's default report window (the last twelve months), whatever today is:
    the generated data ends in early 2026. A sale with tracking, an accrued expense, and a dividend paid
    out of retained earnings (which moves that account in the month, as well as its year-to-date).
    Returns {tenant id: the sale's InvoiceID}."""
    sales = {}
    today = date.today()
    two_months_ago, last_month = _month_start(today, 2), _month_start(today, 1)
    store = sandbox.app.store
    for tenant_id in sandbox.tenant_ids:
        contact = store.list(tenant_id, "Contacts", Query(page=1)).records[1]
        region = next(c for c in store.list(tenant_id, "TrackingCategories", Query(page=1)).records
                      if c["Status"] == "ACTIVE")
        sales[tenant_id] = sandbox.mutate(tenant_id, "Invoices", "create", None, {
            "Type": "ACCREC", "Status": "AUTHORISED", "Contact": {"ContactID": contact["ContactID"]},
            "Date": (two_months_ago + timedelta(days=14)).isoformat(),
            "DueDate": (two_months_ago + timedelta(days=44)).isoformat(),
            "LineItems": [{"Description": "Recent sale", "Quantity": "4", "UnitAmount": "125.2500",
                           "AccountCode": "200", "Tracking": [{
                               "TrackingCategoryID": region["TrackingCategoryID"], "Name": region["Name"],
                               "TrackingOptionID": region["Options"][0]["TrackingOptionID"],
                               "Option": region["Options"][0]["Name"]}]}],
        })["InvoiceID"]
        for narration, lines in (
            ("Accrued rent", [("469", "800.00"), ("800", "-800.00")]),
            ("Dividend", [("960", "1500.00"), ("090", "-1500.00")]),
        ):
            sandbox.mutate(tenant_id, "ManualJournals", "create", None, {
                "Narration": narration, "Status": "POSTED", "Date": (last_month + timedelta(days=9)).isoformat(),
                "JournalLines": [{"LineAmount": amount, "AccountCode": code} for code, amount in lines],
            })
    return sales


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(SandboxConfig(seed=5, scale=SCALE, tenants=2, limits=False)) as sb:
        yield sb


@pytest.fixture(scope="module")
def recent_sales(sandbox) -> dict[str, str]:
    return _post_recent_documents(sandbox)


REVALUATION = Decimal("123.45")


@pytest.fixture(scope="module")
def revalued(sandbox) -> str:
    """The second organisation's balance sheet revalues its bank account as Xero does for a foreign
    currency, with an Unrealised Currency Gains line (on Xero's system account) that no journal holds."""
    tenant_id = sandbox.tenant_ids[1]
    account = sandbox.mutate(tenant_id, "Accounts", "create", None, {
        "Code": "497", "Name": "Unrealised Currency Gains", "Type": "CURRLIAB",
        "SystemAccount": "UNREALISEDCURRENCYGAIN"})
    revalue(sandbox, tenant_id, "090", account["AccountID"], REVALUATION)
    return tenant_id


def _project(workdir, sandbox: Sandbox, database: str, raw_schema: str, models_schema: str,
             streams=MODEL_STREAMS, **env: str) -> MeltanoProject:
    return MeltanoProject(
        workdir=workdir, sandbox_url=sandbox.base_url, client_id=sandbox.client_id,
        client_secret=sandbox.client_secret, refresh_token=sandbox.issue_refresh_token(), database=database,
        extra_env={
            "TAP_XERO__SELECT": _select(streams),
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": raw_schema,
            "DBT_POSTGRES_SOURCE_SCHEMA": raw_schema,
            "DBT_POSTGRES_SCHEMA": models_schema,
            **env,
        },
    )


@pytest.fixture(scope="module")
def built(meltano_ready, pg, sandbox, recent_sales, revalued, tmp_path_factory):
    """The one command: load both organisations, build every model, run every test."""
    project = _project(tmp_path_factory.mktemp("transform"), sandbox, pg.database, RAW_SCHEMA, MODELS_SCHEMA)
    result = project.run(*COMMAND)
    return project, result


def _dbt_results(output: str) -> dict[str, str]:
    """{test name: PASS | FAIL n | WARN n | ERROR} from dbt's progress lines ("3 of 9 PASS name ....")."""
    return {m.group(2): m.group(1) for m in re.finditer(r"\d+ of \d+ (PASS|FAIL \d+|WARN \d+|ERROR) (\w+) ", output)}


def _models(pg: Postgres, sql: str) -> list[tuple[str, ...]]:
    return pg.rows(sql.format(m=MODELS_SCHEMA, raw=RAW_SCHEMA))


def test_one_command_loads_builds_and_ties_out(built, pg, sandbox):
    project, result = built
    results = _dbt_results(result.output)
    for test in TIE_OUT_TESTS:
        assert results.get(test) == "PASS", f"{test}: {results.get(test)}\n{result.output[-4000:]}"
    assert results.get("organisations_without_journals") == "PASS"
    assert re.search(r"Done\. PASS=\d+ WARN=0 ERROR=0 SKIP=0", result.output), result.output[-3000:]
    # Every model, each holding both organisations.
    for model in ("xero__general_ledger", "xero__trial_balance", "xero__profit_and_loss_report",
                  "xero__balance_sheet_report", "xero__invoice_line_items", "xero__receivables_payables_ageing",
                  "xero__cash_general_ledger"):
        tenants = {t for (t,) in _models(pg, f"select distinct tenant_id from {{m}}.{model}")}
        assert tenants == set(sandbox.tenant_ids), model
    # The cash ledger: Xero's payment journals, each a journal of the accrual ledger too, each balanced, and
    # every one of them loaded (as many as the sandbox serves with paymentsOnly=true).
    assert _models(pg, """select count(*) from (select distinct tenant_id, journal_id from {m}.xero__cash_general_ledger
                          except select tenant_id, journal_id from {m}.xero__general_ledger) missing""") == [("0",)]
    assert _models(pg, """select count(*) from (select journal_id from {m}.xero__cash_general_ledger
                          group by tenant_id, journal_id having sum(net_amount) <> 0) unbalanced""") == [("0",)]
    assert _models(pg, "select distinct accounting_basis from {m}.xero__cash_general_ledger") == [("cash",)]
    for tenant in sandbox.tenant_ids:
        loaded = _models(pg, f"select count(distinct journal_id) from {{m}}.xero__cash_general_ledger "
                             f"where tenant_id = '{tenant}'")
        assert loaded == [(str(sandbox.counts()[tenant]["CashJournals"]),)], tenant


def test_the_tie_outs_compare_real_figures(built, pg, sandbox):
    """Not vacuous: every organisation and month of the reports is compared, on lines that move."""
    ((report_lines, months, moving),) = _models(pg, """
        select count(*), count(distinct tenant_id || period_start::text),
               count(*) filter (where coalesce(debit, 0) <> 0 or coalesce(credit, 0) <> 0)
        from {m}.stg_xero__report_trial_balance where account_id is not null""")
    ((loaded_months,),) = _models(
        pg, "select count(distinct tenant_id || period_start::text) from {raw}.report_trial_balance"
    )
    assert int(months) == int(loaded_months) >= 2 * 3  # every organisation and month the tap read
    assert int(report_lines) >= 10 * int(months) and int(moving) > 10
    ((modelled,),) = _models(pg, """
        select count(*) from {m}.xero__trial_balance t
        where exists (select 1 from {m}.stg_xero__report_trial_balance r
                      where r.tenant_id = t.tenant_id and r.period_start = t.date_month)""")
    assert int(modelled) == int(report_lines)  # a row for a row: the tie-out's full outer join found no orphan
    ((profit_and_loss_lines,),) = _models(pg, """
        select count(*) from {m}.stg_xero__report_profit_and_loss
        where account_id is not null and value <> 0""")
    assert int(profit_and_loss_lines) >= 2 * 3  # the recent sale and rent, in both organisations


def test_the_models_hold_what_the_docs_say(built, pg, sandbox, recent_sales):
    # The ledger: one row per journal line, every journal balanced, debit and credit split the net.
    assert _models(pg, "select count(*) from {raw}.journal_lines") == _models(
        pg, "select count(*) from {m}.xero__general_ledger")
    assert _models(pg, """select count(*) from (select journal_id from {m}.xero__general_ledger
                          group by tenant_id, journal_id having sum(net_amount) <> 0) unbalanced""") == [("0",)]
    assert _models(pg, "select count(*) from {m}.xero__general_ledger "
                       "where debit_amount - credit_amount <> net_amount") == [("0",)]
    tenant_id = sandbox.tenant_ids[0]
    (sale,) = _models(pg, f"""select tracking_category_1, tracking_option_1, contact_name, invoice_id, net_amount
        from {{m}}.xero__general_ledger where tenant_id = '{tenant_id}' and source_id = '{recent_sales[tenant_id]}'
        and account_class = 'REVENUE'""")
    assert sale[:2] == ("Region", "North") and sale[2] and sale[3] == recent_sales[tenant_id]
    assert float(sale[4]) == -501.0  # 4 x 125.25, a credit
    # The dividend moves Retained Earnings in its month: a debit in the month columns.
    ((dividend,),) = _models(pg, f"""select debit from {{m}}.xero__trial_balance
        where account_code = '960' and date_month = '{_month_start(date.today(), 1)}'
        and tenant_id = '{sandbox.tenant_ids[0]}'""")
    assert float(dividend) == 1500.0
    # The balance sheet: Current Year Earnings every month; a new financial year starts it again from
    # July's own profit, the year before having gone into Retained Earnings.
    ((missing,),) = _models(pg, """select count(*) from (select distinct tenant_id, date_month
        from {m}.xero__balance_sheet_report) months where not exists (select 1 from {m}.xero__balance_sheet_report b
        where b.tenant_id = months.tenant_id and b.date_month = months.date_month
        and b.account_name = 'Current Year Earnings')""")
    assert missing == "0"
    # Invoice lines: every line, each with its invoice number, contact and account.
    assert _models(pg, "select count(*) from {raw}.invoice_line_items") == _models(
        pg, "select count(*) from {m}.xero__invoice_line_items where invoice_number is not null "
            "and contact_name is not null and account_class is not null")
    # Ageing: what customers owe equals the open receivable invoices less unallocated credit.
    ((model_due, invoices_due),) = _models(pg, """select
        (select sum(amount_due) from {m}.xero__receivables_payables_ageing
         where ledger = 'receivables' and document_type = 'invoice'),
        (select sum("AmountDue") from {raw}.invoices where "Type" = 'ACCREC' and "Status" = 'AUTHORISED')""")
    assert float(model_due) == float(invoices_due) > 0


def test_a_revaluation_ties_out_within_its_unrealised_gains_line(built, pg, sandbox, revalued):
    """Xero's unrealised currency gains are in no journal: that organisation's lines may differ by at
    most that line (and the revalued bank line does), the other organisation's not at all."""
    tolerances = dict(_models(pg, "select tenant_id, max(tolerance) from {m}.int_xero__tie_out_scope group by 1"))
    assert {t: float(v) for t, v in tolerances.items()} == {
        revalued: float(REVALUATION), next(t for t in sandbox.tenant_ids if t != revalued): 0.0}
    bank = _models(pg, f"""select distinct r.value - m.report_amount
        from {{m}}.stg_xero__report_balance_sheet r
        join {{m}}.xero__balance_sheet_report m on m.tenant_id = r.tenant_id and m.date_month = r.period_start
         and m.account_id = r.account_id
        where r.tenant_id = '{revalued}' and m.account_code = '090'""")
    assert [float(d) for (d,) in bank] == [float(REVALUATION)]


BREAKAGES = {
    # The year-to-date of revenue and expense accounts no longer restarts with the financial year.
    "financial_year": ("models/intermediate/int_xero__account_months.sql",
                       "partition by with_year.tenant_id, with_year.account_id, with_year.financial_year_start",
                       "partition by with_year.tenant_id, with_year.account_id",
                       {"tie_out_trial_balance", "tie_out_balance_sheet"}),
    # Earlier years' profit no longer closes into Retained Earnings on the balance sheet.
    "retained_earnings": ("models/xero__balance_sheet_report.sql",
                          "then coalesce(earnings.earlier_years_net, 0) else 0 end",
                          "then 0 else 0 end",
                          {"tie_out_balance_sheet", "balance_sheet_balances"}),
    # Costs shown with the ledger's sign instead of Xero's (positive under "Less ...").
    "cost_sign": ("models/xero__profit_and_loss_report.sql",
                  "case when account_class = 'REVENUE' then -sum(net_amount) else sum(net_amount) end",
                  "-sum(net_amount)",
                  {"tie_out_profit_and_loss"}),
    # Xero's nil account on Current Year Earnings taken for an account.
    "nil_account": ("macros/report_lines.sql",
                    "nullif(account_id, '00000000-0000-0000-0000-000000000000') as account_id",
                    "account_id", {"tie_out_balance_sheet"}),
    # Revalued lines held to the cent: the revaluation Xero computes at report time is in no journal.
    "revaluation": ("models/intermediate/int_xero__tie_out_scope.sql",
                    "coalesce(revaluation.amount, 0) as tolerance", "0 as tolerance", {"tie_out_balance_sheet"}),
    # The ledger loses a kind of journal (manual journals): each is balanced, so only the tie-outs see it.
    "incomplete_ledger": ("macros/journal_lines.sql",
                          """on journal.tenant_id = line.tenant_id and journal."JournalID" = line."JournalID\"""",
                          """on journal.tenant_id = line.tenant_id and journal."JournalID" = line."JournalID"
      where journal."SourceType" <> 'MANJOURNAL'""",
                          {"tie_out_trial_balance", "tie_out_profit_and_loss", "tie_out_balance_sheet"}),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_a_broken_model_fails_its_tie_out(built, breakage, tmp_path):
    """The mechanism check: break one rule in a copy of transform/ and the build fails on its tie-out."""
    project, _ = built
    path, good, bad, failing = BREAKAGES[breakage]
    copy = tmp_path / "transform"
    shutil.copytree(ROOT / "transform", copy, ignore=shutil.ignore_patterns("target", "logs"))
    model = copy / path
    assert good in model.read_text()
    model.write_text(model.read_text().replace(good, bad))
    result = project.meltano("invoke", "dbt-postgres", "build", DBT_POSTGRES_PROJECT_DIR=str(copy),
                             DBT_POSTGRES_SCHEMA=f"{MODELS_SCHEMA}_{breakage}")
    assert result.returncode != 0
    results = _dbt_results(result.output)
    failed = {name for name, status in results.items() if status.startswith("FAIL")}
    assert failed == failing, result.output[-4000:]


def test_organisations_whose_app_cannot_read_journals_still_get_what_needs_none(meltano_ready, pg, sandbox,
                                                                                 tmp_path_factory):
    """Issue item 4, both ways a warehouse lacks an organisation's journals. First only that organisation is
    loaded with the journal streams deselected (no journals table at all, and no balance sheet report either).
    Then, as a user of an app below Xero's Advanced tier meets it, the journal streams are selected and the
    sandbox, switched to the Core tier, answers them 401 AuthorizationUnsuccessful as Xero does: the tap skips
    them with its warning, the tables exist and hold none of that organisation's journals. Last, on the Advanced
    tier, the other organisation with its journals. Each build succeeds, says what it skipped and for which
    organisation, and ties out what is there."""
    without, with_journals = sandbox.tenant_ids
    raw, models = "xero_tiers", "xero_tiers_models"
    no_journals = tuple(s for s in MODEL_STREAMS if "journal" not in s and s != "report_balance_sheet")
    project = _project(tmp_path_factory.mktemp("tiers"), sandbox, pg.database, raw, models, streams=no_journals,
                       TAP_XERO_TENANT_IDS=json.dumps([without]))

    first = project.run(*COMMAND)
    assert "SKIPPED stg_xero__journal_lines: no journals / journal_lines table in schema 'xero_tiers'" in first.output
    assert "Xero serves Journals only to apps on its Advanced tier" in first.output
    assert "xero__invoice_line_items and xero__receivables_payables_ageing need no journals" in first.output
    assert "SKIPPED stg_xero__report_balance_sheet: no report_balance_sheet table" in first.output
    assert "SKIPPED stg_xero__cash_journal_lines: no cash_journals / cash_journal_lines table" in first.output
    assert "xero__cash_general_ledger is built empty: no cash-basis journals were loaded" in first.output
    results = _dbt_results(first.output)
    assert results.get("organisations_without_journals") == "WARN 1"
    assert all(results.get(test) == "PASS" for test in TIE_OUT_TESTS), results
    assert pg.scalar(f"select count(*) from {models}.xero__general_ledger") == "0"
    assert int(pg.scalar(f"select count(*) from {models}.xero__invoice_line_items")) > 0
    assert int(pg.scalar(f"select count(*) from {models}.xero__receivables_payables_ageing")) > 0

    sandbox.set_tier("core")
    try:
        below_advanced = project.run(*COMMAND, TAP_XERO__SELECT=_select(
            s for s in MODEL_STREAMS if s != "report_balance_sheet"))
    finally:
        sandbox.set_tier("advanced")
    output = below_advanced.output
    for stream in ("journals", "cash_journals"):
        assert f"Stream '{stream}' (and its child tables) ends for tenant {without}: Xero refused Journals" in output
    assert "Journals need Xero's Advanced tier" in output
    assert "SKIPPED stg_xero__journal_lines" not in output  # the tap created the tables: they hold no rows of it
    name = pg.scalar(f"select \"Name\" from {raw}.organisations where tenant_id = '{without}'")
    assert (f"NO JOURNALS stg_xero__journal_lines: 1 organisation(s) in schema '{raw}' have none in journals: "
            f"{name} ({without}). Their rows in xero__general_ledger") in output, output[-4000:]
    assert f"NO JOURNALS stg_xero__cash_journal_lines: 1 organisation(s) in schema '{raw}'" in output
    assert pg.scalar(f"select count(*) from {raw}.journals") == "0"
    results = _dbt_results(output)
    assert results.get("organisations_without_journals") == "WARN 1"
    assert all(results.get(test) == "PASS" for test in TIE_OUT_TESTS), results

    second = project.run(*COMMAND, TAP_XERO__SELECT=_select(MODEL_STREAMS),
                         TAP_XERO_TENANT_IDS=json.dumps([with_journals]))
    results = _dbt_results(second.output)
    assert results.get("organisations_without_journals") == "WARN 1"  # still the first organisation
    assert all(results.get(test) == "PASS" for test in TIE_OUT_TESTS), results
    assert {t for (t,) in pg.rows(f"select distinct tenant_id from {models}.xero__general_ledger")} == {with_journals}
    assert {t for (t,) in pg.rows(f"select distinct tenant_id from {models}.xero__invoice_line_items")} == {
        without, with_journals}
    # Only the organisation with journals was tied out, and it was.
    assert {t for (t,) in pg.rows(f"select distinct tenant_id from {models}.int_xero__tie_out_scope")} == {
        with_journals}
