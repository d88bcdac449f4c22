#!/usr/bin/env python
"""Generate the tap's JSON schemas from Xero's official OpenAPI specs (Accounting, Assets, Projects).

Writes, from ``../shared/xero-openapi/xero_accounting.yaml`` (``--spec`` to override) and, beside it,
``xero_assets.yaml`` and ``xero-projects.yaml``:

- ``tests/spec/accounting_schemas.json``: the spec's ``components.schemas`` converted
  faithfully to JSON Schema (refs kept as ``#/components/schemas/X``, enums kept,
  ``nullable`` turned into a ``"null"`` type, ``x-is-msdate*`` markers kept). The
  sandbox's fidelity tests validate its responses against this bundle; ``tests/spec/assets_schemas.json``
  and ``tests/spec/projects_schemas.json`` are the same for the Assets and Projects APIs.
- ``tap_xero/schemas/<stream>.json``: one schema per stream, as a tap needs it:
  refs inlined (a cycle is cut to an open object), every field nullable with its
  description, ``/Date(...)/`` fields as ``date-time`` / ``date``, amounts as plain
  numbers (no ``multipleOf``), enums listed in the description but not enforced,
  ``additionalProperties: true`` on every object so fields Xero adds later reach the
  target, and the tap's own ``tenant_id``. Fields that Xero's response examples show but the
  component omits (``DateString``, ...) are declared too. Child tables (line items, journal lines)
  add their parent's id and ``line_number``; report streams use the row schema
  declared below (it is the tap's, not Xero's). The Assets and Projects specs type their dates with
  OpenAPI's own ``format: date`` / ``date-time``, which are kept.

``--check`` writes nothing and exits 1 if a committed file differs from what the
spec gives (CI runs it through ``tests/tap/test_schemas.py``). Nothing at run time
reads the spec: the output is committed.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tap_xero import endpoints  # noqa: E402  (needs the repo on sys.path when run as a script)

DEFAULT_SPEC = REPO.parent / "shared" / "xero-openapi" / "xero_accounting.yaml"
SCHEMAS_DIR = REPO / "tap_xero" / "schemas"
SPEC_BUNDLE = REPO / "tests" / "spec" / "accounting_schemas.json"
REF_PREFIX = "#/components/schemas/"

# Stream name -> endpoint. Names match the singer-io tap-xero where both have the stream.
ENDPOINT_STREAMS: dict[str, endpoints.Endpoint] = {
    "accounts": endpoints.ACCOUNTS,
    "bank_transactions": endpoints.BANK_TRANSACTIONS,
    "bank_transfers": endpoints.BANK_TRANSFERS,
    "batch_payments": endpoints.BATCH_PAYMENTS,
    "branding_themes": endpoints.BRANDING_THEMES,
    "budgets": endpoints.BUDGETS_ENDPOINT,
    "contact_groups": endpoints.CONTACT_GROUPS,
    "contacts": endpoints.CONTACTS_ENDPOINT,
    "credit_notes": endpoints.CREDIT_NOTES,
    "currencies": endpoints.CURRENCIES,
    "expense_claims": endpoints.EXPENSE_CLAIMS,
    "invoices": endpoints.INVOICES,
    "invoice_reminders": endpoints.INVOICE_REMINDERS,
    "items": endpoints.ITEMS,
    "journals": endpoints.JOURNALS_ENDPOINT,
    "cash_journals": endpoints.CASH_JOURNALS_ENDPOINT,
    "linked_transactions": endpoints.LINKED_TRANSACTIONS,
    "manual_journals": endpoints.MANUAL_JOURNALS,
    "organisations": endpoints.ORGANISATION,
    "overpayments": endpoints.OVERPAYMENTS,
    "payment_services": endpoints.PAYMENT_SERVICES_ENDPOINT,
    "payments": endpoints.PAYMENTS,
    "prepayments": endpoints.PREPAYMENTS,
    "purchase_orders": endpoints.PURCHASE_ORDERS,
    "quotes": endpoints.QUOTES,
    "receipts": endpoints.RECEIPTS,
    "repeating_invoices": endpoints.REPEATING_INVOICES,
    "tax_rates": endpoints.TAX_RATES,
    "tracking_categories": endpoints.TRACKING_CATEGORIES,
    "users": endpoints.USERS,
}

# Spec file beside the Accounting spec -> (bundle name, {stream: endpoint}) for the other APIs.
OTHER_API_STREAMS: dict[str, tuple[str, dict[str, endpoints.Endpoint]]] = {
    "xero_assets.yaml": ("assets", {"assets": endpoints.ASSETS, "asset_types": endpoints.ASSET_TYPES}),
    "xero-projects.yaml": ("projects", {
        "projects": endpoints.PROJECTS,
        "project_users": endpoints.PROJECT_USERS,
        "project_tasks": endpoints.PROJECT_TASKS,
        "project_time_entries": endpoints.PROJECT_TIME_ENTRIES,
    }),
}

# Child table -> (parent stream, list field in the parent record, line component).
CHILD_STREAMS: dict[str, tuple[str, str, str]] = {
    "invoice_line_items": ("invoices", "LineItems", "LineItem"),
    "credit_note_line_items": ("credit_notes", "LineItems", "LineItem"),
    "bank_transaction_line_items": ("bank_transactions", "LineItems", "LineItem"),
    "journal_lines": ("journals", "JournalLines", "JournalLine"),
    "cash_journal_lines": ("cash_journals", "JournalLines", "JournalLine"),
    "manual_journal_lines": ("manual_journals", "JournalLines", "ManualJournalLine"),
}


def report_stream_name(report: endpoints.Report) -> str:
    """``ProfitAndLoss`` -> ``report_profit_and_loss``."""
    return "report_" + re.sub(r"(?<!^)(?=[A-Z])", "_", report.name).lower()


REPORT_STREAMS: dict[str, endpoints.Report] = {report_stream_name(r): r for r in endpoints.REPORTS}
TRACKING_REPORT_STREAMS: dict[str, endpoints.Report] = {
    "report_profit_and_loss_by_tracking": endpoints.PROFIT_AND_LOSS_BY_TRACKING,
}

TENANT_ID = {"type": "string", "description": "The Xero tenant (organisation) the record comes from. Added by the tap."}
LINE_NUMBER = {
    "type": "integer",
    "description": "1-based position of the line within its parent's list, as Xero returned it. Added by the tap.",
}


def _nullable(*types: str) -> list[str]:
    return [*types, "null"]


def _text(description: str) -> dict:
    return {"type": _nullable("string"), "description": description}


def _number(description: str) -> dict:
    return {"type": _nullable("number"), "description": description}


# One row per report line per period; see tap_xero/reports.py and docs/streams.md.
REPORT_ROW_SCHEMA: dict = {
    "type": "object",
    "description": "One line of a Xero report for one period, flattened by the tap.",
    "properties": {
        "tenant_id": TENANT_ID,
        "report_name": {"type": "string", "description": "Xero's report endpoint name, e.g. ProfitAndLoss."},
        "period_start": {"type": "string", "format": "date", "description": "First day of the period the row covers."},
        "period_end": {"type": "string", "format": "date", "description": "Last day of the period (the report date)."},
        "section": {
            "type": "string",
            "description": "Title of the report section holding the line ('' for lines outside a section).",
        },
        "line_key": {
            "type": "string",
            "description": "Stable identity of the line within its section: the AccountID when the line is an "
            "account, otherwise the row title (suffixed #2, #3... if a title repeats in a section).",
        },
        "tracking_option": {
            "type": "string",
            "description": "Tracking option the line is split by ('' when the report is not split by tracking).",
        },
        "row_type": _text("Xero's RowType of the line: Row or SummaryRow."),
        "row_index": {"type": _nullable("integer"), "description": "0-based position of the line in its section."},
        "row_title": _text("Text of the line's first cell (account name or label)."),
        "account_id": _text("AccountID from the cell attributes, when the line is an account."),
        "value": _number("The line's value for the period: its first numeric cell, exact."),
        "columns": {
            "type": _nullable("array"),
            "description": "Every value cell of the line, with its column header.",
            "items": {
                "type": "object",
                "additionalProperties": True,
                "properties": {
                    "index": {"type": "integer", "description": "0-based column position after the label column."},
                    "title": _text("Header of the column, e.g. '30 Nov 2026' or 'Debit'."),
                    "value": _number("The cell as an exact number (null when the cell is empty or not numeric)."),
                    "text": _text("The cell's text exactly as Xero returned it."),
                },
            },
        },
        "report_id": _text("Xero's ReportID."),
        "report_title": _text("Xero's ReportTitle."),
        "report_titles": {
            "type": _nullable("array"),
            "items": {"type": _nullable("string")},
            "description": "Xero's ReportTitles (report name, organisation, time frame).",
        },
        "report_date": _text("Xero's ReportDate text."),
        "report_updated_utc": {
            "type": _nullable("string"),
            "format": "date-time",
            "description": "Xero's UpdatedDateUTC of the report.",
        },
    },
    "additionalProperties": True,
}


# The rows of a report split by tracking category (tap_xero/reports.py, flatten_by_tracking) also say which.
TRACKING_ROW_FIELDS: dict = {
    "tracking_category_id": {
        "type": "string",
        "description": "TrackingCategoryID of the category the report is split by (tracking_option is one of its "
        "options, or 'Unassigned' for the lines tracked to none of them).",
    },
    "tracking_category": _text("Name of the tracking category, when the report was read."),
}


class _SpecLoader(yaml.SafeLoader):
    """YAML loader that keeps timestamps as the strings the spec wrote (examples stay JSON-able)."""


_SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_spec(spec_path: Path) -> dict:
    with spec_path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_SpecLoader)  # noqa: S506 (a SafeLoader subclass)


# ---------------------------------------------------------------- (a) fidelity bundle


def to_json_schema(node):
    """OpenAPI 3.0 schema object -> JSON Schema, otherwise unchanged."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: to_json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") is True:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


def build_spec_bundle(components: dict) -> dict:
    return {"components": {"schemas": {name: to_json_schema(schema) for name, schema in components.items()}}}


def without_ref_siblings(node):
    """OpenAPI 3.0 ignores what sits beside a ``$ref``; JSON Schema applies both. The Projects spec writes
    ``type: number`` beside ``$ref: Amount`` (an object), so its bundle keeps the ``$ref`` alone."""
    if isinstance(node, list):
        return [without_ref_siblings(item) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return {"$ref": node["$ref"]}
    return {key: without_ref_siblings(value) for key, value in node.items()}


# ---------------------------------------------------------------- (b) stream schemas

# Enumerations longer than this are named rather than listed in descriptions.
MAX_LISTED_ENUM = 30
# An object nested deeper than this is kept as an open object (no declared properties):
# Invoice -> Payments -> Invoice -> ... would otherwise repeat the whole model.
MAX_DEPTH = 2


def _describe_enum(description: str | None, values: list, enum_name: str | None) -> str:
    if len(values) <= MAX_LISTED_ENUM:
        listed = ", ".join(str(v) for v in values)
        note = f"One of: {listed} (not enforced: Xero adds values)."
    else:
        note = f"A value of Xero's {enum_name or 'enumeration'} ({len(values)} values; not enforced)."
    if not description:
        return note
    return f"{description} {note}" if description.rstrip().endswith((".", ")", ":")) else f"{description}. {note}"


def _open_object(description: str | None) -> dict:
    out: dict = {"type": _nullable("object"), "properties": {}, "additionalProperties": True}
    if description:
        out["description"] = description
    return out


class StreamSchemaBuilder:
    """Inlines one component's refs into a self-contained, permissive stream schema."""

    def __init__(self, components: dict, *, native_formats: bool = False) -> None:
        self.components = components
        self.native_formats = native_formats  # keep OpenAPI's own format: date / date-time (Assets, Projects)

    def _resolve(self, node: dict, description: str | None) -> tuple[dict, str | None, str | None]:
        """Follow ``$ref``; the referring property's own description wins over the target's."""
        ref_name = None
        while "$ref" in node:
            ref_name = node["$ref"].removeprefix(REF_PREFIX)
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            description = description or siblings.get("description")
            node = {**self.components[ref_name], **{k: v for k, v in siblings.items() if k != "type"}}
        return node, description or node.get("description"), ref_name

    def convert(self, node: dict, ancestry: tuple[str, ...]) -> dict:
        node, description, ref_name = self._resolve(node, node.get("description"))
        kind = node.get("type") or ("object" if "properties" in node else None)
        if ref_name and kind == "object":
            if ref_name in ancestry or len(ancestry) > MAX_DEPTH:
                return _open_object(description)
            ancestry = (*ancestry, ref_name)

        out: dict = {}
        if kind == "object":
            out["type"] = _nullable("object")
            out["properties"] = {
                name: self.convert(child, ancestry) for name, child in (node.get("properties") or {}).items()
            }
            out["additionalProperties"] = True
        elif kind == "array":
            out["type"] = _nullable("array")
            out["items"] = self.convert(node.get("items") or {}, ancestry)
        elif kind in ("number", "integer", "boolean"):
            out["type"] = _nullable(kind)
        elif kind == "string":
            out["type"] = _nullable("string")
            if node.get("x-is-msdate-time"):
                out["format"] = "date-time"
            elif node.get("x-is-msdate"):
                out["format"] = "date"
            elif self.native_formats and node.get("format") in ("date", "date-time"):
                out["format"] = node["format"]
        else:  # untyped in the spec: accept anything
            out = {}
        if "enum" in node:
            description = _describe_enum(description, node["enum"], ref_name)
        if description:
            out = {"description": description, **out}
        return out

    def record_schema(self, component: str, extra: dict[str, dict]) -> dict:
        body = self.convert({"$ref": REF_PREFIX + component}, ())
        properties = {**extra, **body["properties"]}
        schema: dict = {"type": "object"}
        if body.get("description"):
            schema["description"] = body["description"]
        schema["properties"] = properties
        schema["additionalProperties"] = True
        return schema


def _schema_of_example(value) -> dict:
    if isinstance(value, bool):
        kind = "boolean"
    elif isinstance(value, (int, float)):
        kind = "number"
    elif isinstance(value, dict):
        return _open_object(None)
    elif isinstance(value, list):
        return {"type": _nullable("array"), "items": {}}
    else:
        kind = "string"
    return {"type": _nullable(kind)}


def example_only_fields(spec: dict) -> dict[str, dict[str, dict]]:
    """Top-level fields Xero's own response examples show but the record's component does not declare.

    Xero returns them (``DateString``, ``DueDateString``, ...), so they are declared too, typed from the
    example (strings stay strings: ``DateString`` is a local date, not a timestamp to convert).
    """
    components = spec["components"]["schemas"]
    found: dict[str, dict[str, dict]] = {}
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for response in (operation.get("responses") or {}).values():
                for content in (response.get("content") or {}).values():
                    example = content.get("example")
                    if not isinstance(example, dict):
                        continue
                    for key, records in example.items():
                        endpoint = endpoints.BY_ENVELOPE.get(key)
                        if endpoint is None or not isinstance(records, list):
                            continue
                        declared = components[endpoint.record_schema]["properties"]
                        extra = found.setdefault(endpoint.record_schema, {})
                        for record in records:
                            for name, value in (record.items() if isinstance(record, dict) else ()):
                                if name not in declared and name not in extra:
                                    extra[name] = {
                                        "description": "Returned by Xero (see the spec's response examples) "
                                        "but not declared in its schema.",
                                        **_schema_of_example(value),
                                    }
    return {component: dict(sorted(fields.items())) for component, fields in sorted(found.items()) if fields}


def build_stream_schemas(spec: dict) -> dict[str, dict]:
    components = spec["components"]["schemas"]
    builder = StreamSchemaBuilder(components)
    undeclared = example_only_fields(spec)
    schemas: dict[str, dict] = {}
    for stream, endpoint in ENDPOINT_STREAMS.items():
        schema = builder.record_schema(endpoint.record_schema, {"tenant_id": TENANT_ID})
        schema["properties"].update(undeclared.get(endpoint.record_schema, {}))
        schemas[stream] = schema
    for stream, (parent, _list_field, component) in CHILD_STREAMS.items():
        parent_endpoint = ENDPOINT_STREAMS[parent]
        parent_id = parent_endpoint.id_field
        parent_field = builder.convert(
            components[parent_endpoint.record_schema]["properties"][parent_id], (parent_endpoint.record_schema,)
        )
        parent_field = {**parent_field, "description": f"The parent {parent_endpoint.record_schema}'s {parent_id}."}
        schemas[stream] = builder.record_schema(
            component, {"tenant_id": TENANT_ID, parent_id: parent_field, "line_number": LINE_NUMBER}
        )
    for stream in REPORT_STREAMS:
        schemas[stream] = copy.deepcopy(REPORT_ROW_SCHEMA)
    for stream in TRACKING_REPORT_STREAMS:
        schemas[stream] = copy.deepcopy(REPORT_ROW_SCHEMA)
        schemas[stream]["properties"].update(TRACKING_ROW_FIELDS)
    return schemas


def build_other_api_schemas(spec: dict, streams: dict[str, endpoints.Endpoint]) -> dict[str, dict]:
    """The stream schemas of an Assets or Projects spec: the record's component, and ``tenant_id``."""
    builder = StreamSchemaBuilder(spec["components"]["schemas"], native_formats=True)
    return {stream: builder.record_schema(endpoint.record_schema, {"tenant_id": TENANT_ID})
            for stream, endpoint in streams.items()}


# ---------------------------------------------------------------- output


def render(document: dict) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def expected_files(spec_path: Path) -> dict[Path, str]:
    spec = load_spec(spec_path)
    files = {SPEC_BUNDLE: render(build_spec_bundle(spec["components"]["schemas"]))}
    for stream, schema in build_stream_schemas(spec).items():
        files[SCHEMAS_DIR / f"{stream}.json"] = render(schema)
    for spec_name, (bundle, streams) in OTHER_API_STREAMS.items():
        other = load_spec(spec_path.parent / spec_name)
        bundled = build_spec_bundle(without_ref_siblings(other["components"]["schemas"]))
        files[SPEC_BUNDLE.parent / f"{bundle}_schemas.json"] = render(bundled)
        for stream, schema in build_other_api_schemas(other, streams).items():
            files[SCHEMAS_DIR / f"{stream}.json"] = render(schema)
    return files


def unexpected_files(files: dict[Path, str]) -> list[Path]:
    """Schema files the generator would not write (a stream that no longer exists)."""
    return [path for path in sorted(SCHEMAS_DIR.glob("*.json")) if path not in files]


def stale_files(files: dict[Path, str]) -> list[str]:
    problems = [
        str(path.relative_to(REPO))
        for path, text in files.items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    problems += [f"{path.relative_to(REPO)} (not generated: remove it)" for path in unexpected_files(files)]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help=f"OpenAPI YAML (default {DEFAULT_SPEC})")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if committed output differs")
    args = parser.parse_args(argv)

    missing = [path for path in (args.spec, *(args.spec.parent / name for name in OTHER_API_STREAMS))
               if not path.is_file()]
    if missing:
        print(
            f"error: Xero's OpenAPI spec not found at {missing[0]}. The specs live in ../shared/xero-openapi/ "
            "next to the repo in CI; pass --spec PATH to point at a copy of xero_accounting.yaml (with "
            f"{' and '.join(OTHER_API_STREAMS)} beside it).",
            file=sys.stderr,
        )
        return 2

    files = expected_files(args.spec)
    if args.check:
        stale = stale_files(files)
        if stale:
            print("Out of date (run scripts/generate_schemas.py):\n  " + "\n  ".join(stale), file=sys.stderr)
            return 1
        print(f"{len(files)} generated files are up to date.")
        return 0

    SCHEMAS_DIR.mkdir(parents=True, exist_ok=True)
    SPEC_BUNDLE.parent.mkdir(parents=True, exist_ok=True)
    for path in unexpected_files(files):
        path.unlink()
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    print(f"Wrote {len(files)} files from {args.spec}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
