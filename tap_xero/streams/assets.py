"""The fixed asset register (Xero's Assets API): assets in every status, and asset types.

Full table: the Assets API carries no modification timestamp and no If-Modified-Since. Assets are read
one status after another (Xero requires ``status``): DRAFT, REGISTERED, DISPOSED, 200 a page.
"""

from __future__ import annotations

from tap_xero import endpoints
from tap_xero.client import XeroStream


class AssetsStream(XeroStream):
    name = "assets"
    endpoint = endpoints.ASSETS
    primary_keys = ("tenant_id", "assetId")
    replication_key = None


class AssetTypesStream(XeroStream):
    name = "asset_types"
    endpoint = endpoints.ASSET_TYPES
    primary_keys = ("tenant_id", "assetTypeId")
    replication_key = None


STREAMS = (AssetsStream, AssetTypesStream)
