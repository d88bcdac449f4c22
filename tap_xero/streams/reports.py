"""Xero's financial reports, one row per report line per calendar month (and tracking option, when split).

Each class names its report; ``XeroReportStream`` (the base in client.py) asks for every
month with ``tap_xero.reports.report_params`` and flattens each answer with
``tap_xero.reports.flatten_report``. Primary key, from the row schema:
(tenant_id, report_name, period_start, section, line_key, tracking_option).
"""

from __future__ import annotations

from tap_xero import endpoints
from tap_xero.client import XeroReportStream

REPORTS = endpoints.REPORTS_BY_NAME
REPORT_PRIMARY_KEYS = ("tenant_id", "report_name", "period_start", "section", "line_key", "tracking_option")


class BalanceSheetReportStream(XeroReportStream):
    name = "report_balance_sheet"
    report = REPORTS["BalanceSheet"]
    primary_keys = REPORT_PRIMARY_KEYS


class ProfitAndLossReportStream(XeroReportStream):
    name = "report_profit_and_loss"
    report = REPORTS["ProfitAndLoss"]
    primary_keys = REPORT_PRIMARY_KEYS


class TrialBalanceReportStream(XeroReportStream):
    name = "report_trial_balance"
    report = REPORTS["TrialBalance"]
    primary_keys = REPORT_PRIMARY_KEYS


class BankSummaryReportStream(XeroReportStream):
    name = "report_bank_summary"
    report = REPORTS["BankSummary"]
    primary_keys = REPORT_PRIMARY_KEYS


class BudgetSummaryReportStream(XeroReportStream):
    name = "report_budget_summary"
    report = REPORTS["BudgetSummary"]
    primary_keys = REPORT_PRIMARY_KEYS


class ExecutiveSummaryReportStream(XeroReportStream):
    name = "report_executive_summary"
    report = REPORTS["ExecutiveSummary"]
    primary_keys = REPORT_PRIMARY_KEYS


class ProfitAndLossByTrackingReportStream(XeroReportStream):
    """Split by each active tracking category: its options and "Unassigned" (their sum is the plain report)."""

    name = "report_profit_and_loss_by_tracking"
    report = endpoints.PROFIT_AND_LOSS_BY_TRACKING
    primary_keys = (*REPORT_PRIMARY_KEYS[:-1], "tracking_category_id", "tracking_option")


STREAMS = (
    BalanceSheetReportStream, ProfitAndLossReportStream, TrialBalanceReportStream,
    BankSummaryReportStream, BudgetSummaryReportStream, ExecutiveSummaryReportStream,
    ProfitAndLossByTrackingReportStream,
)
