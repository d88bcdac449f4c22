"""Print shell `export` lines that point Meltano at a running sandbox, from its ready file.

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


def export_lines(ready: dict) -> list[str]:
    """`export NAME=value` lines for XERO_SANDBOX_URL and the demo app's credentials."""
    missing = [key for key in ("base_url", *CREDENTIAL_SETTINGS) if not ready.get(key)]
    if missing:
        raise SystemExit(f"error: the sandbox's ready file lacks {', '.join(missing)}")
    lines = [f"export XERO_SANDBOX_URL={shlex.quote(str(ready['base_url']))}"]
    lines += [f"export TAP_XERO_{key.upper()}={shlex.quote(str(ready[key]))}" for key in CREDENTIAL_SETTINGS]
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
