"""One tenant's generated data, as the resource families read and fill it.

``TenantData`` is the shape; ``xero_sandbox.organisation.Organisation`` fills it, family by
family (reference data, then the walk over the invoices, then the table of collections). Here:

- the identity of the tenant (``key``: the hash every record of the tenant starts from,
  ``tenant_id``) and the volumes of the generated collections for a ``scale``
  (docs/sandbox-data.md, Volumes);
- ``ident``: the ID of record ``index`` of a collection (a fixed prefix per collection, then
  the index in hex, so ``Collection.index_of`` reads the index back at no cost);
- every attribute a family fills, declared with the family that fills it, so this file is the
  map of what one organisation holds: the small reference records (settings.py, contacts.py,
  expenses.py), the compact columns the walk lays out (invoices.py, journals.py), the ledger,
  and ``collections`` (envelope key -> ``Collection``).

Records themselves are never held (except the small eager ones): they are built on demand.
A ``Collection`` is one collection of one tenant: ``count`` records addressable by index, in
timestamp order; ``eager_collection`` serves a small list of records (a copy each time),
``lazy_collection`` builds record ``index`` when asked.
"""

from __future__ import annotations

import bisect
import copy
from array import array
from collections.abc import Callable

from xero_sandbox.core.generation import (
    COLLECTION_CODES, DAY_MS, STAMP_START_MS, mix, parse_ms_date, spread_ms, uuid_of,
)
from xero_sandbox.core.ledger import Ledger


class TenantData:
    """Identity, volumes and the declared contents of one generated organisation."""

    def __init__(self, seed: int, tenant_index: int, scale: int) -> None:
        self.seed = seed
        self.tenant_index = tenant_index
        self.key = mix(seed, tenant_index, 0x7E7A)
        self.scale = max(1, scale)
        self.tenant_id = uuid_of(mix(seed, tenant_index, COLLECTION_CODES["Tenants"]))
        self.created_ms = STAMP_START_MS - 400 * DAY_MS + tenant_index * 3_600_000
        self._id_prefixes: dict[str, str] = {}

        n = self.scale
        self.n_invoices = n
        self.n_contacts = max(20, n // 10)
        self.n_bank_txns = max(5, n // 5)
        self.n_transfers = max(3, n // 50)
        self.n_manual = max(3, n // 100)
        self.n_purchase_orders = max(3, n // 10)
        self.n_quotes = max(3, n // 10)
        self.n_repeating = max(2, n // 100)
        self.n_linked = max(2, n // 50)
        # Known after the walk (invoices.py, journals.py).
        self.n_payments = self.n_credit_notes = self.n_prepayments = self.n_overpayments = 0
        self.n_journals = self.n_batches = 0
        self._declare_reference_data()
        self._declare_columns()
        self.collections: dict[str, Collection] = {}  # filled by organisation.py from the catalogue

    def _declare_reference_data(self) -> None:
        # settings.py: the organisation's profile and reference records.
        self.name = ""
        self.version = self.base_currency = self.country = self.timezone = ""
        self.organisation: dict = {}
        self.accounts: list[dict] = []
        self.accounts_by_code: dict[str, dict] = {}
        self.account_code_by_id: dict[str, str] = {}
        self.tax_rates: list[dict] = []
        self.currencies: list[dict] = []
        self.tracking_categories: list[dict] = []
        self.region_refs: list[tuple[str, str, str, str]] = []  # the Region options line items carry
        self.branding_themes: list[dict] = []
        self.users: list[dict] = []
        self.items: list[dict] = []
        self.budgets: list[dict] = []
        self.invoice_reminders: list[dict] = []
        self.payment_services: list[dict] = []
        # contacts.py
        self.contact_groups: list[dict] = []
        self.contact_receivable = array("q", bytes(8 * self.n_contacts))  # outstanding cents per contact
        self.contact_payable = array("q", bytes(8 * self.n_contacts))
        self.extra_balances: dict[str, list[int]] = {}  # created contacts: [receivable, payable]
        # expenses.py
        self.expense_claims: list[dict] = []
        self.receipts: list[dict] = []
        # assets.py, projects.py (the Assets and Projects APIs): built on first use, by collection key
        self.api_records: dict[str, list] = {}

    def _declare_columns(self) -> None:
        # invoices.py: the walk's columns, one entry per invoice, payment, credit note, ...
        self.inv_status = bytearray()
        self.inv_total = array("q")
        self.inv_payment = array("l")  # payment index or -1
        self.inv_credit_note = array("l")  # credit note index or -1
        self.inv_prepay = array("l")  # >= 0 prepayment index; <= -2: overpayment -(k + 2); -1 none
        self.pay_invoice, self.pay_amount = array("l"), array("q")
        self.cn_invoice, self.cn_total, self.cn_allocated = array("l"), array("q"), array("q")
        self.cn_status = bytearray()
        self.pre_invoice, self.pre_total, self.pre_allocated = array("l"), array("q"), array("q")
        self.over_invoice, self.over_total, self.over_allocated = array("l"), array("q"), array("q")
        self.last_invoice_core: tuple = (-1, None)  # invoices.invoice_core's one-entry cache
        # journals.py: one entry per generated journal, in JournalNumber order.
        self.journal_kind = bytearray()  # ledger.J_* kind * 2 + reversal
        self.journal_source = array("l")  # index of the source record in its collection
        self.ledger = Ledger(())

    def ident(self, key: str, index: int) -> str:
        """The ID of record ``index`` of collection ``key``: a fixed prefix and the index in hex."""
        prefix = self._id_prefixes.get(key)
        if prefix is None:
            prefix = self._id_prefixes[key] = uuid_of(mix(self.key, COLLECTION_CODES[key]), 0)[:-12]
        return f"{prefix}{index:012x}"


class Collection:
    """One collection of one tenant: ``count`` records addressable by index, in timestamp order."""

    def __init__(self, org: TenantData, key: str, count: int, build: Callable[[int], dict],
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
        """Index of the first record stamped at or after ``ms`` (stamps grow with the index); asked only of a
        collection with a timestamp."""
        def stamp_of(index: int) -> int:
            stamp = self.stamp(index)
            assert stamp is not None, f"{self.key} has no timestamp"
            return stamp
        return bisect.bisect_left(range(self.count), ms, key=stamp_of)


def unstamped(index: int) -> None:
    """The stamp of a record of a collection without a timestamp."""
    return None


def eager_collection(org: TenantData, key: str, records: list[dict], id_field: str | None,
                     stamp_field: str | None) -> Collection:
    """A small collection held as records; stamped by ``stamp_field`` (None: unstamped)."""
    def stamp(i: int) -> int | None:
        value = records[i].get(stamp_field) if stamp_field else None
        return parse_ms_date(value) if value else None
    # A copy per call: the store hands records out and they must not write back into these lists.
    return Collection(org, key, len(records), lambda i: copy.deepcopy(records[i]), id_field,
                      stamp if stamp_field else unstamped)


def lazy_collection(org: TenantData, key: str, count: int, build: Callable[[TenantData, int], dict],
                    id_field: str, status_of: Callable[[int], str] | None = None,
                    stamp: Callable[[int], int | None] | None = None) -> Collection:
    """``count`` records built on demand by ``build(org, index)``, stamped by ``stamp`` (default:
    spread over the generated period in index order, as their UpdatedDateUTC is)."""
    return Collection(org, key, count, lambda i: build(org, i), id_field, stamp, status_of)
