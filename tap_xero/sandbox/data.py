"""Deterministic, lazy generator of coherent Xero organisations.

Every record is a pure function of ``(seed, tenant, collection, index)``: nothing
is held as JSON or as full dicts for the big collections. At construction one
walk over the invoices decides the settlement of each invoice (payments, credit
notes, prepayments, overpayments) and the order of the journals, and keeps only
compact numbers (``array`` columns) plus per-account daily totals for reports.

Conventions (see docs/sandbox-data.md):

- money is held as integer cents (unit amounts as 1/10000ths) and served as
  ``Decimal``; journal amounts are signed: positive = debit, negative = credit;
- days are proleptic ordinals (``date.toordinal()``), timestamps Unix milliseconds;
- generated timestamps grow with the record index, so the natural order of a
  collection is its UpdatedDateUTC (or CreatedDateUTC) order, and If-Modified-Since
  is a binary search;
- record identifiers encode the index in their last 12 hex digits, so a lookup by
  ID costs nothing.
"""

from __future__ import annotations

import bisect
from array import array
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable, NamedTuple

MASK64 = (1 << 64) - 1
UNIX_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
DAY_MS = 86_400_000

# Document dates span two years; generated timestamps follow them (see spread_ms).
FIRST_DAY = date(2024, 1, 1).toordinal()
DATE_SPAN_DAYS = 730
STAMP_START_MS = (date(2024, 1, 2).toordinal() - UNIX_EPOCH_ORDINAL) * DAY_MS + 8 * 3_600_000
STAMP_SPAN_MS = 760 * DAY_MS
# Every generated timestamp is below this; mutations are stamped after it.
GENERATED_MAX_MS = STAMP_START_MS + STAMP_SPAN_MS
PRE_1970_INVOICE_DAY = date(1965, 3, 14).toordinal()
PRE_1970_JOURNAL_DAY = date(1969, 12, 31).toordinal()
# Lock dates of even tenants (odd tenants have none): before every generated document but the
# pre-1970 edge records, so mutations of generated documents are allowed until a test locks more.
PERIOD_LOCK_DAY = date(2023, 12, 31).toordinal()
END_OF_YEAR_LOCK_DAY = date(2023, 6, 30).toordinal()  # a financial year end (30 June)

CENT = Decimal("0.01")


# ---------------------------------------------------------------- primitives

def mix(*parts: int) -> int:
    """A 64-bit hash of integers (splitmix64 finaliser folded over the parts)."""
    h = 0x9E3779B97F4A7C15
    for part in parts:
        h = ((h ^ (part & MASK64)) * 0xBF58476D1CE4E5B9) & MASK64
        h ^= h >> 31
        h = (h * 0x94D049BB133111EB) & MASK64
        h ^= h >> 29
    return h


class Draw:
    """A tiny deterministic random stream (splitmix64), far cheaper to seed than random.Random."""

    __slots__ = ("state",)

    def __init__(self, *key: int) -> None:
        self.state = mix(*key)

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, n: int) -> int:
        return self.next() % n

    def pick(self, seq):
        return seq[self.next() % len(seq)]


def uuid_of(h: int, index: int | None = None) -> str:
    """A version-4-shaped UUID from a hash; with ``index``, the last 12 hex digits are the index."""
    hx = f"{mix(h, 1):016x}{mix(h, 2):016x}"
    tail = f"{index:012x}" if index is not None else hx[20:32]
    return f"{hx[0:8]}-{hx[8:12]}-4{hx[12:15]}-{'89ab'[int(hx[15], 16) % 4]}{hx[16:19]}-{tail}"


def half_up(numerator: int, denominator: int) -> int:
    """Integer division rounding half away from zero (Xero rounds money this way)."""
    q, r = divmod(abs(numerator), denominator)
    if 2 * r >= denominator:
        q += 1
    return q if numerator >= 0 else -q


def money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def cents_of(amount) -> int:
    return int((Decimal(str(amount)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def day_ms(day: int) -> int:
    return (day - UNIX_EPOCH_ORDINAL) * DAY_MS


def ms_date(ms: int) -> str:
    """Xero's /Date(ms+0000)/ form (ms may be negative: before 1970)."""
    return f"/Date({ms}+0000)/"


def day_date(day: int) -> str:
    return ms_date(day_ms(day))


def day_string(day: int) -> str:
    return date.fromordinal(day).isoformat() + "T00:00:00"


def parse_ms_date(value: str) -> int:
    """Milliseconds of a /Date(ms+zzzz)/ string (the suffix is a note, not an offset to add)."""
    inner = value[value.index("(") + 1: value.index(")")]
    for sign in ("+", "-"):
        cut = inner.find(sign, 1)
        if cut > 0:
            inner = inner[:cut]
            break
    return int(inner)


def ms_to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def datetime_to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(round(moment.timestamp() * 1000))


def spread_ms(index: int, count: int) -> int:
    """The generated timestamp of record ``index`` of ``count``: non-decreasing in ``index``.

    A block in the middle (a twentieth of the collection, at least 5 records) shares one
    timestamp, as a bulk import does, so clients meet many records in one second.
    """
    if count >= 20:
        block_start = count // 2
        if block_start <= index < block_start + max(5, count // 20):
            index = block_start
    return STAMP_START_MS + index * STAMP_SPAN_MS // max(count, 1)


def day_of(index: int, count: int) -> int:
    """The document date of record ``index`` of ``count``: spread over two years in index order."""
    return FIRST_DAY + index * DATE_SPAN_DAYS // max(count, 1)


# ---------------------------------------------------------------- fixed reference data

# (code, name, type, tax type, system account)
CHART: tuple[tuple[str, str, str, str, str | None], ...] = (
    ("090", "Business Bank Account", "BANK", "NONE", None),
    ("091", "Business Savings Account", "BANK", "NONE", None),
    ("092", "Company Credit Card", "BANK", "NONE", None),
    ("610", "Accounts Receivable", "CURRENT", "NONE", "DEBTORS"),
    ("620", "Prepayments", "PREPAYMENT", "NONE", None),
    ("630", "Inventory", "INVENTORY", "NONE", None),
    ("710", "Office Equipment", "FIXED", "INPUT", None),
    ("720", "Computer Equipment", "FIXED", "INPUT", None),
    ("800", "Accounts Payable", "CURRLIAB", "NONE", "CREDITORS"),
    ("820", "Sales Tax", "CURRLIAB", "NONE", "GST"),
    ("840", "Historical Adjustment", "CURRLIAB", "NONE", "HISTORICAL"),
    ("900", "Loan", "TERMLIAB", "NONE", None),
    ("960", "Retained Earnings", "EQUITY", "NONE", "RETAINEDEARNINGS"),
    ("970", "Owner A Funds Introduced", "EQUITY", "NONE", None),
    ("200", "Sales", "REVENUE", "OUTPUT", None),
    ("260", "Other Revenue", "REVENUE", "OUTPUT", None),
    ("270", "Interest Income", "OTHERINCOME", "NONE", None),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "INPUT", None),
    ("400", "Advertising", "OVERHEADS", "INPUT", None),
    ("404", "Bank Fees", "OVERHEADS", "NONE", None),
    ("412", "Consulting & Accounting", "EXPENSE", "INPUT", None),
    ("420", "Entertainment", "EXPENSE", "INPUT", None),
    ("429", "General Expenses", "OVERHEADS", "INPUT", None),
    ("433", "Insurance", "EXPENSE", "INPUT", None),
    ("445", "Light, Power, Heating", "OVERHEADS", "INPUT", None),
    ("453", "Office Expenses", "OVERHEADS", "INPUT", None),
    ("469", "Rent", "OVERHEADS", "INPUT", None),
    ("489", "Telephone & Internet", "OVERHEADS", "INPUT", None),
    ("493", "Travel - National", "OVERHEADS", "INPUT", None),
    ("499", "Ältere Ausgaben – 旧経費 (archived)", "EXPENSE", "INPUT", None),
)
ARCHIVED_ACCOUNT_CODES = frozenset({"499"})
BANK_CODES = ("090", "091", "092")
AR_CODE, AP_CODE, TAX_CODE = "610", "800", "820"
REVENUE_CODES = ("200", "260", "270")
EXPENSE_CODES = ("310", "400", "404", "412", "420", "429", "433", "445", "453", "469", "489", "493")

ACCOUNT_CLASS = {
    "BANK": "ASSET", "CURRENT": "ASSET", "FIXED": "ASSET", "INVENTORY": "ASSET", "PREPAYMENT": "ASSET",
    "NONCURRENT": "ASSET", "CURRLIAB": "LIABILITY", "LIABILITY": "LIABILITY", "TERMLIAB": "LIABILITY",
    "PAYG": "LIABILITY", "EQUITY": "EQUITY", "REVENUE": "REVENUE", "SALES": "REVENUE",
    "OTHERINCOME": "REVENUE", "DIRECTCOSTS": "EXPENSE", "EXPENSE": "EXPENSE", "OVERHEADS": "EXPENSE",
    "DEPRECIATN": "EXPENSE",
}

# (TaxType, name, rate in basis points, status, ReportTaxType)
TAX_RATES: tuple[tuple[str, str, int, str, str], ...] = (
    ("OUTPUT", "Tax on Sales", 1000, "ACTIVE", "OUTPUT"),
    ("INPUT", "Tax on Purchases", 1000, "ACTIVE", "INPUT"),
    ("NONE", "No Tax", 0, "ACTIVE", "NONE"),
    ("EXEMPTOUTPUT", "Exempt Sales", 0, "ACTIVE", "EXEMPTOUTPUT"),
    ("EXEMPTEXPENSES", "Exempt Expenses", 0, "ACTIVE", "EXEMPTEXPENSES"),
    ("BASEXCLUDED", "BAS Excluded", 0, "ACTIVE", "BASEXCLUDED"),
    ("TAX001", "Former reduced rate 12.5%", 1250, "ARCHIVED", "OUTPUT"),
)
TAX_BP = {t[0]: t[2] for t in TAX_RATES}
TAX_NAME = {t[0]: t[1] for t in TAX_RATES}

# (category name, status, ((option name, status), ...))
TRACKING = (
    ("Region", "ACTIVE", (("North", "ACTIVE"), ("South", "ACTIVE"), ("East", "ACTIVE"), ("West", "ARCHIVED"))),
    ("Department", "ACTIVE", (("Sales", "ACTIVE"), ("Operations", "ACTIVE"), ("Administración", "ACTIVE"))),
    ("Legacy Projects", "ARCHIVED", (("Project Ω", "ARCHIVED"),)),
)
REGION_OPTIONS = 3  # the active Region options line items use

ORG_PROFILES = (  # (name, Version, BaseCurrency, CountryCode, Timezone)
    ("Demo Company (AU)", "AU", "AUD", "AU", "AUSEASTERNSTANDARDTIME"),
    ("Ünïcødé Trading 株式会社 (NZ)", "NZ", "NZD", "NZ", "NEWZEALANDSTANDARDTIME"),
    ("Demo Company (UK)", "UK", "GBP", "GB", "GMTSTANDARDTIME"),
    ("Demo Company (US)", "US", "USD", "US", "EASTERNSTANDARDTIME"),
    ("Demo Company (Global)", "GLOBAL", "EUR", "IE", "GMTSTANDARDTIME"),
)
EXTRA_CURRENCIES = ("USD", "EUR", "GBP", "AUD")
CURRENCY_NAMES = {
    "AUD": "Australian Dollar", "NZD": "New Zealand Dollar", "GBP": "British Pound", "USD": "United States Dollar",
    "EUR": "Euro",
}

NAME_FIRST = ("Acme", "Bayside", "Cobalt", "Delta", "Evergreen", "Foxglove", "Granite", "Harbour", "Ironbark",
              "Juniper", "Kestrel", "Lighthouse", "Meridian", "Northwind", "Orchard", "Pinnacle", "Quarry",
              "Riverside", "Summit", "Tidewater")
NAME_SECOND = ("Supplies", "Consulting", "Electrical", "Bakery", "Logistics", "Design", "Hardware", "Media",
               "Plumbing", "Traders", "Software", "Catering")
NAME_SUFFIX = ("Ltd", "Pty Ltd", "& Co", "Group", "Limited", "LLC")
PEOPLE = (("Ada", "Lovelace"), ("Grace", "Hopper"), ("Alan", "Turing"), ("Zoë", "Ångström"),
          ("Łukasz", "Żółć"), ("Mei", "Tanaka"), ("José", "Núñez"), ("Olu", "Adeyemi"))
UNICODE_CONTACT_NAME = "Zoë Ångström & Søn — 東京支店 🍣"
LONG_CONTACT_NAME = ("The Extraordinarily Long-Named International Holding Company of Widgets, Gadgets, "
                     "Sprockets and Assorted Miscellaneous Engineering Components (Asia-Pacific Region) ") * 2
LONG_CONTACT_NAME = LONG_CONTACT_NAME[:255].rstrip()

# (code, name, sales unit e4, purchase unit e4, sales account, purchase account)
ITEMS: tuple[tuple[str, str, int, int, str, str], ...] = tuple(
    (f"ITEM-{k:03d}", name, sales, purchase, "200", "310")
    for k, (name, sales, purchase) in enumerate((
        ("Golf balls - white single", 41_0000, 15_0000),
        ("Precision bolt 4.2mm", 1234, 617),  # 4-decimal unit amounts: 0.1234 / 0.0617
        ("Consulting hour", 150_0000, 0),
        ("Cloud hosting (month)", 99_9900, 45_5000),
        ("Café latte ☕", 4_7500, 1_2050),
        ("Shipping per kg", 3_3333, 2_1111),
        ("Toner cartridge", 89_0000, 52_0000),
        ("Training day", 950_0000, 0),
        ("Spare part 7", 12_3456, 7_6543),
        ("Annual licence", 1_200_0000, 600_0000),
    ), start=1)
)

INVOICE_STATUS_WEIGHTS = (("DRAFT", 6), ("SUBMITTED", 4), ("AUTHORISED", 30), ("PAID", 48), ("VOIDED", 5),
                          ("DELETED", 7))
STATUS_CODES = ("DRAFT", "SUBMITTED", "AUTHORISED", "PAID", "VOIDED", "DELETED")
STATUS_CODE = {s: k for k, s in enumerate(STATUS_CODES)}
_STATUS_TABLE = bytes(STATUS_CODE[s] for s, w in INVOICE_STATUS_WEIGHTS for _ in range(w))
POSTED_INVOICE_STATUSES = frozenset({"AUTHORISED", "PAID"})
FORCED_SETTLEMENTS = ("credit", "prepayment", "overpayment", "prepayment", "overpayment", "credit")

# Collection codes: part of every hash key and ID prefix.
COLLECTION_CODES = {
    "Accounts": 1, "BankTransactions": 2, "BankTransfers": 3, "BatchPayments": 4, "BrandingThemes": 5,
    "Budgets": 6, "ContactGroups": 7, "Contacts": 8, "CreditNotes": 9, "Currencies": 10, "ExpenseClaims": 11,
    "Invoices": 12, "InvoiceReminders": 13, "Items": 14, "Journals": 15, "LinkedTransactions": 16,
    "ManualJournals": 17, "Organisations": 18, "Overpayments": 19, "PaymentServices": 20, "Payments": 21,
    "Prepayments": 22, "PurchaseOrders": 23, "Quotes": 24, "Receipts": 25, "RepeatingInvoices": 26,
    "TaxRates": 27, "TrackingCategories": 28, "Users": 29, "LineItems": 40, "JournalLines": 41,
    "TrackingOptions": 42, "Tenants": 43,
}

# Journal source kinds (index into the journal columns).
J_INVOICE, J_CREDIT_NOTE, J_PAYMENT, J_PREPAYMENT, J_OVERPAYMENT, J_BANK_TXN, J_TRANSFER, J_MANUAL = range(8)
PAYMENT_SOURCE_TYPES = frozenset({"ACCRECPAYMENT", "ACCPAYPAYMENT", "ARCREDITPAYMENT", "APCREDITPAYMENT",
                                  "AROVERPAYMENTPAYMENT", "ARPREPAYMENTPAYMENT", "APPREPAYMENTPAYMENT",
                                  "APOVERPAYMENTPAYMENT"})


class Line(NamedTuple):
    """One generated line item, in integer units (net and tax computed once, by ``make_line``)."""

    account: str
    item: int  # index into ITEMS, -1 for none
    qty_e4: int
    unit_e4: int
    tax_type: str
    tracking: int  # Region option index, -1 for none
    description: str
    net: int  # cents: quantity x unit amount, rounded half up
    tax: int  # cents: net x rate, rounded half up


def make_line(account: str, item: int, qty_e4: int, unit_e4: int, tax_type: str, tracking: int,
              description: str) -> Line:
    net = half_up(qty_e4 * unit_e4, 1_000_000)
    return Line(account, item, qty_e4, unit_e4, tax_type, tracking, description, net,
                half_up(net * TAX_BP.get(tax_type, 0), 10_000))


class Posting(NamedTuple):
    """One journal line: signed cents (debit positive), its tax part, and optional tracking."""

    account: str
    net: int
    tax: int = 0
    tax_type: str = "NONE"
    tracking: tuple[str, str, str, str] | None = None  # (category id, option id, name, option)


class Core(NamedTuple):
    """What one generated document is, before it becomes a Xero-shaped dict."""

    receivable: bool  # sales side (ACCREC, RECEIVE, ...)
    status: str
    contact: int
    day: int
    lines: tuple[Line, ...]

    @property
    def subtotal(self) -> int:
        return sum(line.net for line in self.lines)

    @property
    def total_tax(self) -> int:
        return sum(line.tax for line in self.lines)

    @property
    def total(self) -> int:
        return self.subtotal + self.total_tax


def document_postings(counter_account: str, lines: list[Posting], sign: int) -> list[Posting]:
    """Double entry for a document: ``lines`` (net, tax) against one counter account.

    ``sign`` +1: the counter account is debited (a sale: AR; money in: bank); -1: credited.
    The lines take the opposite side, their tax goes to the tax account; the result balances.
    """
    postings: list[Posting] = []
    total = 0
    tax_total = 0
    for line in lines:
        postings.append(Posting(line.account, -sign * line.net, -sign * line.tax, line.tax_type, line.tracking))
        total += line.net + line.tax
        tax_total += line.tax
    if tax_total:
        postings.append(Posting(TAX_CODE, -sign * tax_total))
    postings.insert(0, Posting(counter_account, sign * total))
    return postings


def reversed_postings(postings: list[Posting]) -> list[Posting]:
    return [p._replace(net=-p.net, tax=-p.tax) for p in postings]


# ---------------------------------------------------------------- collections

class Collection:
    """One collection of one tenant: ``count`` records addressable by index, in timestamp order."""

    def __init__(self, org: "Organisation", key: str, count: int, build: Callable[[int], dict],
                 id_field: str | None, stamp: Callable[[int], int | None] | None = None,
                 status_of: Callable[[int], str] | None = None) -> None:
        self.org = org
        self.key = key
        self.count = count
        self.build = build
        self.id_field = id_field
        self._prefix = org.ident(key, 0)[:-12]  # what every generated ID of this collection starts with
        self.stamp = stamp or (lambda index: spread_ms(index, self.count))
        self.status_of = status_of  # cheap status without building the record (filters)
        self._ids: dict[str, int] | None = None

    def record(self, index: int) -> dict:
        return self.build(index)

    def id_of(self, index: int) -> str:
        return self.org.ident(self.key, index)

    def index_of(self, record_id: str) -> int | None:
        """The base index of ``record_id`` (or of a created record: count and above)."""
        record_id = record_id.lower() if isinstance(record_id, str) else record_id
        if isinstance(record_id, str) and record_id.startswith(self._prefix) and len(record_id) == 36:
            try:
                return int(record_id[-12:], 16)
            except ValueError:
                return None
        if self._ids is None:  # keys that are not generated UUIDs (Code, TaxType)
            self._ids = {str(self.build(i).get(self.id_field)).lower(): i for i in range(self.count)} \
                if self.id_field else {}
        return self._ids.get(str(record_id).lower())

    def first_at_or_after(self, ms: int) -> int:
        """Index of the first record stamped at or after ``ms`` (stamps grow with the index)."""
        return bisect.bisect_left(range(self.count), ms, key=self.stamp)


# ---------------------------------------------------------------- one organisation

class Organisation:
    """All generated data of one tenant; records are built on demand from compact columns."""

    def __init__(self, seed: int, tenant_index: int, scale: int) -> None:
        self.seed = seed
        self.tenant_index = tenant_index
        self.key = mix(seed, tenant_index, 0x7E7A)
        self.scale = max(1, scale)
        self.tenant_id = uuid_of(mix(seed, tenant_index, COLLECTION_CODES["Tenants"]))
        profile = ORG_PROFILES[tenant_index % len(ORG_PROFILES)]
        self.name = profile[0] if tenant_index < len(ORG_PROFILES) else f"{profile[0]} #{tenant_index + 1}"
        self.version, self.base_currency, self.country, self.timezone = profile[1:]
        self.created_ms = STAMP_START_MS - 400 * DAY_MS + tenant_index * 3_600_000

        n = self.scale
        self.n_contacts = max(20, n // 10)
        self.n_bank_txns = max(5, n // 5)
        self.n_transfers = max(3, n // 50)
        self.n_manual = max(3, n // 100)
        self.n_purchase_orders = max(3, n // 10)
        self.n_quotes = max(3, n // 10)
        self.n_repeating = max(2, n // 100)
        self.n_linked = max(2, n // 50)

        self._last_core: tuple[int, Core | None] = (-1, None)
        self._id_prefixes: dict[str, str] = {}
        self._build_reference_data()
        self._walk()
        self._build_collections()

    # ------------------------------------------------------------ helpers
    def ident(self, key: str, index: int) -> str:
        """The ID of record ``index`` of collection ``key``: a fixed prefix and the index in hex."""
        prefix = self._id_prefixes.get(key)
        if prefix is None:
            prefix = self._id_prefixes[key] = uuid_of(mix(self.key, COLLECTION_CODES[key]), 0)[:-12]
        return f"{prefix}{index:012x}"

    def account(self, code: str) -> dict:
        return self.accounts_by_code[code]

    def account_ref(self, code: str) -> dict:
        acc = self.accounts_by_code[code]
        return {"AccountID": acc["AccountID"], "Code": code, "Name": acc["Name"]}

    def contact_ref(self, contact: int) -> dict:
        return {"ContactID": self.ident("Contacts", contact), "Name": self.contact_name(contact)}

    def tracking_ref(self, option: int) -> tuple[str, str, str, str]:
        category = self.tracking_categories[0]
        opt = category["Options"][option]
        return (category["TrackingCategoryID"], opt["TrackingOptionID"], category["Name"], opt["Name"])

    def _lines(self, draw: Draw, receivable: bool, max_lines: int = 3) -> tuple[Line, ...]:
        # One 64-bit draw per line, sliced into fields: construction time is dominated by this.
        lines = []
        for _ in range(1 + draw.below(max_lines)):
            bits = draw.next()
            item = (bits & 0xFF) % (len(ITEMS) + 4)
            if item < len(ITEMS) and (receivable or ITEMS[item][3]):
                code, name, sales, purchase, sales_acc, purchase_acc = ITEMS[item]
                unit, account, description = (sales, sales_acc, name) if receivable else (purchase, purchase_acc, name)
            else:
                item = -1
                codes = REVENUE_CODES if receivable else EXPENSE_CODES
                account = codes[(bits >> 8 & 0xFF) % len(codes)]
                unit = (100 + (bits >> 16 & 0xFFFFF) % 200_000) * 100
                description = f"{'Services' if receivable else 'Purchase'} ref {(bits >> 36 & 0xFFFFF) % 100000:05d}"
            qty = (1 + (bits >> 56 & 0xF) % 12) * 10_000
            if (bits >> 60) % 9 == 0:
                qty += 5_000  # fractional quantities happen
            tax_type = self.accounts_by_code[account]["TaxType"]
            if tax_type in ("OUTPUT", "INPUT"):
                tax_type = "OUTPUT" if receivable else "INPUT"
                if (bits >> 52 & 0xF) % 10 == 0:
                    tax_type = "EXEMPTOUTPUT" if receivable else "EXEMPTEXPENSES"
            tracking = (bits >> 48 & 0xF) % (REGION_OPTIONS + 2)
            lines.append(make_line(account, item, qty, unit, tax_type, tracking if tracking < REGION_OPTIONS else -1,
                                   description))
        return tuple(lines)

    def _pick_contact(self, value: int, receivable: bool) -> int:
        # Contacts with index % 3 == 0 are suppliers, the others customers.
        c = value % self.n_contacts
        if receivable:
            return c if c % 3 else (c + 1) % self.n_contacts or 1
        return (c // 3) * 3

    def line_items(self, owner_key: str, owner_index: int, lines: tuple[Line, ...], unitdp4: bool = True) -> list[dict]:
        """Xero LineItem dicts (UnitAmount keeps 4 decimals; the store rounds it unless unitdp=4)."""
        out = []
        for k, line in enumerate(lines):
            item = {
                "LineItemID": uuid_of(mix(self.key, COLLECTION_CODES["LineItems"], COLLECTION_CODES[owner_key],
                                          owner_index, k)),
                "Description": line.description,
                "Quantity": Decimal(line.qty_e4).scaleb(-4).normalize() if line.qty_e4 % 10_000 else
                Decimal(line.qty_e4 // 10_000).quantize(Decimal("0.0001")),
                "UnitAmount": Decimal(line.unit_e4).scaleb(-4),
                "AccountCode": line.account,
                "AccountID": self.accounts_by_code[line.account]["AccountID"],
                "TaxType": line.tax_type,
                "TaxAmount": money(line.tax),
                "LineAmount": money(line.net),
                "Tracking": [],
            }
            if line.item >= 0:
                code, name = ITEMS[line.item][:2]
                item["ItemCode"] = code
                item["Item"] = {"ItemID": self.ident("Items", line.item), "Code": code, "Name": name}
            if line.tracking >= 0:
                cat_id, opt_id, name, option = self.tracking_ref(line.tracking)
                item["Tracking"] = [{"TrackingCategoryID": cat_id, "TrackingOptionID": opt_id, "Name": name,
                                     "Option": option}]
            out.append(item)
        return out

    def line_postings(self, lines: tuple[Line, ...]) -> list[Posting]:
        refs = self._region_refs
        return [Posting(line.account, line.net, line.tax, line.tax_type,
                        refs[line.tracking] if line.tracking >= 0 else None) for line in lines]

    # ------------------------------------------------------------ reference data (small, eager)
    def _build_reference_data(self) -> None:
        acc = []
        for k, (code, name, typ, tax, system) in enumerate(CHART):
            record = {
                "AccountID": self.ident("Accounts", k), "Code": code, "Name": name, "Type": typ,
                "Status": "ARCHIVED" if code in ARCHIVED_ACCOUNT_CODES else "ACTIVE",
                "TaxType": tax, "Class": ACCOUNT_CLASS[typ], "EnablePaymentsToAccount": False,
                "ShowInExpenseClaims": typ in ("EXPENSE", "OVERHEADS"), "HasAttachments": False,
                "ReportingCode": f"{ACCOUNT_CLASS[typ][:3]}.{code}", "ReportingCodeName": name,
                "AddToWatchlist": code in ("090", "200"),
                "UpdatedDateUTC": ms_date(spread_ms(k, len(CHART))),
            }
            if k % 4 == 1:
                record["Description"] = f"{name} — used by the sandbox's generated documents"
            if system:
                record["SystemAccount"] = system
            if typ == "BANK":
                record["BankAccountType"] = "CREDITCARD" if code == "092" else "BANK"
                record["BankAccountNumber"] = f"{mix(self.key, k) % 10**10:010d}"
                record["CurrencyCode"] = self.base_currency
                record["EnablePaymentsToAccount"] = True
            acc.append(record)
        self.accounts = acc
        self.accounts_by_code = {a["Code"]: a for a in acc}
        self.account_code_by_id = {a["AccountID"]: a["Code"] for a in acc}

        self.tax_rates = [{
            "Name": name, "TaxType": tax_type, "Status": status, "ReportTaxType": report,
            "TaxComponents": [{"Name": "GST" if bp else "None", "Rate": Decimal(bp).scaleb(-2), "IsCompound": False,
                               "IsNonRecoverable": False}],
            "CanApplyToAssets": True, "CanApplyToEquity": True, "CanApplyToExpenses": True,
            "CanApplyToLiabilities": True, "CanApplyToRevenue": True,
            "DisplayTaxRate": Decimal(bp).scaleb(-2), "EffectiveRate": Decimal(bp).scaleb(-2),
        } for tax_type, name, bp, status, report in TAX_RATES]

        codes = [self.base_currency] + [c for c in EXTRA_CURRENCIES if c != self.base_currency][:2]
        self.currencies = [{"Code": c, "Description": CURRENCY_NAMES[c]} for c in codes]

        self.tracking_categories = []
        for k, (name, status, options) in enumerate(TRACKING):
            cat_id = self.ident("TrackingCategories", k)
            self.tracking_categories.append({
                "TrackingCategoryID": cat_id, "Name": name, "Status": status,
                "Options": [{"TrackingOptionID": uuid_of(mix(self.key, COLLECTION_CODES["TrackingOptions"], k, j)),
                             "Name": opt, "Status": opt_status, "TrackingCategoryID": cat_id}
                            for j, (opt, opt_status) in enumerate(options)],
            })

        self.contact_groups = [{
            "ContactGroupID": self.ident("ContactGroups", k), "Name": name, "Status": status, "Contacts": [],
        } for k, (name, status) in enumerate((("Preferred Customers", "ACTIVE"), ("Suppliers", "ACTIVE"),
                                              ("Grüppe Ω", "ACTIVE"), ("Old group", "DELETED")))]

        self.branding_themes = [{
            "BrandingThemeID": self.ident("BrandingThemes", k), "Name": name, "Type": "INVOICE", "SortOrder": k,
            "CreatedDateUTC": ms_date(spread_ms(k, 2)),
            **({"LogoUrl": f"https://sandbox.invalid/logo/{k}.png"} if k == 0 else {}),
        } for k, name in enumerate(("Standard", "Special Projects"))]

        roles = ("STANDARD", "FINANCIALADVISER", "READONLY")
        self.users = [{
            "UserID": self.ident("Users", k), "EmailAddress": f"{first.lower()}.{last.lower()}@example.com",
            "FirstName": first, "LastName": last, "UpdatedDateUTC": ms_date(spread_ms(k, 3)),
            "IsSubscriber": k == 0, "OrganisationRole": roles[k],
        } for k, (first, last) in enumerate(PEOPLE[:3])]

        self.organisation = {
            "OrganisationID": self.ident("Organisations", 0), "APIKey": f"SANDBOX{self.tenant_index:04d}",
            "Name": self.name, "LegalName": f"{self.name} Holdings", "PaysTax": True, "Version": self.version,
            "OrganisationType": "COMPANY", "OrganisationEntityType": "COMPANY",
            "BaseCurrency": self.base_currency, "CountryCode": self.country, "IsDemoCompany": False,
            "OrganisationStatus": "ACTIVE", "RegistrationNumber": f"{mix(self.key, 5) % 10**9:09d}",
            "TaxNumber": f"{mix(self.key, 6) % 10**9:09d}", "FinancialYearEndDay": 30,
            "FinancialYearEndMonth": 6, "SalesTaxBasis": "ACCRUALS", "SalesTaxPeriod": "QUARTERLY",
            "DefaultSalesTax": "Tax Exclusive", "DefaultPurchasesTax": "Tax Exclusive",
            "CreatedDateUTC": ms_date(self.created_ms), "Timezone": self.timezone,
            "ShortCode": f"!{mix(self.key, 7) % 36**5:05x}", "Class": "PREMIUM", "Edition": "BUSINESS",
            "LineOfBusiness": "Sandbox trading",
            "Addresses": [{"AddressType": "STREET", "AddressLine1": "1 Sandbox Way", "City": "Wellington",
                           "PostalCode": "6011", "Country": self.country}],
            "Phones": [{"PhoneType": "OFFICE", "PhoneNumber": "5550100", "PhoneAreaCode": "04"}],
            "ExternalLinks": [{"LinkType": "Website", "Url": "https://sandbox.invalid"}],
            "PaymentTerms": {"Bills": {"Day": 20, "Type": "OFFOLLOWINGMONTH"},
                             "Sales": {"Day": 14, "Type": "DAYSAFTERBILLDATE"}},
        }
        if self.tenant_index % 2 == 0:  # even tenants have both lock dates, odd ones none (fields absent)
            self.organisation["PeriodLockDate"] = day_date(PERIOD_LOCK_DAY)
            self.organisation["EndOfYearLockDate"] = day_date(END_OF_YEAR_LOCK_DAY)
        self._region_refs = [self.tracking_ref(k) for k in range(REGION_OPTIONS)]
        self.invoice_reminders = [{"Enabled": True}]
        self.payment_services = [{
            "PaymentServiceID": self.ident("PaymentServices", 0), "PaymentServiceName": "Sandbox Pay",
            "PaymentServiceUrl": "https://pay.sandbox.invalid/?invoiceNo=[INVOICENUMBER]",
            "PayNowText": "Pay now", "PaymentServiceType": "Custom",
        }]
        self.items = [self._item(k) for k in range(len(ITEMS))]
        self.expense_claims = [self._expense_claim(k) for k in range(3)]
        self.receipts = [self._receipt(k) for k in range(5)]

    def _item(self, k: int) -> dict:
        code, name, sales, purchase, sales_acc, purchase_acc = ITEMS[k]
        record = {
            "ItemID": self.ident("Items", k), "Code": code, "Name": name, "Description": name,
            "IsSold": True, "IsPurchased": bool(purchase), "IsTrackedAsInventory": False,
            "SalesDetails": {"UnitPrice": Decimal(sales).scaleb(-4), "AccountCode": sales_acc, "TaxType": "OUTPUT"},
            "UpdatedDateUTC": ms_date(spread_ms(k, len(ITEMS))),
        }
        if purchase:
            record["PurchaseDescription"] = f"{name} (purchase)"
            record["PurchaseDetails"] = {"UnitPrice": Decimal(purchase).scaleb(-4), "AccountCode": purchase_acc,
                                         "TaxType": "INPUT"}
        return record

    def _user_ref(self, k: int) -> dict:
        user = self.users[k % len(self.users)]
        return {key: user[key] for key in ("UserID", "FirstName", "LastName", "EmailAddress")}

    def _receipt(self, k: int) -> dict:
        draw = Draw(self.key, COLLECTION_CODES["Receipts"], k)
        lines = self._lines(draw, receivable=False, max_lines=2)
        core = Core(False, "DRAFT", self._pick_contact(draw.next(), False), day_of(k, 5), lines)
        return {
            "ReceiptID": self.ident("Receipts", k), "ReceiptNumber": str(k + 1), "Reference": f"Receipt {k + 1}",
            "Status": ("DRAFT", "SUBMITTED", "DECLINED")[k % 3], "User": self._user_ref(k),
            "Contact": self.contact_ref(core.contact), "Date": day_date(core.day), "LineAmountTypes": "Exclusive",
            "LineItems": self.line_items("Receipts", k, lines), "SubTotal": money(core.subtotal),
            "TotalTax": money(core.total_tax), "Total": money(core.total),
            "UpdatedDateUTC": ms_date(spread_ms(k, 5)), "HasAttachments": False,
        }

    def _expense_claim(self, k: int) -> dict:
        receipt = self._receipt(k)
        status = ("SUBMITTED", "DELETED", "SUBMITTED")[k]
        return {
            "ExpenseClaimID": self.ident("ExpenseClaims", k), "Status": status, "User": self._user_ref(k),
            "Receipts": [{"ReceiptID": receipt["ReceiptID"]}], "Payments": [],
            "UpdatedDateUTC": ms_date(spread_ms(k, 3)), "Total": receipt["Total"],
            "AmountDue": receipt["Total"] if status == "SUBMITTED" else money(0), "AmountPaid": money(0),
        }

    # ------------------------------------------------------------ contacts (lazy)
    def contact_name(self, c: int) -> str:
        if c == 1:
            return UNICODE_CONTACT_NAME
        if c == 2:
            return LONG_CONTACT_NAME
        draw = Draw(self.key, COLLECTION_CODES["Contacts"], c)
        return f"{draw.pick(NAME_FIRST)} {draw.pick(NAME_SECOND)} {draw.pick(NAME_SUFFIX)} {c}"

    def contact_status(self, c: int) -> str:
        return "ARCHIVED" if c % 17 == 5 else "ACTIVE"

    def _contact(self, c: int) -> dict:
        draw = Draw(self.key, COLLECTION_CODES["Contacts"], c, 1)
        first, last = draw.pick(PEOPLE)
        supplier = c % 3 == 0
        record = {
            "ContactID": self.ident("Contacts", c), "ContactNumber": f"C{c:07d}",
            "ContactStatus": self.contact_status(c), "Name": self.contact_name(c),
            "IsSupplier": supplier, "IsCustomer": not supplier,
            "UpdatedDateUTC": ms_date(spread_ms(c, self.n_contacts)), "HasAttachments": False,
            "HasValidationErrors": False, "ContactGroups": [], "ContactPersons": [], "Addresses": [], "Phones": [],
        }
        if c == 3:  # a contact with every optional field absent
            return record
        record.update({
            "AccountNumber": f"ACC-{c:06d}", "FirstName": first, "LastName": last,
            "EmailAddress": f"{last.lower()}.{c}@example.com",
            "Addresses": [{"AddressType": "POBOX", "AddressLine1": f"PO Box {c}", "City": "Auckland",
                           "PostalCode": f"{1000 + c % 9000}", "Country": self.country},
                          {"AddressType": "STREET"}],
            "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": f"555{c % 10000:04d}", "PhoneAreaCode": "09",
                        "PhoneCountryCode": "64"}, {"PhoneType": "MOBILE"}],
            "DefaultCurrency": self.base_currency,
            "ContactGroups": [{k: g[k] for k in ("ContactGroupID", "Name", "Status")}
                              for g in self.contact_groups[(1 if supplier else 0):(2 if supplier else 1)]],
            "PaymentTerms": {"Sales": {"Day": 14, "Type": "DAYSAFTERBILLDATE"}} if c % 4 == 1 else {},
        })
        if c % 5 == 0:
            record["ContactPersons"] = [{"FirstName": "Chris", "LastName": f"Contact{c}",
                                         "EmailAddress": f"chris.{c}@example.com", "IncludeInEmails": True}]
        if c % 7 == 0:
            record["TaxNumber"] = f"{mix(self.key, c) % 10**9:09d}"
        if supplier:
            record["PurchasesDefaultAccountCode"] = "429"
            record["BatchPayments"] = {"BankAccountNumber": f"12-3456-{c:07d}-00", "BankAccountName": "Payee",
                                       "Details": "Sandbox"}
        else:
            record["SalesDefaultAccountCode"] = "200"
        return record

    # ------------------------------------------------------------ documents
    def invoice_core(self, i: int) -> Core:
        cached = self._last_core  # one entry: the walk asks for the same invoice several times in a row
        if cached[0] == i:
            return cached[1]
        core = self._invoice_core(i)
        self._last_core = (i, core)
        return core

    def _invoice_core(self, i: int) -> Core:
        draw = Draw(self.key, COLLECTION_CODES["Invoices"], i)
        bits = draw.next()  # one draw sliced into type, status and contact: construction time matters
        receivable = (bits & 0xFF) % 10 < 6
        status = STATUS_CODES[_STATUS_TABLE[((bits >> 8) & 0xFFFF) % len(_STATUS_TABLE)]]
        contact = self._pick_contact(bits >> 24, receivable)
        day = PRE_1970_INVOICE_DAY if i == 7 else day_of(i, self.scale)
        return Core(receivable, status, contact, day, self._lines(draw, receivable))

    def bank_txn_core(self, k: int) -> tuple[Core, str]:
        draw = Draw(self.key, COLLECTION_CODES["BankTransactions"], k)
        receivable = draw.below(10) < 4
        status = "DELETED" if draw.below(50) == 0 else "AUTHORISED"
        bank = BANK_CODES[draw.below(3)]
        core = Core(receivable, status, self._pick_contact(draw.next(), receivable), day_of(k, self.n_bank_txns),
                    self._lines(draw, receivable, max_lines=2))
        return core, bank

    def manual_core(self, k: int) -> tuple[str, int, list[Posting]]:
        draw = Draw(self.key, COLLECTION_CODES["ManualJournals"], k)
        roll = draw.below(20)
        status = "DRAFT" if roll < 2 else "VOIDED" if roll == 2 else "POSTED"
        day = PRE_1970_JOURNAL_DAY if k == 1 else day_of(k, self.n_manual)
        debit_a = draw.pick(EXPENSE_CODES)
        debit_b = draw.pick(("620", "710", "720", "404"))
        a, b = 100 + draw.below(500_000), 100 + draw.below(90_000)
        credit = draw.pick(("900", "970", "090"))
        return status, day, [Posting(debit_a, a), Posting(debit_b, b), Posting(credit, -(a + b))]

    def transfer_core(self, k: int) -> tuple[str, str, int, int]:
        draw = Draw(self.key, COLLECTION_CODES["BankTransfers"], k)
        source = draw.below(3)
        target = (source + 1 + draw.below(2)) % 3
        return BANK_CODES[source], BANK_CODES[target], 1000 + draw.below(5_000_000), day_of(k, self.n_transfers)

    # ------------------------------------------------------------ the walk: settlements and journals
    def _walk(self) -> None:
        """Decide every invoice's settlement and lay out the journals, in one pass.

        Keeps compact columns only. The same Core/Posting functions later build the
        records lazily, so the totals kept here are the totals served.
        """
        n = self.scale
        self.inv_status = bytearray(n)
        self.inv_total = array("q", bytes(8 * n))
        self.inv_payment = array("l", [-1]) * n
        self.inv_credit_note = array("l", [-1]) * n
        self.inv_prepay = array("l", [-1]) * n  # >= 0 prepayment index; <= -2: overpayment -(k + 2)
        self.pay_invoice, self.pay_amount = array("l"), array("q")
        self.cn_invoice, self.cn_total, self.cn_allocated, self.cn_status = array("l"), array("q"), array("q"), bytearray()
        self.pre_invoice, self.pre_total, self.pre_allocated = array("l"), array("q"), array("q")
        self.over_invoice, self.over_total, self.over_allocated = array("l"), array("q"), array("q")
        self.contact_receivable = array("q", bytes(8 * self.n_contacts))
        self.contact_payable = array("q", bytes(8 * self.n_contacts))
        self.journal_kind = bytearray()  # kind * 2 + reversal
        self.journal_source = array("l")
        # account code -> day -> signed cents: what the reports sum.
        self.daily: dict[str, dict[int, int]] = {code: {} for code, *_ in CHART}
        self.daily_debits: dict[str, dict[int, int]] = {}

        others = (
            (self.n_bank_txns, J_BANK_TXN, self._bank_txn_postings),
            (self.n_transfers, J_TRANSFER, self._transfer_postings),
            (self.n_manual, J_MANUAL, self._manual_postings),
        )
        next_other = [0, 0, 0]
        eligible = 0

        for i in range(n):
            core = self.invoice_core(i)
            total = core.total
            self.inv_status[i] = STATUS_CODE[core.status]
            self.inv_total[i] = total
            # One hash sliced into every settlement decision of this invoice (bit fields below).
            bits = mix(self.key, COLLECTION_CODES["Invoices"], i, 99)
            if core.status in POSTED_INVOICE_STATUSES or core.status == "VOIDED":
                self._journal(J_INVOICE, i, core.day, self._invoice_postings(i, core))
            if core.status == "VOIDED":
                self._journal(J_INVOICE, i, core.day, self._invoice_postings(i, core), reversal=True)
            if core.status in POSTED_INVOICE_STATUSES and total > 1:
                remaining = total
                cap = 100 if core.status == "PAID" else 90
                # The first eligible invoices take one of each settlement kind, so even a tiny
                # organisation has credit notes, prepayments and overpayments to serve.
                forced = FORCED_SETTLEMENTS[eligible] if eligible < len(FORCED_SETTLEMENTS) else None
                eligible += 1
                percent = 10 + ((bits >> 8) & 0xFF) % (cap - 9)
                if forced == "credit" or (forced is None and (bits & 0xFF) % 20 == 0):
                    amount = max(1, total * percent // 100)
                    k = len(self.cn_total)
                    self.cn_invoice.append(i)
                    self.cn_total.append(amount)
                    self.cn_allocated.append(amount)
                    self.cn_status.append(STATUS_CODE["PAID"])
                    self.inv_credit_note[i] = k
                    remaining -= amount
                    self._journal(J_CREDIT_NOTE, k, core.day, self._credit_note_postings(k))
                elif forced is not None or ((bits >> 16) & 0xFF) % 25 == 0:
                    amount = max(1, total * percent // 100)
                    leftover = 0 if (bits >> 24) & 1 else 100 * (1 + ((bits >> 25) & 0x1FF) % 500)
                    overpayment = forced == "overpayment" if forced else bool((bits >> 34) & 1)
                    invoices, totals, allocated = ((self.over_invoice, self.over_total, self.over_allocated)
                                                   if overpayment else
                                                   (self.pre_invoice, self.pre_total, self.pre_allocated))
                    k = len(totals)
                    invoices.append(i)
                    totals.append(amount + leftover)
                    allocated.append(amount)
                    self.inv_prepay[i] = -(k + 2) if overpayment else k
                    remaining -= amount
                    kind = J_OVERPAYMENT if overpayment else J_PREPAYMENT
                    self._journal(kind, k, core.day, self._prepayment_postings(kind, k))
                paid = 0
                if core.status == "PAID":
                    paid = remaining
                elif ((bits >> 35) & 0x1F) % 3 == 0:
                    paid = remaining * (20 + ((bits >> 40) & 0x7F) % 60) // 100
                if paid > 0:
                    k = len(self.pay_amount)
                    self.pay_invoice.append(i)
                    self.pay_amount.append(paid)
                    self.inv_payment[i] = k
                    self._journal(J_PAYMENT, k, self.payment_day(k), self._payment_postings(k))
                    remaining -= paid
                if remaining:
                    (self.contact_receivable if core.receivable else self.contact_payable)[core.contact] += remaining
            if ((bits >> 47) & 0x3F) % 40 == 0:  # an unallocated credit note for this invoice's contact
                k = len(self.cn_total)
                self.cn_invoice.append(i)
                self.cn_total.append(100 * (5 + ((bits >> 53) & 0x7FF) % 2000))
                self.cn_allocated.append(0)
                status = "DRAFT" if (bits >> 25) & 3 == 0 else "AUTHORISED"
                self.cn_status.append(STATUS_CODE[status])
                if status == "AUTHORISED":
                    self._journal(J_CREDIT_NOTE, k, core.day, self._credit_note_postings(k))
            for slot, (count, kind, postings_of) in enumerate(others):
                while next_other[slot] < count and next_other[slot] * n // count <= i:
                    k = next_other[slot]
                    next_other[slot] += 1
                    for day, postings, reversal in postings_of(k):
                        self._journal(kind, k, day, postings, reversal)
        self.n_invoices = n
        self.n_payments = len(self.pay_amount)
        self.n_credit_notes = len(self.cn_total)
        self.n_prepayments = len(self.pre_total)
        self.n_overpayments = len(self.over_total)
        self.n_journals = len(self.journal_source)
        self.n_batches = max(1, self.n_payments // 200) if self.n_payments >= 3 else 0

    def _journal(self, kind: int, index: int, day: int, postings: list[Posting], reversal: bool = False) -> None:
        self.journal_kind.append(kind * 2 + int(reversal))
        self.journal_source.append(index)
        self.add_to_ledger(day, postings, -1 if reversal else 1)

    def add_to_ledger(self, day: int, postings: list[Posting], sign: int = 1) -> None:
        daily, debits = self.daily, self.daily_debits
        for posting in postings:
            account, net = posting[0], sign * posting[1]
            per_day = daily.get(account)
            if per_day is None:
                per_day = daily[account] = {}
            per_day[day] = per_day.get(day, 0) + net
            if net > 0:  # debits alone: what the bank summary calls cash received
                per_day = debits.get(account)
                if per_day is None:
                    per_day = debits[account] = {}
                per_day[day] = per_day.get(day, 0) + net

    # postings of each source kind: one function each, used by the walk and by the journal records
    def _invoice_postings(self, i: int, core: Core | None = None) -> list[Posting]:
        core = core or self.invoice_core(i)
        counter = AR_CODE if core.receivable else AP_CODE
        return document_postings(counter, self.line_postings(core.lines), 1 if core.receivable else -1)

    def _credit_note_postings(self, k: int) -> list[Posting]:
        receivable, account = self.credit_note_side(k)
        return document_postings(AR_CODE if receivable else AP_CODE,
                                 [Posting(account, self.cn_total[k])], -1 if receivable else 1)

    def _prepayment_postings(self, kind: int, k: int) -> list[Posting]:
        receivable = self.prepayment_receivable(kind, k)
        total = (self.over_total if kind == J_OVERPAYMENT else self.pre_total)[k]
        sign = 1 if receivable else -1
        return [Posting(BANK_CODES[0], sign * total), Posting(AR_CODE if receivable else AP_CODE, -sign * total)]

    def _payment_postings(self, k: int) -> list[Posting]:
        receivable = self.invoice_core(self.pay_invoice[k]).receivable
        amount = self.pay_amount[k]
        sign = 1 if receivable else -1
        return [Posting(self.payment_bank(k), sign * amount), Posting(AR_CODE if receivable else AP_CODE, -sign * amount)]

    def _bank_txn_postings(self, k: int) -> list[tuple[int, list[Posting], bool]]:
        core, bank = self.bank_txn_core(k)
        postings = document_postings(bank, self.line_postings(core.lines), 1 if core.receivable else -1)
        entries = [(core.day, postings, False)]
        if core.status == "DELETED":
            entries.append((core.day, postings, True))
        return entries

    def _transfer_postings(self, k: int) -> list[tuple[int, list[Posting], bool]]:
        source, target, amount, day = self.transfer_core(k)
        return [(day, [Posting(source, -amount), Posting(target, amount)], False)]

    def _manual_postings(self, k: int) -> list[tuple[int, list[Posting], bool]]:
        status, day, postings = self.manual_core(k)
        if status == "DRAFT":
            return []
        entries = [(day, postings, False)]
        if status == "VOIDED":
            entries.append((day, postings, True))
        return entries

    def credit_note_side(self, k: int) -> tuple[bool, str]:
        core = self.invoice_core(self.cn_invoice[k])
        return core.receivable, core.lines[0].account

    def prepayment_receivable(self, kind: int, k: int) -> bool:
        invoice = (self.over_invoice if kind == J_OVERPAYMENT else self.pre_invoice)[k]
        return self.invoice_core(invoice).receivable

    def payment_day(self, k: int) -> int:
        core_day = self.invoice_core(self.pay_invoice[k]).day
        return core_day + mix(self.key, 21, k) % 30

    def payment_bank(self, k: int) -> str:
        return BANK_CODES[mix(self.key, 22, k) % 2]

    # ------------------------------------------------------------ collections
    def _build_collections(self) -> None:
        from tap_xero.sandbox import data_records  # the record builders live next door

        self.collections = data_records.build_collections(self)

    def balance(self, account: str, until_day: int | None = None, from_day: int | None = None) -> int:
        """Signed cents posted to ``account`` on days in [from_day, until_day]."""
        return sum(amount for day, amount in self.daily.get(account, {}).items()
                   if (until_day is None or day <= until_day) and (from_day is None or day >= from_day))
