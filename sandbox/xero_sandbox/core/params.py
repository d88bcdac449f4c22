"""A list request's parameters and If-Modified-Since header, read as Xero reads them, into a ``Query``.

Contract of ``parse_query(endpoint, params, if_modified_since)``:

- parameter names are case-insensitive; only what the endpoint takes is read (``Endpoint``'s
  flags: paging kind, ids/statuses filters, includeArchived, summaryOnly, unitdp, includeDeleted,
  order); other parameters reach the query engine as ``Query.extra`` (list filters);
- ``page`` (at least 1) for paged endpoints; ``pageSize`` defaults to 100 and is clamped to
  1..1000; fixed pages and Journals' ``offset`` calls hold 100; malformed integers (``page=abc``)
  raise ``BadRequest`` naming the parameter;
- If-Modified-Since, for endpoints that honour it (``parse_if_modified_since``): RFC 3339 with
  ``Z`` or an offset, with or without fractions (truncated), Xero's ``YYYY-MM-DDTHH:MM:SS`` (UTC),
  an HTTP-date (RFC 7231's three forms, and RFC 1123 with a numeric zone); anything else is a
  ``BadRequest``; the result is the UTC second it names.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from tap_xero.endpoints import FIXED_PAGE_SIZE, MAX_PAGE_SIZE, Endpoint, Paging
from xero_sandbox.core.queries import Query
from xero_sandbox.core.shapes import BadRequest

DEFAULT_PAGE_SIZE = 100
_KNOWN_PARAMS = {
    "page", "pagesize", "offset", "where", "order", "ids", "statuses", "includearchived", "summaryonly",
    "unitdp", "includedeleted", "paymentsonly",
}


_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))?")
# HTTP-date (RFC 7231 7.1.1.1: IMF-fixdate, RFC 850, asctime) and RFC 1123 with a numeric zone.
_HTTP_DATES = (
    re.compile(rf"(?:{_DAY}, )?\d{{1,2}} {_MONTH} \d{{4}} \d{{2}}:\d{{2}}:\d{{2}} (?:GMT|UTC?|[+-]\d{{4}})"),
    re.compile(rf"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \d{{2}}-{_MONTH}-\d{{2}} "
               rf"\d{{2}}:\d{{2}}:\d{{2}} GMT"),
    re.compile(rf"{_DAY} {_MONTH} [ \d]\d \d{{2}}:\d{{2}}:\d{{2}} \d{{4}}"),
)


def parse_if_modified_since(value: str) -> datetime:
    """If-Modified-Since as the UTC second it names; ``BadRequest`` for any other form.

    Accepted: RFC 3339 date-times with ``Z`` or a numeric offset, with or without fractional
    seconds (what the spec types the header as, and the official SDKs send); Xero's documented
    ``YYYY-MM-DDTHH:MM:SS`` (no offset: UTC); an HTTP-date (RFC 7231's three forms, and RFC 1123
    with a numeric zone). Fractions are truncated: Xero compares whole seconds.
    """
    text = value.strip()
    try:
        match = _RFC3339.fullmatch(text)
        if match:
            year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
            sign, off_h, off_m = match.group(8), match.group(9), match.group(10)
            offset = timedelta(0) if sign is None else (1 if sign == "+" else -1) * timedelta(
                hours=int(off_h), minutes=int(off_m))
            moment = datetime(year, month, day, hour, minute, second, tzinfo=timezone(offset))
        elif any(form.fullmatch(text) for form in _HTTP_DATES):
            moment = parsedate_to_datetime(text)
        else:
            raise ValueError(text)
    except (TypeError, ValueError):
        raise BadRequest(f"If-Modified-Since is not a date: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def _int_param(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise BadRequest(f"The parameter {name} must be an integer") from None


def _bool_param(value: str) -> bool:
    return value.strip().lower() == "true"


def _list_param(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def parse_query(endpoint: Endpoint, params: list[tuple[str, str]], if_modified_since: str | None) -> Query:
    """Turn a request's params and If-Modified-Since header into a ``Query`` for ``endpoint``."""
    given = {key.lower(): value for key, value in params}
    query = Query(extra={key: value for key, value in params if key.lower() not in _KNOWN_PARAMS})
    if if_modified_since and endpoint.if_modified_since:
        query.modified_since = parse_if_modified_since(if_modified_since)
    _read_paging(endpoint, given, query)
    query.where = given.get("where") or None
    if endpoint.order:
        query.order = given.get("order") or None
    _read_filters(endpoint, given, query)
    return query


def _read_paging(endpoint: Endpoint, given: dict[str, str], query: Query) -> None:
    """page, pageSize, offset (and Journals' paymentsOnly), as the endpoint's kind of paging takes them."""
    if endpoint.paging in (Paging.PAGE_SIZE, Paging.PAGE) and "page" in given:
        query.page = max(1, _int_param("page", given["page"]))
    if endpoint.paging is Paging.PAGE_SIZE:
        size = _int_param("pageSize", given["pagesize"]) if "pagesize" in given else DEFAULT_PAGE_SIZE
        query.page_size = min(MAX_PAGE_SIZE, max(1, size))
    elif endpoint.paging is Paging.PAGE:
        query.page_size = FIXED_PAGE_SIZE
    elif endpoint.paging is Paging.OFFSET:
        query.offset = max(0, _int_param("offset", given["offset"])) if "offset" in given else 0
        query.page_size = FIXED_PAGE_SIZE
        query.payments_only = _bool_param(given.get("paymentsonly", "false"))


def _read_filters(endpoint: Endpoint, given: dict[str, str], query: Query) -> None:
    """IDs, Statuses, includeArchived, summaryOnly, unitdp and includeDeleted, where the endpoint takes them."""
    if endpoint.ids_filter and given.get("ids"):
        query.ids = _list_param(given["ids"])
    if endpoint.statuses_filter and given.get("statuses"):
        query.statuses = _list_param(given["statuses"])
    if endpoint.include_archived:
        query.include_archived = _bool_param(given.get("includearchived", "false"))
    if endpoint.summary_only:
        query.summary_only = _bool_param(given.get("summaryonly", "false"))
    if endpoint.unitdp and "unitdp" in given:
        query.unitdp = _int_param("unitdp", given["unitdp"])
    if endpoint.include_deleted:
        query.include_deleted = _bool_param(given.get("includedeleted", "false"))
