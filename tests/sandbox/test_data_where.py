"""The where evaluator: the Xero filter syntax clients send, and clear errors for the rest."""

from __future__ import annotations

from decimal import Decimal

import pytest

from xero_sandbox.core.where import compile_where, resolve

INVOICE = {
    "Type": "ACCREC", "Status": "AUTHORISED", "InvoiceNumber": "INV-0042", "Total": Decimal("110.00"),
    "SentToContact": True, "Reference": None,
    "Date": "/Date(1577836800000+0000)/",  # 2020-01-01
    "UpdatedDateUTC": "/Date(1577880000000+0000)/",  # 2020-01-01T12:00:00
    "Contact": {"ContactID": "5b96e86b-418e-48e8-8949-308c14aec278", "Name": "Zoë Ångström"},
}


@pytest.mark.parametrize("clause, expected", [
    ('Type=="ACCREC"', True),
    ('Type=="ACCPAY"', False),
    ('Type!="ACCPAY"', True),
    ('Status=="AUTHORISED" AND Type=="ACCREC"', True),
    ('Status=="PAID" OR Type=="ACCREC"', True),
    ('Status=="PAID" OR Type=="ACCPAY"', False),
    ('Status=="PAID" && Type=="ACCREC"', False),
    ('(Status=="PAID" OR Status=="AUTHORISED") AND Type=="ACCREC"', True),
    ("NOT (Type==\"ACCPAY\")", True),
    ("SentToContact==true", True),
    ("SentToContact==false", False),
    ("Reference==null", True),
    ("Total>100", True),
    ("Total>=110.00", True),
    ("Total<110", False),
    ("Date>=DateTime(2020,1,1)", True),
    ("Date>DateTime(2020, 01, 01)", False),
    ("UpdatedDateUTC>=DateTime(2020,1,1,12,0,0)", True),
    ("UpdatedDateUTC>DateTime(2020,1,1,12,0,0)", False),
    ('Contact.ContactID==Guid("5B96E86B-418E-48E8-8949-308C14AEC278")', True),
    ('Contact.ContactID==Guid("00000000-0000-4000-8000-000000000000")', False),
    ('Contact.Name.Contains("ångström")', True),
    ('InvoiceNumber.StartsWith("INV-")', True),
    ('InvoiceNumber.EndsWith("43")', False),
    ('Missing.Field=="x"', False),
])
def test_where_clauses(clause, expected):
    assert compile_where(clause)(INVOICE) is expected


@pytest.mark.parametrize("clause", [
    "Type = ACCREC", 'Type=="ACCREC" AND', "Type", "==\"x\"", "Date>=DateTime(2020)", "Date>=DateTime(2020,13,1)",
    'Type=="ACCREC")', "Total>true", 'Name.Contains(3)', "Type==Guid(1)", "Type==Foo",
])
def test_unsupported_clauses_raise_value_error(clause):
    with pytest.raises(ValueError):
        compile_where(clause)(INVOICE)


def test_empty_where_matches_everything():
    assert compile_where("  ")(INVOICE) is True


def test_resolve_walks_dotted_paths_case_insensitively():
    assert resolve(INVOICE, "contact.name") == "Zoë Ångström"
    assert resolve(INVOICE, "Contact.Nope") is None
    assert resolve(INVOICE, "Type.Deeper") is None
