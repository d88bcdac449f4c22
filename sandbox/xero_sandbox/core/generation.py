"""Generation primitives: hashing, record IDs, dates and money, shared by every resource family.

Conventions (see docs/sandbox-data.md):

- every generated value is a pure function of ``(seed, tenant, collection, index)``: ``mix``
  hashes the parts, ``Draw`` is a tiny random stream seeded from such a hash;
- money is held as integer cents (unit amounts as 1/10000ths) and served as ``Decimal``;
- days are proleptic ordinals (``date.toordinal()``), timestamps Unix milliseconds, and Xero's
  wire form of both is ``/Date(ms+0000)/``;
- generated timestamps grow with the record index (``spread_ms``), so the natural order of a
  collection is its UpdatedDateUTC (or CreatedDateUTC) order and If-Modified-Since is a
  binary search; everything generated is stamped before ``GENERATED_MAX_MS``;
- record IDs are UUID-shaped with the index in their last 12 hex digits (``uuid_of``).

The helpers at the end read what a client sends in a mutation (amounts, dates) into the same
units. Nothing here knows a collection: ``COLLECTION_CODES`` only numbers them for the hashes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

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

CENT = Decimal("0.01")

# Collection codes: part of every hash key and ID prefix (changing one changes the data).
COLLECTION_CODES = {
    "Accounts": 1, "BankTransactions": 2, "BankTransfers": 3, "BatchPayments": 4, "BrandingThemes": 5,
    "Budgets": 6, "ContactGroups": 7, "Contacts": 8, "CreditNotes": 9, "Currencies": 10, "ExpenseClaims": 11,
    "Invoices": 12, "InvoiceReminders": 13, "Items": 14, "Journals": 15, "LinkedTransactions": 16,
    "ManualJournals": 17, "Organisations": 18, "Overpayments": 19, "PaymentServices": 20, "Payments": 21,
    "Prepayments": 22, "PurchaseOrders": 23, "Quotes": 24, "Receipts": 25, "RepeatingInvoices": 26,
    "TaxRates": 27, "TrackingCategories": 28, "Users": 29, "LineItems": 40, "JournalLines": 41,
    "TrackingOptions": 42, "Tenants": 43,
    # The Assets and Projects APIs (resources/assets.py, resources/projects.py).
    "Assets": 44, "AssetTypes": 45, "Projects": 46, "ProjectTasks": 47, "ProjectTimeEntries": 48,
}


# ---------------------------------------------------------------- hashing and IDs

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


# ---------------------------------------------------------------- money

def half_up(numerator: int, denominator: int) -> int:
    """Integer division rounding half away from zero (Xero rounds money this way)."""
    q, r = divmod(abs(numerator), denominator)
    if 2 * r >= denominator:
        q += 1
    return q if numerator >= 0 else -q


def money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def decimal_of(value, default: str = "0") -> Decimal:
    """An amount a client sent (Decimal, number or text; absent or empty: ``default``)."""
    if value is None or value == "":
        return Decimal(default)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def cents(value) -> int:
    """An amount a client sent, in cents rounded half up (absent or empty: 0)."""
    return int((decimal_of(value) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# ---------------------------------------------------------------- dates and timestamps

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


def datetime_to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(round(moment.timestamp() * 1000))


def iso_ms(ms: int) -> str:
    """``2026-06-01T12:00:00.000``: Xero's ``...DateUTCString`` and webhook ``eventDateUtc`` form."""
    moment = datetime(1970, 1, 1) + timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}"


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


def day_of_ms_date(value: str | None, fallback: int) -> int:
    """The day of a /Date()/ value (``fallback`` when absent)."""
    if not value:
        return fallback
    return UNIX_EPOCH_ORDINAL + parse_ms_date(value) // DAY_MS


def as_ms_date(value, fallback_day: int) -> str:
    """A date a client sent (/Date()/, ISO date or datetime, date, datetime) in the /Date()/ form."""
    if value is None or value == "":
        return day_date(fallback_day)
    if isinstance(value, datetime):
        return ms_date(datetime_to_ms(value))
    if isinstance(value, date):
        return day_date(value.toordinal())
    text = str(value)
    if text.startswith("/Date("):
        return text
    try:
        return day_date(date.fromisoformat(text[:10]).toordinal())
    except ValueError as exc:
        raise ValueError(f"'{text}' is not a valid date") from exc
