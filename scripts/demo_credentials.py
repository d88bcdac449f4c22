"""Print shell `export` lines that point Meltano at a running sandbox, from its ready file.

Besides the sandbox's URL and credentials it exports TAP_XERO_STREAM_MAPS (see
``duckdb_key_stream_maps``) because the demo loads into DuckDB.

Usage: eval "$(python scripts/demo_credentials.py /path/to/ready.json)"

`tap-xero-sandbox serve --ready-file PATH` writes its URLs and demo credentials there once it listens.
Meltano reads a setting from the environment variable TAP_XERO_<SETTING>, so exporting these points
`meltano --environment=sandbox run tap-xero ...` at the sandbox without writing a secret to any file
(meltano.yml's sandbox environment builds api_url and identity_url from XERO_SANDBOX_URL). Values are
shell-quoted and never echoed to the terminal.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

# Keys of the ready file that are tap settings.
CREDENTIAL_SETTINGS = ("client_id", "client_secret", "refresh_token")


def duckdb_key_stream_maps(stream_names) -> dict:
    """Stream maps that put '-' where a report line's key column holds ''.

    target-duckdb loads through CSV, where an empty string becomes NULL, and a primary-key column
    refuses NULL. Report lines outside a section, or not split by tracking, have '' in the key columns
    ``section`` and ``tracking_option``. The maps only touch empty values.
    """
    return {
        name: {"section": "section or '-'", "tracking_option": "tracking_option or '-'"}
        for name in stream_names if name.startswith("report_")
    }


def export_lines(ready: dict) -> list[str]:
    """`export NAME=value` lines for XERO_SANDBOX_URL and the demo app's credentials."""
    missing = [key for key in ("base_url", *CREDENTIAL_SETTINGS) if not ready.get(key)]
    if missing:
        raise SystemExit(f"error: the sandbox's ready file lacks {', '.join(missing)}")
    lines = [f"export XERO_SANDBOX_URL={shlex.quote(str(ready['base_url']))}"]
    lines += [f"export TAP_XERO_{key.upper()}={shlex.quote(str(ready[key]))}" for key in CREDENTIAL_SETTINGS]
    from tap_xero.streams import STREAM_CLASSES

    stream_maps = duckdb_key_stream_maps(cls.name for cls in STREAM_CLASSES)
    lines.append(f"export TAP_XERO_STREAM_MAPS={shlex.quote(json.dumps(stream_maps))}")
    return lines


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    ready = json.loads(Path(argv[1]).read_text())
    print("\n".join(export_lines(ready)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
