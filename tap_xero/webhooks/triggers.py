"""Platform webhook runs: ``PAN_CTX_RUN_MODE=webhook`` with the deliveries in ``PAN_CTX_RUN_TRIGGERS``.

The integration platform receives Xero's POSTs itself and starts a run with them: a JSON array of
triggers, each with the delivery's ``payload`` and ``headers``. Every trigger must carry a valid
``x-xero-signature`` for the webhook key, or the run is refused before any request to Xero.

The signature covers the raw body. A payload given as a string is those bytes. A payload the
platform has already parsed into an object has lost them; it is accepted only if its compact or
default JSON serialisation verifies (what most platforms forward unchanged), and otherwise
refused with a message asking for the raw body.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from tap_xero.errors import ConfigError, TapXeroError
from tap_xero.webhooks.payload import PayloadError, parse_payload
from tap_xero.webhooks.signature import SIGNATURE_HEADER, resolve_key, verify

RUN_MODE_VAR = "PAN_CTX_RUN_MODE"
TRIGGERS_VAR = "PAN_CTX_RUN_TRIGGERS"
WEBHOOK_RUN_MODE = "webhook"
_PAYLOAD_KEYS = ("payload", "body", "raw_body", "rawBody")


class WebhookTriggerError(TapXeroError):
    """A webhook run's trigger is unsigned, wrongly signed or not a Xero payload: the run is refused."""


def is_webhook_run(environ: Mapping[str, str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    return environ.get(RUN_MODE_VAR, "").strip().lower() == WEBHOOK_RUN_MODE


def _header(headers: object, name: str) -> str | None:
    """A header from a dict (any case) or a list of [name, value] pairs."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers if isinstance(headers, list) else []
    for pair in pairs:
        if isinstance(pair, (list, tuple)) and len(pair) == 2 and str(pair[0]).lower() == name:
            value = pair[1]
            return value[0] if isinstance(value, list) and value else value if isinstance(value, str) else None
    return None


def _candidate_bodies(payload: object) -> list[bytes]:
    if isinstance(payload, str):
        return [payload.encode("utf-8")]
    if isinstance(payload, (bytes, bytearray)):
        return [bytes(payload)]
    return [json.dumps(payload, separators=(",", ":")).encode("utf-8"), json.dumps(payload).encode("utf-8")]


def verified_trigger_events(triggers_json: str | None, key: str) -> list[dict[str, Any]]:
    """Every event of every trigger, after checking each trigger's signature with ``key``."""
    events: list[dict[str, Any]] = []
    for index, trigger in enumerate(_triggers(triggers_json), 1):
        events.extend(_trigger_events(index, trigger, key))
    return events


def _triggers(triggers_json: str | None) -> list[object]:
    if not triggers_json or not triggers_json.strip():
        raise ConfigError(TRIGGERS_VAR, "a webhook run was started without triggers",
                          "the platform must pass the deliveries as a JSON array in PAN_CTX_RUN_TRIGGERS")
    try:
        triggers = json.loads(triggers_json)
    except json.JSONDecodeError:
        raise ConfigError(TRIGGERS_VAR, "is not JSON", "pass a JSON array of {payload, headers} triggers") from None
    if isinstance(triggers, dict):
        triggers = [triggers]
    if not isinstance(triggers, list):
        raise ConfigError(TRIGGERS_VAR, "is not a JSON array", "pass a JSON array of {payload, headers} triggers")
    return triggers


def _trigger_events(index: int, trigger: object, key: str) -> list[dict[str, Any]]:
    """The events of trigger number ``index``, once its signature is verified."""
    if not isinstance(trigger, dict):
        raise WebhookTriggerError(f"Webhook trigger {index} is not an object with payload and headers")
    payload = next((trigger[k] for k in _PAYLOAD_KEYS if k in trigger), None)
    signature = _header(trigger.get("headers") or {}, SIGNATURE_HEADER)
    if payload is None:
        raise WebhookTriggerError(f"Webhook trigger {index} has no payload")
    if not signature:
        raise WebhookTriggerError(
            f"Webhook trigger {index} has no {SIGNATURE_HEADER} header: refusing an unsigned delivery"
        )
    body = next((b for b in _candidate_bodies(payload) if verify(b, signature, key)), None)
    if body is None:
        hint = "" if isinstance(payload, str) else (
            " (the payload was passed parsed, not as the raw body Xero signed; pass the raw body)"
        )
        raise WebhookTriggerError(
            f"Webhook trigger {index}: {SIGNATURE_HEADER} does not match the webhook key{hint}. "
            "The delivery is not from Xero, or the configured webhook key is not this app's: "
            "check PAN_SEC_XERO_WEBHOOK_KEY"
        )
    try:
        return parse_payload(body)
    except PayloadError as exc:
        raise WebhookTriggerError(f"Webhook trigger {index} is not a Xero webhook payload: {exc}") from None


def webhook_run_events(webhook_key: str | None, environ: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The verified events of this platform webhook run (key: setting, else the environment)."""
    environ = os.environ if environ is None else environ
    key = resolve_key(webhook_key, environ)
    return verified_trigger_events(environ.get(TRIGGERS_VAR), key)
