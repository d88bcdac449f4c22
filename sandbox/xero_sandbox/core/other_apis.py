"""The Assets and Projects APIs (``tap_xero.endpoints.OTHER_API_ENDPOINTS``) as the sandbox serves them.

They sit beside the Accounting API (``/assets.xro/1.0/...``, ``/projects.xro/2.0/...``) with the same
token, tenant header and limits, but answer in their own shapes:

- a list is ``{"pagination": {"page", "pageSize", "pageCount", "itemCount"}, "items": [...]}`` (GET
  /AssetTypes: the bare list); ``page`` from 1, ``pageSize`` 1..the endpoint's ``max_page_size`` (default 10
  for Assets, 50 for Projects); a page past the last is empty;
- a parameter an endpoint requires (Assets' ``status``) or a bad one is a 400 in that API's error shape:
  Assets ``{"type", "title", "detail", "fieldValidationErrors": [...]}``, Projects ``{"message",
  "modelState"}``; a per-project path whose project does not exist is a 404 ``{"message"}``.

Each collection is an ``ApiCollection`` its family module declares (``resources/assets.py``,
``resources/projects.py``): how its records are built (all of them, held once per tenant: they are few), which
list parameters filter it and how. This module knows no collection by name; ``resolve`` matches a path against
the endpoints' paths (case-insensitive, ``{projectId}`` a segment of its own).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from tap_xero.endpoints import ASSETS_API, BARE_LIST, OTHER_API_BASES, OTHER_API_ENDPOINTS, Endpoint
from xero_sandbox.core.shapes import Response, json_response
from xero_sandbox.core.tenant_data import TenantData

Match = Callable[[dict, str], bool]  # (record, the parameter's value) -> whether the record is kept


@dataclass(frozen=True)
class ApiCollection:
    """One collection of the Assets or Projects API, as its family declares it."""

    key: str  # Endpoint.collection_key
    build: Callable[[TenantData], list[dict]]  # every record, in the order served
    filters: Mapping[str, Match] = field(default_factory=dict)  # lower-case parameter -> match
    required: tuple[str, ...] = ()  # parameters a list call must give (lower-case)
    default_page_size: int = 50


class ApiError(Exception):
    """A 4xx in the API's own shape (``answer``)."""

    def __init__(self, status: int, message: str, parameter: str = "", value: str = "") -> None:
        super().__init__(message)
        self.status, self.parameter, self.value = status, parameter, value


def served_under(route: str) -> bool:
    """Whether ``route`` (a request path without its leading slash) is one of these APIs'."""
    return route.lower().startswith(tuple(base.lower() + "/" for base in OTHER_API_BASES))


def resolve(route: str) -> tuple[Endpoint, str | None] | None:
    """(endpoint, parent id) the path names, or None (a 404)."""
    parts = route.strip("/").split("/")
    for endpoint in OTHER_API_ENDPOINTS:
        pattern = endpoint.path.split("/")
        if len(pattern) != len(parts):
            continue
        parent_id = None
        for want, got in zip(pattern, parts, strict=True):
            if want.startswith("{"):
                parent_id = got
            elif want.lower() != got.lower():
                break
        else:
            return endpoint, parent_id
    return None


def answer(endpoint: Endpoint, error: ApiError) -> Response:
    """``error`` in the shape of ``endpoint``'s API."""
    if endpoint.path.startswith(ASSETS_API):
        return json_response(error.status, {
            "type": "ValidationError" if error.status == 400 else "NotFound", "title": "Validation failed"
            if error.status == 400 else "Not found", "detail": str(error),
            "fieldValidationErrors": [{
                "fieldName": error.parameter, "valueProvided": error.value, "localisedMessage": str(error),
                "type": "ValidationError", "title": "Invalid value", "detail": str(error),
            }] if error.parameter else [],
        })
    body: dict = {"message": str(error)}
    if error.parameter:
        body["modelState"] = {error.parameter: [str(error)]}
    return json_response(error.status, body)


def _int(params: Mapping[str, str], name: str, default: int, highest: int) -> int:
    text = params.get(name.lower())
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number", name, text) from None
    if not 1 <= value <= highest:
        raise ApiError(400, f"{name} must be between 1 and {highest}", name, text)
    return value


def list_body(endpoint: Endpoint, collection: ApiCollection, records: list[dict],
              params: Mapping[str, str]) -> dict | list:
    """The answer to a list call over ``records`` (already only the parent's): filters, then the page.
    ``params`` keys are lower-case. Raises ApiError."""
    for name in collection.required:
        if not params.get(name):
            raise ApiError(400, f"The {name} parameter is required", name, "")
    for name, value in params.items():
        match = collection.filters.get(name)
        if match is not None and value != "":
            try:
                records = [record for record in records if match(record, value)]
            except ValueError as exc:
                raise ApiError(400, str(exc), name, value) from None
    if endpoint.envelope_key == BARE_LIST:
        return copy.deepcopy(records)
    page = _int(params, "page", 1, 1 << 30)
    size = _int(params, "pageSize", collection.default_page_size, endpoint.max_page_size)
    start = (page - 1) * size
    return {
        "pagination": {"page": page, "pageSize": size, "pageCount": -(-len(records) // size),
                       "itemCount": len(records)},
        "items": copy.deepcopy(records[start:start + size]),
    }
