"""A foreign-currency revaluation on a sandbox's BalanceSheet, which the sandbox cannot produce itself.

The sandbox has one currency per organisation, so it never shows what Xero does for foreign-currency
balances: revalue them at the report date's rate when it runs the report, with the difference on an
"Unrealised Currency Gains" line that no journal holds. ``revalue`` makes one running sandbox's
BalanceSheet show such a revaluation of one bank account for one organisation, the same amount in every
column, so that the end-to-end model tests can check the tie-out's tolerance for it.
"""

from __future__ import annotations

from decimal import Decimal

from xero_sandbox import Query, Sandbox


def revalue(sandbox: Sandbox, tenant_id: str, bank_code: str, unrealised_account_id: str, amount: Decimal) -> None:
    """From now on, the balance sheet of ``tenant_id`` in ``sandbox`` shows the bank account ``bank_code``
    revalued by ``amount`` and an Unrealised Currency Gains line of ``amount`` in Equity (so it still
    balances). Only this sandbox's store answers so: its ``report`` is wrapped, nothing global changes."""
    store = sandbox.store
    bank_account_id = next(account["AccountID"] for account in store.list(tenant_id, "Accounts", Query()).records
                           if account["Code"] == bank_code)
    served = store.report

    def report(report_tenant_id: str, report_name: str, params: dict[str, str]) -> dict:
        body = served(report_tenant_id, report_name, params)
        if report_tenant_id == tenant_id and report_name == "BalanceSheet":
            _revalue(body, bank_account_id, unrealised_account_id, amount)
        return body

    store.report = report


def _account_of(row: dict) -> str | None:
    return next((a["Value"] for a in row["Cells"][0].get("Attributes", ()) if a["Id"] == "account"), None)


def _revalue(report: dict, bank_account_id: str, unrealised_account_id: str, amount: Decimal) -> None:
    """Every column (the tap asks for up to twelve months a call) revalued by ``amount``."""
    width = len(report["Rows"][0]["Cells"]) - 1
    for section in report["Rows"]:
        rows = section.get("Rows", [])
        for row in rows:
            if _account_of(row) == bank_account_id or row["Cells"][0]["Value"] in (
                    "Total Assets", "Net Assets", "Total Equity"):
                for cell in row["Cells"][1:]:
                    cell["Value"] = str(Decimal(cell["Value"]) + amount)
        if section.get("Title") == "Equity":
            unrealised = [{"Value": unrealised_account_id, "Id": "account"}]
            rows.insert(len(rows) - 1, {"RowType": "Row", "Cells": [
                {"Value": "Unrealised Currency Gains", "Attributes": unrealised}] + [
                {"Value": str(amount), "Attributes": unrealised} for _ in range(width)]})
