"""Settings: the organisation and its reference data, which every document refers to.

Collections: Organisations (served at ``/Organisation``), Accounts, TaxRates, Currencies,
TrackingCategories, BrandingThemes, Users, Items, Budgets, PaymentServices, InvoiceReminders.
All small and generated eagerly (``generate``), from fixed tables below: a chart of 30 accounts
(one ARCHIVED), 7 tax rates, 3 currencies, 3 tracking categories (one ARCHIVED, one ARCHIVED
option), 10 items (some with 4-decimal unit prices), 2 branding themes, 3 users, 2 budgets
(their balances cover the 12 months of 2025), one payment service, invoice-reminder settings.
Tenants differ in profile (name, country, base currency, timezone); even tenants have both lock
dates on their Organisation record (core/lock_dates.py reads and writes them), odd ones none.

Rules: TrackingCategories hide ARCHIVED categories and options without ``includeArchived``;
Accounts, TaxRates and TrackingCategories can be archived; a created account needs a Code and
a Type and takes its Class from its Type (and a ledger line of its own); a created item needs a
Code; Organisations and InvoiceReminders are read-only.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from xero_sandbox.core.generation import COLLECTION_CODES, day_date, mix, money, ms_date, spread_ms, uuid_of
from xero_sandbox.core.resource import Resource
from xero_sandbox.core.tenant_data import TenantData, eager_collection

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
# The people of the generated organisations: its users (the first three) and contact persons.
PEOPLE = (("Ada", "Lovelace"), ("Grace", "Hopper"), ("Alan", "Turing"), ("Zoë", "Ångström"),
          ("Łukasz", "Żółć"), ("Mei", "Tanaka"), ("José", "Núñez"), ("Olu", "Adeyemi"))

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

# Lock dates of even tenants (odd tenants have none): before every generated document but the
# pre-1970 edge records, so mutations of generated documents are allowed until a test locks more.
PERIOD_LOCK_DAY = date(2023, 12, 31).toordinal()
END_OF_YEAR_LOCK_DAY = date(2023, 6, 30).toordinal()  # a financial year end (30 June)


# ---------------------------------------------------------------- lookups other families use

def account(org: TenantData, code: str) -> dict:
    return org.accounts_by_code[code]


def account_ref(org: TenantData, code: str) -> dict:
    acc = org.accounts_by_code[code]
    return {"AccountID": acc["AccountID"], "Code": code, "Name": acc["Name"]}


def tracking_ref(org: TenantData, option: int) -> tuple[str, str, str, str]:
    """(category id, option id, category name, option name) of a Region option."""
    category = org.tracking_categories[0]
    opt = category["Options"][option]
    return (category["TrackingCategoryID"], opt["TrackingOptionID"], category["Name"], opt["Name"])


def user_ref(org: TenantData, k: int) -> dict:
    user = org.users[k % len(org.users)]
    return {key: user[key] for key in ("UserID", "FirstName", "LastName", "EmailAddress")}


# ---------------------------------------------------------------- generation

def generate(org: TenantData) -> None:
    """The profile and every reference record of ``org`` (small, eager)."""
    tenant_index = org.tenant_index
    profile = ORG_PROFILES[tenant_index % len(ORG_PROFILES)]
    org.name = profile[0] if tenant_index < len(ORG_PROFILES) else f"{profile[0]} #{tenant_index + 1}"
    org.version, org.base_currency, org.country, org.timezone = profile[1:]
    for code, *_ in CHART:
        org.ledger.open_account(code)
    org.accounts = [_account(org, k) for k in range(len(CHART))]
    org.accounts_by_code = {a["Code"]: a for a in org.accounts}
    org.account_code_by_id = {a["AccountID"]: a["Code"] for a in org.accounts}
    org.tax_rates = [{
        "Name": name, "TaxType": tax_type, "Status": status, "ReportTaxType": report,
        "TaxComponents": [{"Name": "GST" if bp else "None", "Rate": Decimal(bp).scaleb(-2), "IsCompound": False,
                           "IsNonRecoverable": False}],
        "CanApplyToAssets": True, "CanApplyToEquity": True, "CanApplyToExpenses": True,
        "CanApplyToLiabilities": True, "CanApplyToRevenue": True,
        "DisplayTaxRate": Decimal(bp).scaleb(-2), "EffectiveRate": Decimal(bp).scaleb(-2),
    } for tax_type, name, bp, status, report in TAX_RATES]
    codes = [org.base_currency] + [c for c in EXTRA_CURRENCIES if c != org.base_currency][:2]
    org.currencies = [{"Code": c, "Description": CURRENCY_NAMES[c]} for c in codes]
    org.tracking_categories = [_tracking_category(org, k) for k in range(len(TRACKING))]
    org.branding_themes = [{
        "BrandingThemeID": org.ident("BrandingThemes", k), "Name": name, "Type": "INVOICE", "SortOrder": k,
        "CreatedDateUTC": ms_date(spread_ms(k, 2)),
        **({"LogoUrl": f"https://sandbox.invalid/logo/{k}.png"} if k == 0 else {}),
    } for k, name in enumerate(("Standard", "Special Projects"))]
    roles = ("STANDARD", "FINANCIALADVISER", "READONLY")
    org.users = [{
        "UserID": org.ident("Users", k), "EmailAddress": f"{first.lower()}.{last.lower()}@example.com",
        "FirstName": first, "LastName": last, "UpdatedDateUTC": ms_date(spread_ms(k, 3)),
        "IsSubscriber": k == 0, "OrganisationRole": roles[k],
    } for k, (first, last) in enumerate(PEOPLE[:3])]
    org.organisation = _organisation(org)
    org.region_refs = [tracking_ref(org, k) for k in range(REGION_OPTIONS)]
    org.invoice_reminders = [{"Enabled": True}]
    org.payment_services = [{
        "PaymentServiceID": org.ident("PaymentServices", 0), "PaymentServiceName": "Sandbox Pay",
        "PaymentServiceUrl": "https://pay.sandbox.invalid/?invoiceNo=[INVOICENUMBER]",
        "PayNowText": "Pay now", "PaymentServiceType": "Custom",
    }]
    org.items = [_item(org, k) for k in range(len(ITEMS))]
    org.budgets = _budgets(org)


def _account(org: TenantData, k: int) -> dict:
    code, name, typ, tax, system = CHART[k]
    record = {
        "AccountID": org.ident("Accounts", k), "Code": code, "Name": name, "Type": typ,
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
        record["BankAccountNumber"] = f"{mix(org.key, k) % 10**10:010d}"
        record["CurrencyCode"] = org.base_currency
        record["EnablePaymentsToAccount"] = True
    return record


def _tracking_category(org: TenantData, k: int) -> dict:
    name, status, options = TRACKING[k]
    cat_id = org.ident("TrackingCategories", k)
    return {
        "TrackingCategoryID": cat_id, "Name": name, "Status": status,
        "Options": [{"TrackingOptionID": uuid_of(mix(org.key, COLLECTION_CODES["TrackingOptions"], k, j)),
                     "Name": opt, "Status": opt_status, "TrackingCategoryID": cat_id}
                    for j, (opt, opt_status) in enumerate(options)],
    }


def _organisation(org: TenantData) -> dict:
    record = {
        "OrganisationID": org.ident("Organisations", 0), "APIKey": f"SANDBOX{org.tenant_index:04d}",
        "Name": org.name, "LegalName": f"{org.name} Holdings", "PaysTax": True, "Version": org.version,
        "OrganisationType": "COMPANY", "OrganisationEntityType": "COMPANY",
        "BaseCurrency": org.base_currency, "CountryCode": org.country, "IsDemoCompany": False,
        "OrganisationStatus": "ACTIVE", "RegistrationNumber": f"{mix(org.key, 5) % 10**9:09d}",
        "TaxNumber": f"{mix(org.key, 6) % 10**9:09d}", "FinancialYearEndDay": 30,
        "FinancialYearEndMonth": 6, "SalesTaxBasis": "ACCRUALS", "SalesTaxPeriod": "QUARTERLY",
        "DefaultSalesTax": "Tax Exclusive", "DefaultPurchasesTax": "Tax Exclusive",
        "CreatedDateUTC": ms_date(org.created_ms), "Timezone": org.timezone,
        "ShortCode": f"!{mix(org.key, 7) % 36**5:05x}", "Class": "PREMIUM", "Edition": "BUSINESS",
        "LineOfBusiness": "Sandbox trading",
        "Addresses": [{"AddressType": "STREET", "AddressLine1": "1 Sandbox Way", "City": "Wellington",
                       "PostalCode": "6011", "Country": org.country}],
        "Phones": [{"PhoneType": "OFFICE", "PhoneNumber": "5550100", "PhoneAreaCode": "04"}],
        "ExternalLinks": [{"LinkType": "Website", "Url": "https://sandbox.invalid"}],
        "PaymentTerms": {"Bills": {"Day": 20, "Type": "OFFOLLOWINGMONTH"},
                         "Sales": {"Day": 14, "Type": "DAYSAFTERBILLDATE"}},
    }
    if org.tenant_index % 2 == 0:  # even tenants have both lock dates, odd ones none (fields absent)
        record["PeriodLockDate"] = day_date(PERIOD_LOCK_DAY)
        record["EndOfYearLockDate"] = day_date(END_OF_YEAR_LOCK_DAY)
    return record


def _item(org: TenantData, k: int) -> dict:
    code, name, sales, purchase, sales_acc, purchase_acc = ITEMS[k]
    record = {
        "ItemID": org.ident("Items", k), "Code": code, "Name": name, "Description": name,
        "IsSold": True, "IsPurchased": bool(purchase), "IsTrackedAsInventory": False,
        "SalesDetails": {"UnitPrice": Decimal(sales).scaleb(-4), "AccountCode": sales_acc, "TaxType": "OUTPUT"},
        "UpdatedDateUTC": ms_date(spread_ms(k, len(ITEMS))),
    }
    if purchase:
        record["PurchaseDescription"] = f"{name} (purchase)"
        record["PurchaseDetails"] = {"UnitPrice": Decimal(purchase).scaleb(-4), "AccountCode": purchase_acc,
                                     "TaxType": "INPUT"}
    return record


def _budgets(org: TenantData) -> list[dict]:
    months = [date(2025, m, 1).toordinal() for m in range(1, 13)]
    out = []
    for k, (typ, description) in enumerate((("OVERALL", "Overall Budget"), ("TRACKING", "North region budget"))):
        lines = []
        for j, code in enumerate(("200", "260", "400", "429", "453", "469")):
            acc = account(org, code)
            base = 100 * (500 + mix(org.key, 6, k, j) % 20000)
            lines.append({"AccountID": acc["AccountID"], "AccountCode": code, "BudgetBalances": [
                {"Period": day_date(m), "Amount": money(base + 100 * n), "Notes": "Plan" if n == 0 else ""}
                for n, m in enumerate(months)]})
        record = {"BudgetID": org.ident("Budgets", k), "Type": typ, "Description": description,
                  "UpdatedDateUTC": ms_date(spread_ms(k, 2)), "BudgetLines": lines, "Tracking": []}
        if typ == "TRACKING":
            cat = org.tracking_categories[0]
            opt = cat["Options"][0]
            record["Tracking"] = [{"TrackingCategoryID": cat["TrackingCategoryID"], "Name": cat["Name"],
                                   "Option": opt["Name"], "TrackingOptionID": opt["TrackingOptionID"]}]
        out.append(record)
    return out


# ---------------------------------------------------------------- rules

def complete_account(book, record: dict, creating: bool) -> None:
    org = book.org
    if creating:
        if not record.get("Code") or not record.get("Type"):
            raise ValueError("Account Code and Type are required")
        if record["Code"] in org.accounts_by_code:
            raise ValueError(f"Account code '{record['Code']}' is already in use")
        org.accounts_by_code[record["Code"]] = record
        org.ledger.open_account(record["Code"])
    record.setdefault("Status", "ACTIVE")
    record.setdefault("TaxType", "NONE")
    record["Class"] = ACCOUNT_CLASS.get(str(record.get("Type")), "EXPENSE")
    org.accounts_by_code[record["Code"]] = record
    org.account_code_by_id[str(record["AccountID"])] = record["Code"]


def complete_item(book, record: dict, creating: bool) -> None:
    if not record.get("Code"):
        raise ValueError("Item Code is required")
    record.setdefault("IsSold", True)
    record.setdefault("IsPurchased", False)


def hide_archived_options(book, record: dict, query) -> None:
    """Without includeArchived, a tracking category's ARCHIVED options are left out too."""
    if not query.include_archived:
        record["Options"] = [o for o in record.get("Options", []) if o.get("Status") != "ARCHIVED"]


RESOURCES = (
    Resource("Accounts", lambda org: eager_collection(org, "Accounts", org.accounts, "AccountID", "UpdatedDateUTC"),
             archive_field="Status", complete=complete_account),
    Resource("BrandingThemes", lambda org: eager_collection(org, "BrandingThemes", org.branding_themes,
                                                            "BrandingThemeID", "CreatedDateUTC")),
    Resource("Budgets", lambda org: eager_collection(org, "Budgets", org.budgets, "BudgetID", "UpdatedDateUTC")),
    Resource("Currencies", lambda org: eager_collection(org, "Currencies", org.currencies, "Code", None)),
    Resource("InvoiceReminders", lambda org: eager_collection(org, "InvoiceReminders", org.invoice_reminders,
                                                              None, None), read_only=True),
    Resource("Items", lambda org: eager_collection(org, "Items", org.items, "ItemID", "UpdatedDateUTC"),
             complete=complete_item),
    Resource("Organisations", lambda org: eager_collection(org, "Organisations", [org.organisation],
                                                           "OrganisationID", None), read_only=True),
    Resource("PaymentServices", lambda org: eager_collection(org, "PaymentServices", org.payment_services,
                                                             "PaymentServiceID", None)),
    Resource("TaxRates", lambda org: eager_collection(org, "TaxRates", org.tax_rates, "TaxType", None),
             archive_field="Status"),
    Resource("TrackingCategories", lambda org: eager_collection(org, "TrackingCategories", org.tracking_categories,
                                                                "TrackingCategoryID", None),
             hidden_status="ARCHIVED", shown_by="include_archived", archive_field="Status",
             present=hide_archived_options),
    Resource("Users", lambda org: eager_collection(org, "Users", org.users, "UserID", "UpdatedDateUTC")),
)
