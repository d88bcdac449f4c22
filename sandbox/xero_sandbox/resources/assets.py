"""The fixed asset register (the Assets API): asset types and assets.

Generated: two asset types, one per fixed asset account of the chart (710 Office Equipment, 720 Computer
Equipment), each with its depreciation method and rate; ``max(6, scale/100)`` assets bought over the same
two years as the documents, on one of the types: every fifth a Draft, every fifth (from the fourth) Disposed,
the others Registered. A registered or disposed asset is depreciated from its purchase date by its type's
method up to the end of the generated period (or its disposal), so its book value is its price less that
depreciation, and a disposal's gain or loss is its price received against that book value.

The assets do not post to the generated ledger (journals, reports): Xero's own asset register posts its
depreciation as manual journals, which the sandbox does not generate.

List filters: ``status`` (required: DRAFT, REGISTERED or DISPOSED), ``filterBy`` (text in the name, number,
description or type name).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from xero_sandbox.core.generation import COLLECTION_CODES, DATE_SPAN_DAYS, FIRST_DAY, Draw, money
from xero_sandbox.core.other_apis import ApiCollection
from xero_sandbox.core.tenant_data import TenantData
from xero_sandbox.resources.settings import account

# (type name, fixed asset account code, depreciation method, averaging method, rate per year in %)
TYPES: tuple[tuple[str, str, str, str, int], ...] = (
    ("Office Equipment", "710", "StraightLine", "FullMonth", 20),
    ("Computer Equipment", "720", "DiminishingValue100", "ActualDays", 40),
)
DEPRECIATION_EXPENSE = "429"  # General Expenses: the chart has no depreciation account of its own
STATUS_QUERY = {"Draft": "DRAFT", "Registered": "REGISTERED", "Disposed": "DISPOSED"}
END_DAY = FIRST_DAY + DATE_SPAN_DAYS  # depreciation runs to the end of the generated period


def _iso(day: int) -> str:
    return date.fromordinal(day).isoformat() + "T00:00:00"


def _setting(org: TenantData, object_id: str, object_type: str, k: int) -> dict:
    _name, _code, method, averaging, rate = TYPES[k]
    return {
        "depreciableObjectId": object_id, "depreciableObjectType": object_type,
        "bookEffectiveDateOfChangeId": org.ident("AssetTypes", 100 + k),
        "depreciationMethod": method, "averagingMethod": averaging,
        "depreciationRate": Decimal(rate), "depreciationCalculationMethod": "Rate",
    }


def asset_types(org: TenantData) -> list[dict]:
    records = []
    for k, (name, code, *_rest) in enumerate(TYPES):
        type_id = org.ident("AssetTypes", k)
        records.append({
            "assetTypeId": type_id, "assetTypeName": name,
            "fixedAssetAccountId": account(org, code)["AccountID"],
            "depreciationExpenseAccountId": account(org, DEPRECIATION_EXPENSE)["AccountID"],
            "accumulatedDepreciationAccountId": account(org, code)["AccountID"],
            "bookDepreciationSetting": _setting(org, type_id, "AssetType", k), "locks": 0,
        })
    return records


def depreciation(price_cents: int, type_index: int, days: int) -> int:
    """Cents of depreciation over ``days`` by the type's method (straight line or diminishing value)."""
    rate = TYPES[type_index][4]
    years = days / 365
    if TYPES[type_index][2] == "StraightLine":
        return min(price_cents, round(price_cents * rate * years / 100))
    return round(price_cents * (1 - (1 - rate / 100) ** years))


def asset(org: TenantData, k: int, n: int) -> dict:
    draw = Draw(org.key, COLLECTION_CODES["Assets"], k)
    type_index = draw.below(len(TYPES))
    status = "Draft" if k % 5 == 0 else "Disposed" if k % 5 == 3 else "Registered"
    bought = FIRST_DAY + k * (DATE_SPAN_DAYS - 60) // max(n, 1)
    price = 50_000 + draw.below(2_000_000)
    asset_id = org.ident("Assets", k)
    record: dict = {
        "assetId": asset_id, "assetName": f"{TYPES[type_index][0]} {k + 1}",
        "assetTypeId": org.ident("AssetTypes", type_index),
        "assetNumber": f"FA-{k + 1:04d}", "purchaseDate": _iso(bought), "purchasePrice": money(price),
        "disposalPrice": Decimal(0), "assetStatus": status, "warrantyExpiryDate": _iso(bought + 365 * 2),
        "serialNumber": f"SN{draw.below(10**8):08d}", "canRollback": status != "Draft",
        "bookDepreciationSetting": _setting(org, asset_id, "Asset", type_index),
        "isDeleteEnabledForDate": status == "Draft",
    }
    if status == "Draft":
        record["accountingBookValue"] = money(price)
        return record
    until = min(END_DAY, bought + 30 + draw.below(500)) if status == "Disposed" else END_DAY
    accumulated = depreciation(price, type_index, until - bought)
    book_value = price - accumulated
    gain = 0
    if status == "Disposed":
        received = book_value * (50 + draw.below(80)) // 100
        record.update(disposalDate=_iso(until), disposalPrice=money(received))
        gain = received - book_value
    record["accountingBookValue"] = money(0 if status == "Disposed" else book_value)
    record["bookDepreciationDetail"] = {
        "currentCapitalGain": Decimal(0), "currentGainLoss": money(gain), "depreciationStartDate": _iso(bought),
        "costLimit": money(price), "residualValue": Decimal(0), "priorAccumDepreciationAmount": Decimal(0),
        "currentAccumDepreciationAmount": money(accumulated),
    }
    return record


def assets(org: TenantData) -> list[dict]:
    n = max(6, org.scale // 100)
    return [asset(org, k, n) for k in range(n)]


def _status(record: dict, value: str) -> bool:
    if value.upper() not in STATUS_QUERY.values():
        raise ValueError(f"status must be one of {', '.join(STATUS_QUERY.values())}")
    return STATUS_QUERY[record["assetStatus"]] == value.upper()


def _text(record: dict, value: str) -> bool:
    text = value.lower()
    return any(text in str(record.get(name) or "").lower() for name in ("assetName", "assetNumber", "description"))


COLLECTIONS = (
    ApiCollection("Assets", assets, filters={"status": _status, "filterby": _text}, required=("status",),
                  default_page_size=10),
    ApiCollection("AssetTypes", asset_types),
)
