"""What Xero's Accounting, Assets and Projects APIs are: one declaration per collection endpoint and report.

This module states facts about the API (paths, envelope keys, paging kinds, which
filters an endpoint honours, which OAuth scopes grant it), not choices of the tap.
It imports nothing from the SDK, so both sides read it:

- the tap's streams (``tap_xero/streams/``) pick an endpoint and add their own
  choices (stream name, keys, replication);
- the sandbox (``sandbox/``, package ``xero_sandbox``: a distribution of its own that
  imports this module; the tap never imports it) serves exactly these endpoints with these
  semantics, so adding an endpoint is one entry here, its stream class and its sandbox resource.

Sources: ``../shared/xero-openapi/xero_accounting.yaml``, ``xero_assets.yaml`` and
``xero-projects.yaml`` (paths, parameters, schemas) and ``../shared/XERO_FACTS.md`` (paging,
If-Modified-Since, scopes).

The Assets and Projects APIs (``OTHER_API_ENDPOINTS``) live beside the Accounting API at the same
origin (``https://api.xero.com/assets.xro/1.0``, ``.../projects.xro/2.0``), with the same OAuth,
tenant header and limits; their ``path`` starts with their base (``OTHER_API_BASES``), which is how
``http.XeroClient`` sends them there. They answer ``{"pagination": {...}, "items": [...]}`` (AssetTypes:
a bare list), carry no modification timestamp and honour no If-Modified-Since: every read is whole.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass


class Paging(str, enum.Enum):
    """How an endpoint splits a collection into calls."""

    PAGE_SIZE = "page_size"  # page=N&pageSize=M (max 1000), response has "pagination"
    PAGE = "page"  # page=N only, fixed 100 a page
    OFFSET = "offset"  # Journals: offset=<last JournalNumber seen>, 100 a call
    NONE = "none"  # the whole collection in one call


MAX_PAGE_SIZE = 1000
FIXED_PAGE_SIZE = 100  # Quotes, LinkedTransactions, Journals


def read_scopes(*families: str) -> tuple[str, ...]:
    """Every scope that grants read access through any of ``families``.

    ``accounting.invoices`` grants read as well as write, so both the family and
    its ``.read`` form are listed. A family already ending in ``.read`` (reports,
    journals, budgets) stands alone.
    """
    scopes: list[str] = []
    for family in families:
        if family.endswith(".read"):
            scopes.append(family)
        else:
            scopes += [family, f"{family}.read"]
    return tuple(scopes)


# Broad scopes (apps created before 2 March 2026) and granular ones (after):
# a stream is granted when the token holds ANY scope of its tuple.
TRANSACTIONS_INVOICES = read_scopes("accounting.transactions", "accounting.invoices")
TRANSACTIONS_PAYMENTS = read_scopes("accounting.transactions", "accounting.payments")
TRANSACTIONS_BANK = read_scopes("accounting.transactions", "accounting.banktransactions")
TRANSACTIONS_MANUAL_JOURNALS = read_scopes("accounting.transactions", "accounting.manualjournals")
TRANSACTIONS_ONLY = read_scopes("accounting.transactions")
SETTINGS = read_scopes("accounting.settings")
# Items belong to settings in the broad model and to invoices in the granular one.
SETTINGS_ITEMS = read_scopes("accounting.settings", "accounting.invoices")
CONTACTS = read_scopes("accounting.contacts")
JOURNALS = read_scopes("accounting.journals.read")
BUDGETS = read_scopes("accounting.budgets.read")
PAYMENT_SERVICES = ("paymentservices",)


@dataclass(frozen=True)
class Endpoint:
    """One Accounting collection endpoint, as Xero serves it."""

    path: str  # below the Accounting API base, e.g. "Invoices"; another API's from its base, "assets.xro/1.0/Assets"
    envelope_key: str  # key of the record list in the response body
    record_schema: str  # component schema of one record in the spec
    id_field: str | None  # the record's identifier (None: a singleton settings object)
    timestamp_field: str | None  # UpdatedDateUTC / CreatedDateUTC / None
    paging: Paging = Paging.NONE
    if_modified_since: bool = False  # honours the If-Modified-Since header
    scopes: tuple[str, ...] = SETTINGS
    include_archived: bool = False  # accepts includeArchived=true
    summary_only: bool = False  # accepts summaryOnly=true
    unitdp: bool = False  # accepts unitdp=4
    ids_filter: bool = False  # accepts IDs=<comma-separated ids>
    statuses_filter: bool = False  # accepts Statuses=<comma-separated>
    order: bool = True  # accepts order=...; harmless
    order_breaks_paging: bool = False  # ManualJournals: sending order returns everything on every page
    include_deleted: bool = False  # BankTransfers (July 2026)
    retired: bool = False  # ExpenseClaims/Receipts: 401/404/410 for most organisations
    webhook_category: str | None = None  # eventCategory of Xero webhooks for this resource
    # The Assets and Projects APIs (module docstring).
    max_page_size: int = MAX_PAGE_SIZE  # the largest pageSize the endpoint takes
    split_by: tuple[str, tuple[str, ...]] | None = None  # a required filter: one query per value (Assets' status)
    parent: Endpoint | None = None  # read once per record of ``parent``: ``{parent_key}`` in ``path`` is its id
    parent_key: str = ""  # the parent's id field, also copied onto each record when Xero leaves it out
    collection: str = ""  # the sandbox's name of the collection (``/_sandbox/counts``); default envelope_key
    fixed_params: tuple[tuple[str, str], ...] = ()  # sent on every call: a variant of another endpoint's path

    @property
    def collection_key(self) -> str:
        return self.collection or self.envelope_key

    @property
    def fixed_page_size(self) -> int | None:
        """Records per call when the client cannot choose (None: no paging or pageSize)."""
        return FIXED_PAGE_SIZE if self.paging in (Paging.PAGE, Paging.OFFSET) else None


def _paged(path: str, envelope: str, record: str, id_field: str, scopes: tuple[str, ...], **kw) -> Endpoint:
    return Endpoint(
        path, envelope, record, id_field, "UpdatedDateUTC",
        paging=Paging.PAGE_SIZE, if_modified_since=True, scopes=scopes, **kw,
    )


ACCOUNTS = Endpoint("Accounts", "Accounts", "Account", "AccountID", "UpdatedDateUTC", if_modified_since=True)
BANK_TRANSACTIONS = _paged(
    "BankTransactions", "BankTransactions", "BankTransaction", "BankTransactionID", TRANSACTIONS_BANK, unitdp=True
)
BANK_TRANSFERS = Endpoint(
    "BankTransfers", "BankTransfers", "BankTransfer", "BankTransferID", "CreatedDateUTC",
    if_modified_since=True, scopes=TRANSACTIONS_BANK, include_deleted=True,
)
BATCH_PAYMENTS = Endpoint(
    "BatchPayments", "BatchPayments", "BatchPayment", "BatchPaymentID", "UpdatedDateUTC",
    if_modified_since=True, scopes=TRANSACTIONS_PAYMENTS,
)
BRANDING_THEMES = Endpoint(
    "BrandingThemes", "BrandingThemes", "BrandingTheme", "BrandingThemeID", "CreatedDateUTC", order=False
)
BUDGETS_ENDPOINT = Endpoint(
    "Budgets", "Budgets", "Budget", "BudgetID", "UpdatedDateUTC", scopes=BUDGETS, ids_filter=True, order=False
)
CONTACT_GROUPS = Endpoint("ContactGroups", "ContactGroups", "ContactGroup", "ContactGroupID", None, scopes=CONTACTS)
CONTACTS_ENDPOINT = _paged(
    "Contacts", "Contacts", "Contact", "ContactID", CONTACTS,
    include_archived=True, summary_only=True, ids_filter=True, webhook_category="CONTACT",
)
CREDIT_NOTES = _paged(
    "CreditNotes", "CreditNotes", "CreditNote", "CreditNoteID", TRANSACTIONS_INVOICES,
    unitdp=True, webhook_category="CREDITNOTE",
)
CURRENCIES = Endpoint("Currencies", "Currencies", "Currency", "Code", None)
EXPENSE_CLAIMS = Endpoint(
    "ExpenseClaims", "ExpenseClaims", "ExpenseClaim", "ExpenseClaimID", "UpdatedDateUTC",
    if_modified_since=True, scopes=TRANSACTIONS_ONLY, retired=True,
)
INVOICES = _paged(
    "Invoices", "Invoices", "Invoice", "InvoiceID", TRANSACTIONS_INVOICES,
    include_archived=True, summary_only=True, unitdp=True, ids_filter=True, statuses_filter=True,
    webhook_category="INVOICE",
)
INVOICE_REMINDERS = Endpoint(
    "InvoiceReminders/Settings", "InvoiceReminders", "InvoiceReminder", None, None, order=False
)
ITEMS = Endpoint(
    "Items", "Items", "Item", "ItemID", "UpdatedDateUTC", if_modified_since=True, scopes=SETTINGS_ITEMS, unitdp=True
)
JOURNALS_ENDPOINT = Endpoint(
    "Journals", "Journals", "Journal", "JournalID", "CreatedDateUTC",
    paging=Paging.OFFSET, if_modified_since=True, scopes=JOURNALS, order=False,
)
# The cash-basis journals (the journals of payments): the Journals endpoint with paymentsOnly=true, gated
# like it. A variant of JOURNALS_ENDPOINT (same path and envelope), so it is not in ENDPOINTS / BY_PATH.
CASH_JOURNALS_ENDPOINT = dataclasses.replace(
    JOURNALS_ENDPOINT, fixed_params=(("paymentsOnly", "true"),), collection="CashJournals",  # the sandbox's counts key
)
LINKED_TRANSACTIONS = Endpoint(
    "LinkedTransactions", "LinkedTransactions", "LinkedTransaction", "LinkedTransactionID", "UpdatedDateUTC",
    paging=Paging.PAGE, scopes=TRANSACTIONS_INVOICES, order=False,
)
MANUAL_JOURNALS = _paged(
    "ManualJournals", "ManualJournals", "ManualJournal", "ManualJournalID", TRANSACTIONS_MANUAL_JOURNALS,
    order_breaks_paging=True,
)
ORGANISATION = Endpoint("Organisation", "Organisations", "Organisation", "OrganisationID", None, order=False)
OVERPAYMENTS = _paged(
    "Overpayments", "Overpayments", "Overpayment", "OverpaymentID", TRANSACTIONS_PAYMENTS, unitdp=True
)
PAYMENT_SERVICES_ENDPOINT = Endpoint(
    "PaymentServices", "PaymentServices", "PaymentService", "PaymentServiceID", None,
    scopes=PAYMENT_SERVICES, order=False,
)
PAYMENTS = _paged("Payments", "Payments", "Payment", "PaymentID", TRANSACTIONS_PAYMENTS)
PREPAYMENTS = _paged(
    "Prepayments", "Prepayments", "Prepayment", "PrepaymentID", TRANSACTIONS_PAYMENTS, unitdp=True
)
PURCHASE_ORDERS = _paged("PurchaseOrders", "PurchaseOrders", "PurchaseOrder", "PurchaseOrderID", TRANSACTIONS_INVOICES)
QUOTES = Endpoint(
    "Quotes", "Quotes", "Quote", "QuoteID", "UpdatedDateUTC",
    paging=Paging.PAGE, if_modified_since=True, scopes=TRANSACTIONS_INVOICES,
)
RECEIPTS = Endpoint(
    "Receipts", "Receipts", "Receipt", "ReceiptID", "UpdatedDateUTC",
    if_modified_since=True, scopes=TRANSACTIONS_ONLY, unitdp=True, retired=True,
)
REPEATING_INVOICES = Endpoint(
    "RepeatingInvoices", "RepeatingInvoices", "RepeatingInvoice", "RepeatingInvoiceID", None,
    scopes=TRANSACTIONS_INVOICES,
)
TAX_RATES = Endpoint("TaxRates", "TaxRates", "TaxRate", "TaxType", None)
TRACKING_CATEGORIES = Endpoint(
    "TrackingCategories", "TrackingCategories", "TrackingCategory", "TrackingCategoryID", None,
    include_archived=True,
)
USERS = Endpoint("Users", "Users", "User", "UserID", "UpdatedDateUTC", if_modified_since=True)

# -- the Assets and Projects APIs (module docstring) ---------------------------------------------------

ACCOUNTING_API = "api.xro/2.0"
ASSETS_API = "assets.xro/1.0"
PROJECTS_API = "projects.xro/2.0"
OTHER_API_BASES = (ASSETS_API, PROJECTS_API)
ASSETS_SCOPES = read_scopes("assets")  # ("assets", "assets.read")
PROJECTS_SCOPES = read_scopes("projects")
ASSET_STATUSES = ("DRAFT", "REGISTERED", "DISPOSED")  # GET /Assets requires one
# pageSize: Assets take at most 200 (Xero's Assets documentation; the spec states only the default, 10), the
# Projects API 1..500 (its spec; default 50).
ITEMS_ENVELOPE = "items"
BARE_LIST = ""  # envelope_key of an answer that is the list itself (GET /AssetTypes)


def _other_api(path: str, record: str, id_field: str, scopes: tuple[str, ...], collection: str, **kw) -> Endpoint:
    paged = kw.pop("paged", True)
    return Endpoint(
        path, ITEMS_ENVELOPE if paged else BARE_LIST, record, id_field, None,
        paging=Paging.PAGE_SIZE if paged else Paging.NONE, scopes=scopes, order=False, collection=collection, **kw,
    )


ASSETS = _other_api(
    f"{ASSETS_API}/Assets", "Asset", "assetId", ASSETS_SCOPES, "Assets",
    max_page_size=200, split_by=("status", ASSET_STATUSES),
)
ASSET_TYPES = _other_api(
    f"{ASSETS_API}/AssetTypes", "AssetType", "assetTypeId", ASSETS_SCOPES, "AssetTypes", paged=False
)
PROJECTS = _other_api(
    f"{PROJECTS_API}/Projects", "Project", "projectId", PROJECTS_SCOPES, "Projects", max_page_size=500
)
PROJECT_USERS = _other_api(
    f"{PROJECTS_API}/ProjectsUsers", "ProjectUser", "userId", PROJECTS_SCOPES, "ProjectUsers", max_page_size=500
)
PROJECT_TASKS = _other_api(
    f"{PROJECTS_API}/Projects/{{projectId}}/Tasks", "Task", "taskId", PROJECTS_SCOPES, "ProjectTasks",
    max_page_size=500, parent=PROJECTS, parent_key="projectId",
)
PROJECT_TIME_ENTRIES = _other_api(
    f"{PROJECTS_API}/Projects/{{projectId}}/Time", "TimeEntry", "timeEntryId", PROJECTS_SCOPES, "ProjectTimeEntries",
    max_page_size=500, parent=PROJECTS, parent_key="projectId",
)
OTHER_API_ENDPOINTS: tuple[Endpoint, ...] = (
    ASSETS, ASSET_TYPES, PROJECTS, PROJECT_USERS, PROJECT_TASKS, PROJECT_TIME_ENTRIES,
)
BY_COLLECTION: dict[str, Endpoint] = {e.collection_key: e for e in OTHER_API_ENDPOINTS}

ENDPOINTS: tuple[Endpoint, ...] = (
    ACCOUNTS, BANK_TRANSACTIONS, BANK_TRANSFERS, BATCH_PAYMENTS, BRANDING_THEMES, BUDGETS_ENDPOINT,
    CONTACT_GROUPS, CONTACTS_ENDPOINT, CREDIT_NOTES, CURRENCIES, EXPENSE_CLAIMS, INVOICES,
    INVOICE_REMINDERS, ITEMS, JOURNALS_ENDPOINT, LINKED_TRANSACTIONS, MANUAL_JOURNALS, ORGANISATION,
    OVERPAYMENTS, PAYMENT_SERVICES_ENDPOINT, PAYMENTS, PREPAYMENTS, PURCHASE_ORDERS, QUOTES, RECEIPTS,
    REPEATING_INVOICES, TAX_RATES, TRACKING_CATEGORIES, USERS,
)
BY_ENVELOPE: dict[str, Endpoint] = {e.envelope_key: e for e in ENDPOINTS}
BY_PATH: dict[str, Endpoint] = {e.path: e for e in ENDPOINTS}


class PeriodColumns(str, enum.Enum):
    """How a report answers several periods in one call (its ``periods`` and ``timeframe`` parameters)."""

    COMPARISONS = "comparisons"  # periods=N adds N earlier periods (timeframe=MONTH): N+1 columns, newest first
    COUNT = "count"  # periods=N columns from the month of ``date`` on (timeframe=1, months), oldest first


MAX_PERIOD_COLUMNS = 12  # ProfitAndLoss: periods=11 gives twelve monthly columns; BudgetSummary: periods=12


@dataclass(frozen=True)
class Report:
    """One report under /Reports/{name}; envelope "Reports", rows of Rows/Cells."""

    name: str  # path segment and ReportID, e.g. "BalanceSheet"
    granular_scope: str  # e.g. "accounting.reports.balancesheet.read"
    date_params: tuple[str, ...]  # how the period is asked for: ("date",) or ("FromDate", "ToDate")
    columns: PeriodColumns | None = None  # None: one period a call
    balances: bool = True  # a month's figures depend on every earlier posting (balances), not only the month's
    from_postings: bool = True  # figures are sums of journal lines (BudgetSummary's are the budget's)
    # The account type whose postings alone move its figures (a bank summary moves with bank accounts only);
    # None: any posting may.
    moved_by: str | None = None
    by_tracking: bool = False  # asked once per tracking category (trackingCategoryID): a column per option

    @property
    def path(self) -> str:
        return f"Reports/{self.name}"

    @property
    def scopes(self) -> tuple[str, ...]:
        return ("accounting.reports.read", self.granular_scope)

    @property
    def months_per_call(self) -> int:
        return MAX_PERIOD_COLUMNS if self.columns is not None else 1


REPORTS: tuple[Report, ...] = (
    Report("BalanceSheet", "accounting.reports.balancesheet.read", ("date",), PeriodColumns.COMPARISONS),
    Report(
        "ProfitAndLoss", "accounting.reports.profitandloss.read", ("fromDate", "toDate"), PeriodColumns.COMPARISONS,
        balances=False,
    ),
    Report("TrialBalance", "accounting.reports.trialbalance.read", ("date",)),
    Report("BankSummary", "accounting.reports.banksummary.read", ("fromDate", "toDate"), moved_by="BANK"),
    Report(
        "BudgetSummary", "accounting.reports.budgetsummary.read", ("date",), PeriodColumns.COUNT,
        balances=False, from_postings=False,
    ),
    Report("ExecutiveSummary", "accounting.reports.executivesummary.read", ("date",)),  # closing balances
)
REPORTS_BY_NAME: dict[str, Report] = {r.name: r for r in REPORTS}
# ProfitAndLoss?trackingCategoryID=<id>: one value column per option of the category, then "Unassigned" (lines
# tracked to none of them) and "Total". The spec documents no layout for tracking columns over several
# ``periods``, so it is asked one month a call (columns None). A variant of ProfitAndLoss: not in REPORTS.
PROFIT_AND_LOSS_BY_TRACKING = dataclasses.replace(REPORTS_BY_NAME["ProfitAndLoss"], columns=None, by_tracking=True)
TRACKING_TOTAL_COLUMN = "Total"  # the last column of an answer by tracking category: the plain report's figure

WEBHOOK_CATEGORIES: dict[str, Endpoint] = {e.webhook_category: e for e in ENDPOINTS if e.webhook_category}
