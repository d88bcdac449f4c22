"""Contacts (customers and suppliers, archived ones included by default) and contact groups."""

from __future__ import annotations

from tap_xero import endpoints
from tap_xero.client import XeroStream


class ContactsStream(XeroStream):
    name = "contacts"
    endpoint = endpoints.CONTACTS_ENDPOINT
    primary_keys = ("tenant_id", "ContactID")
    replication_key = "UpdatedDateUTC"


class ContactGroupsStream(XeroStream):
    name = "contact_groups"
    endpoint = endpoints.CONTACT_GROUPS
    primary_keys = ("tenant_id", "ContactGroupID")
    replication_key = None


STREAMS = (ContactsStream, ContactGroupsStream)
