"""The general ledger: journals (read-only, numbered), the cash-basis journals and manual journals, with lines."""

from __future__ import annotations

from tap_xero import endpoints
from tap_xero.client import XeroChildStream, XeroStream


class JournalLinesStream(XeroChildStream):
    name = "journal_lines"
    parent_id_field = "JournalID"
    lines_field = "JournalLines"
    primary_keys = ("tenant_id", "JournalID", "line_number")


class JournalsStream(XeroStream):
    """Journals are immutable and numbered: paged by offset=<last JournalNumber>, bookmarked on it."""

    name = "journals"
    endpoint = endpoints.JOURNALS_ENDPOINT
    primary_keys = ("tenant_id", "JournalID")
    replication_key = "JournalNumber"
    child_tables = (JournalLinesStream,)


class CashJournalLinesStream(XeroChildStream):
    name = "cash_journal_lines"
    parent_id_field = "JournalID"
    lines_field = "JournalLines"
    primary_keys = ("tenant_id", "JournalID", "line_number")


class CashJournalsStream(XeroStream):
    """The cash-basis journals (``paymentsOnly=true``): read like journals, with a bookmark of their own."""

    name = "cash_journals"
    endpoint = endpoints.CASH_JOURNALS_ENDPOINT
    primary_keys = ("tenant_id", "JournalID")
    replication_key = "JournalNumber"
    child_tables = (CashJournalLinesStream,)


class ManualJournalLinesStream(XeroChildStream):
    name = "manual_journal_lines"
    parent_id_field = "ManualJournalID"
    lines_field = "JournalLines"
    primary_keys = ("tenant_id", "ManualJournalID", "line_number")


class ManualJournalsStream(XeroStream):
    """The base leaves out ``order`` here: Xero returns every journal on every page when it is sent."""

    name = "manual_journals"
    endpoint = endpoints.MANUAL_JOURNALS
    primary_keys = ("tenant_id", "ManualJournalID")
    replication_key = "UpdatedDateUTC"
    child_tables = (ManualJournalLinesStream,)


STREAMS = (
    JournalsStream, JournalLinesStream, CashJournalsStream, CashJournalLinesStream,
    ManualJournalsStream, ManualJournalLinesStream,
)
