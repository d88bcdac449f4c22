"""Scopes: broad and granular models, and leaving out streams whose scope is not granted."""

from __future__ import annotations

import logging

import pytest

from tap_xero import endpoints
from tap_xero.errors import ScopeError
from tap_xero.scopes import describe_scopes, drop_ungranted_streams, missing_scopes, parse_scopes, stream_scopes


def test_parse_scopes_accepts_strings_lists_and_jwt_claims():
    assert parse_scopes("openid  offline_access,accounting.contacts.read") == {
        "openid", "offline_access", "accounting.contacts.read"
    }
    assert parse_scopes(["accounting.settings", "accounting.journals.read"]) == {
        "accounting.settings", "accounting.journals.read"
    }
    assert parse_scopes(None) is None and parse_scopes("") is None and parse_scopes("  ") is None
    with pytest.raises(ValueError):
        parse_scopes(7)


@pytest.mark.parametrize(
    ("granted", "endpoint"),
    [
        ("accounting.transactions", endpoints.INVOICES),  # broad, read-write
        ("accounting.transactions.read", endpoints.INVOICES),  # broad, read-only
        ("accounting.invoices.read", endpoints.INVOICES),  # granular (2026)
        ("accounting.payments", endpoints.PAYMENTS),
        ("accounting.banktransactions.read", endpoints.BANK_TRANSFERS),
        ("accounting.manualjournals.read", endpoints.MANUAL_JOURNALS),
        ("accounting.invoices.read", endpoints.ITEMS),  # items moved under invoices in the granular model
        ("accounting.settings.read", endpoints.ITEMS),
        ("accounting.journals.read", endpoints.JOURNALS_ENDPOINT),
        ("accounting.reports.profitandloss.read", endpoints.REPORTS_BY_NAME["ProfitAndLoss"]),
        ("accounting.reports.read", endpoints.REPORTS_BY_NAME["BalanceSheet"]),
    ],
)
def test_granted_in_either_model(granted, endpoint):
    assert missing_scopes(endpoint.scopes, parse_scopes(granted)) == ()


@pytest.mark.parametrize(
    ("granted", "endpoint"),
    [
        ("accounting.contacts.read", endpoints.INVOICES),
        ("accounting.invoices.read", endpoints.PAYMENTS),
        ("accounting.transactions.read", endpoints.JOURNALS_ENDPOINT),
        ("accounting.reports.balancesheet.read", endpoints.REPORTS_BY_NAME["ProfitAndLoss"]),
        ("offline_access", endpoints.ACCOUNTS),
    ],
)
def test_missing_in_either_model(granted, endpoint):
    assert missing_scopes(endpoint.scopes, parse_scopes(granted)) == endpoint.scopes


def test_unknown_grants_and_scope_free_streams_are_allowed():
    assert missing_scopes(endpoints.INVOICES.scopes, None) == ()  # no scope information: let Xero decide
    assert missing_scopes((), frozenset({"openid"})) == ()


def test_describe_scopes_names_the_read_scope_first():
    text = describe_scopes(endpoints.JOURNALS_ENDPOINT.scopes)
    assert text == "accounting.journals.read"
    text = describe_scopes(endpoints.INVOICES.scopes)
    assert text.startswith("accounting.transactions.read (or one of: ")
    assert "accounting.invoices.read" in text


class FakeStream:
    """Only what the scope check reads: name, selected, and the endpoint's scopes."""

    def __init__(self, name, endpoint, selected=True):
        self.name, self.endpoint, self.selected = name, endpoint, selected


def test_stream_scopes_prefers_the_stream_declaration():
    stream = FakeStream("x", endpoints.INVOICES)
    assert stream_scopes(stream) == endpoints.INVOICES.scopes
    stream.required_scopes = ("custom.read",)
    assert stream_scopes(stream) == ("custom.read",)


def test_ungranted_streams_are_left_out_with_one_warning_each(caplog):
    streams = [
        FakeStream("invoices", endpoints.INVOICES),
        FakeStream("journals", endpoints.JOURNALS_ENDPOINT),
        FakeStream("contacts", endpoints.CONTACTS_ENDPOINT),
        FakeStream("budgets", endpoints.BUDGETS_ENDPOINT, selected=False),
    ]
    logger = logging.getLogger("test-scopes")
    with caplog.at_level(logging.WARNING, logger="test-scopes"):
        left_out = drop_ungranted_streams(
            streams, frozenset({"accounting.invoices.read", "accounting.contacts.read"}),
            fail_on_missing_scope=False, logger=logger,
        )
    assert left_out == ["journals"]
    assert [s.selected for s in streams] == [True, False, True, False]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "'journals'" in warnings[0] and "accounting.journals.read" in warnings[0]


def test_fail_on_missing_scope_raises_naming_every_stream_and_scope():
    streams = [FakeStream("journals", endpoints.JOURNALS_ENDPOINT), FakeStream("budgets", endpoints.BUDGETS_ENDPOINT)]
    with pytest.raises(ScopeError) as caught:
        drop_ungranted_streams(streams, frozenset({"accounting.settings.read"}), fail_on_missing_scope=True,
                               logger=logging.getLogger("test-scopes"))
    message = str(caught.value)
    assert "journals needs accounting.journals.read" in message and "budgets needs accounting.budgets.read" in message
    assert all(s.selected for s in streams)  # nothing half-applied
