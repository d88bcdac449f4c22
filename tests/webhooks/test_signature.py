from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from tap_xero.errors import ConfigError
from tap_xero.webhooks.signature import resolve_key, sign, verify

BODY = b'{"events":[],"firstEventSequence":1,"lastEventSequence":1,"entropy":"S0m3r4Nd0mt3xt"}'


def test_sign_is_base64_hmac_sha256_of_the_raw_body():
    expected = base64.b64encode(hmac.new(b"key", BODY, hashlib.sha256).digest()).decode()
    assert sign(BODY, "key") == expected
    # A fixed vector (checked with openssl dgst -hmac), so a change of algorithm or encoding cannot slip through.
    assert sign(b"hello", "key") == "kwezuRXvtRcf8U2MtV+8x5jGwO8UVtZt7RpqpyOli3s="


def test_verify_accepts_only_the_exact_signature():
    good = sign(BODY, "key")
    assert verify(BODY, good, "key")
    assert verify(BODY, f" {good} ", "key")  # header whitespace is not part of the value
    assert not verify(BODY, sign(BODY, "other-key"), "key")
    assert not verify(BODY + b" ", good, "key")  # re-serialised bodies do not match
    assert not verify(BODY, None, "key")
    assert not verify(BODY, "", "key")
    assert not verify(BODY, "zażółć", "key")
    assert not verify(BODY, good, "")


def test_resolve_key_precedence():
    env = {"TAP_XERO_WEBHOOK_KEY": "from-tap", "PAN_SEC_XERO_WEBHOOK_KEY": "from-platform"}
    assert resolve_key("explicit", env) == "explicit"
    assert resolve_key(None, env) == "from-tap"
    assert resolve_key(None, {"PAN_SEC_XERO_WEBHOOK_KEY": "from-platform"}) == "from-platform"


def test_resolve_key_missing_names_every_source():
    with pytest.raises(ConfigError) as caught:
        resolve_key(None, {"TAP_XERO_WEBHOOK_KEY": "  "})
    message = str(caught.value)
    for source in ("--webhook-key", "TAP_XERO_WEBHOOK_KEY", "PAN_SEC_XERO_WEBHOOK_KEY"):
        assert source in message
    assert caught.value.exit_code == 2
