"""The shape issue 13 set for the tap's runtime package: no class over 250 lines (a class that grows past it
holds more than one mechanism: move one out, as tap_xero/sync/ does), and no private singer-sdk member
touched outside tap_xero/sdk_compat.py (where each touch is listed and tested)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "tap_xero"
MAX_CLASS_LINES = 250
# Private members of singer-sdk objects the tap's code could reach for (the SDK's Stream, Tap, authenticators).
SDK_PRIVATE = re.compile(r"\.(_tap|_session|_stream_version|_state_writer|_write_state_message|_write_record_message"
                         r"|_write_schema_message|_write_batch_message|_increment_stream_state|_env_var_config"
                         r"|_handle_termination|_validate_config)\b")


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_class_of_the_runtime_package_is_over_250_lines():
    too_long = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_CLASS_LINES:
                    too_long.append(f"{path.relative_to(PACKAGE.parent)}::{node.name} ({lines} lines)")
    assert not too_long, too_long


def test_private_sdk_members_are_touched_in_sdk_compat_only():
    touches = []
    for path in _modules():
        if path.name == "sdk_compat.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if SDK_PRIVATE.search(code):
                touches.append(f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}")
    assert not touches, touches
