"""The one place that computes and verifies Xero's ``x-xero-signature``, and finds the webhook key.

Xero signs each delivery with base64(HMAC-SHA256(raw request body, webhook key)). The signature
must be computed over the exact bytes received: re-serialising parsed JSON would change them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping

from tap_xero.errors import ConfigError

SIGNATURE_HEADER = "x-xero-signature"

# Where the key may come from, in order of precedence after an explicit --webhook-key.
KEY_ENV_VARS = ("TAP_XERO_WEBHOOK_KEY", "PAN_SEC_XERO_WEBHOOK_KEY")


def sign(body: bytes, key: str) -> str:
    """The ``x-xero-signature`` value Xero would send for ``body``."""
    digest = hmac.new(key.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(body: bytes, signature: str | None, key: str) -> bool:
    """True when ``signature`` is the right one for ``body``; constant-time comparison."""
    if not signature or not key:
        return False
    expected = sign(body, key).encode("ascii")
    # compare_digest needs equal types; a non-ASCII header can never match anyway.
    try:
        received = signature.strip().encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected, received)


def resolve_key(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The webhook key from ``explicit``, else TAP_XERO_WEBHOOK_KEY, else PAN_SEC_XERO_WEBHOOK_KEY.

    Raises ConfigError naming all three sources (never a value) when none is set.
    """
    if explicit:
        return explicit
    environ = os.environ if environ is None else environ
    for name in KEY_ENV_VARS:
        value = environ.get(name, "").strip()
        if value:
            return value
    raise ConfigError(
        "webhook_key",
        "no Xero webhook key was given",
        "pass --webhook-key, or set TAP_XERO_WEBHOOK_KEY or PAN_SEC_XERO_WEBHOOK_KEY "
        "(the key is shown on the app's Webhooks page in Xero's developer portal)",
    )
