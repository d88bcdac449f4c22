"""Xero's Accounting paths (below ``/api.xro/2.0/``) as the sandbox resolves them.

Contract: ``resolve(rel)`` turns a path such as ``Invoices``, ``invoices/<id>``,
``Reports/ProfitAndLoss`` or ``Organisations`` into a ``Route`` (what to serve, and the
canonical path it is counted under in ``GET /_sandbox/requests``), or ``None`` for a path
Xero does not serve (the server answers 404, plain text). ``counted_path(rel)`` is the path a
request is counted under, canonical when it resolves and as given otherwise.

- Resource and report names are case-insensitive (a record ID keeps its own text). Evidence that
  Xero's paths are: the official Xero-Net SDK reads ``/api.xro/2.0/organisations/{id}/cissettings``
  (the spec's ``/Organisation/{OrganisationID}/CISSettings``), and Xero's own documentation links
  ``https://api.xero.com/api.xro/2.0/invoices?Statuses=...`` (quoted in XeroAPI/xero-python#103).
- ``Organisations`` (plural) is served exactly as ``Organisation``: singer-io's tap-xero reads it
  and it works against Xero. No other alias: nothing shows Xero accepts any.
"""

from __future__ import annotations

from dataclasses import dataclass

from tap_xero.endpoints import BY_PATH, REPORTS_BY_NAME, Endpoint, Report

API_PREFIX = "api.xro/2.0/"  # where the Accounting API is served (a request's route, without the leading "/")
REPORTS_PREFIX = "reports/"
_ENDPOINTS = {path.lower(): endpoint for path, endpoint in BY_PATH.items()}
_ENDPOINTS["organisations"] = BY_PATH["Organisation"]
_REPORTS = {name.lower(): report for name, report in REPORTS_BY_NAME.items()}


@dataclass(frozen=True)
class Route:
    """What a request path names: a collection, one record of it, or a report."""

    endpoint: Endpoint | None = None
    record_id: str | None = None
    report: Report | None = None

    @property
    def counted(self) -> str:
        """The canonical path: "Invoices", "Invoices/{id}", "Reports/TrialBalance"."""
        if self.report is not None:
            return self.report.path
        assert self.endpoint is not None  # a route names a report or an endpoint
        return self.endpoint.path + ("/{id}" if self.record_id is not None else "")


def resolve(rel: str) -> Route | None:
    """The route of ``rel`` (the path below /api.xro/2.0/, without surrounding slashes), or None."""
    key = rel.lower()
    if key.startswith(REPORTS_PREFIX):
        report = _REPORTS.get(key.removeprefix(REPORTS_PREFIX))
        return Route(report=report) if report is not None else None
    endpoint = _ENDPOINTS.get(key)
    if endpoint is not None:
        return Route(endpoint=endpoint)
    head, _, record_id = rel.rpartition("/")
    endpoint = _ENDPOINTS.get(head.lower())
    if endpoint is None or endpoint.id_field is None or not record_id:
        return None
    return Route(endpoint=endpoint, record_id=record_id)


def counted_path(rel: str) -> str:
    route = resolve(rel)
    return route.counted if route is not None else rel
