"""The organisation and its settings: chart of accounts, items, tax rates, tracking, users, budgets, ..."""

from __future__ import annotations

from tap_xero import endpoints
from tap_xero.client import XeroStream


class AccountsStream(XeroStream):
    name = "accounts"
    endpoint = endpoints.ACCOUNTS
    primary_keys = ("tenant_id", "AccountID")
    replication_key = "UpdatedDateUTC"


class ItemsStream(XeroStream):
    name = "items"
    endpoint = endpoints.ITEMS
    primary_keys = ("tenant_id", "ItemID")
    replication_key = "UpdatedDateUTC"


class UsersStream(XeroStream):
    name = "users"
    endpoint = endpoints.USERS
    primary_keys = ("tenant_id", "UserID")
    replication_key = "UpdatedDateUTC"


class OrganisationsStream(XeroStream):
    name = "organisations"
    endpoint = endpoints.ORGANISATION
    primary_keys = ("tenant_id", "OrganisationID")
    replication_key = None


class BrandingThemesStream(XeroStream):
    """BrandingThemes carry CreatedDateUTC only and ignore If-Modified-Since: full table."""

    name = "branding_themes"
    endpoint = endpoints.BRANDING_THEMES
    primary_keys = ("tenant_id", "BrandingThemeID")
    replication_key = None


class BudgetsStream(XeroStream):
    """Budgets have UpdatedDateUTC but Xero does not filter on it: full table."""

    name = "budgets"
    endpoint = endpoints.BUDGETS_ENDPOINT
    primary_keys = ("tenant_id", "BudgetID")
    replication_key = None


class CurrenciesStream(XeroStream):
    name = "currencies"
    endpoint = endpoints.CURRENCIES
    primary_keys = ("tenant_id", "Code")
    replication_key = None


class TaxRatesStream(XeroStream):
    name = "tax_rates"
    endpoint = endpoints.TAX_RATES
    primary_keys = ("tenant_id", "TaxType")
    replication_key = None


class TrackingCategoriesStream(XeroStream):
    name = "tracking_categories"
    endpoint = endpoints.TRACKING_CATEGORIES
    primary_keys = ("tenant_id", "TrackingCategoryID")
    replication_key = None


class InvoiceRemindersStream(XeroStream):
    """One settings object per organisation (``{"Enabled": ...}``): the tenant is the key."""

    name = "invoice_reminders"
    endpoint = endpoints.INVOICE_REMINDERS
    primary_keys = ("tenant_id",)
    replication_key = None


class PaymentServicesStream(XeroStream):
    name = "payment_services"
    endpoint = endpoints.PAYMENT_SERVICES_ENDPOINT
    primary_keys = ("tenant_id", "PaymentServiceID")
    replication_key = None


STREAMS = (
    AccountsStream, ItemsStream, UsersStream, OrganisationsStream, BrandingThemesStream, BudgetsStream,
    CurrenciesStream, TaxRatesStream, TrackingCategoriesStream, InvoiceRemindersStream, PaymentServicesStream,
)
