"""Audit the locked dependency sets for known vulnerabilities: pip-audit over constraints*.txt.

    .venv/bin/python scripts/audit.py [constraints.txt constraints-meltano.txt ...]

Runs ``pip-audit`` (pinned in the ``lint`` extra) on each pinned set, without resolving (the files are
complete), and prints one line per package with a known vulnerability and, separately, the packages the
advisory service could not look up. Exit status 1 when a vulnerability is found, 0 otherwise. A package that
could not be looked up is not a pass: it is listed as NOT AUDITED with the service's reason (an offline CI
machine, a mirror without per-release data), so a reader of the CI log sees exactly what was checked.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FILES = ("constraints.txt", "constraints-meltano.txt")


def audit(requirements: Path) -> tuple[list[str], list[str], int]:
    """(vulnerable lines, not-audited lines, packages audited) for one pinned requirements file."""
    pip_audit = Path(sys.executable).parent / "pip-audit"
    done = subprocess.run(
        [str(pip_audit), "-r", str(requirements), "--no-deps", "--format", "json", "--progress-spinner", "off"],
        capture_output=True, text=True, check=False,
    )
    try:
        report = json.loads(done.stdout or "{}")
    except ValueError:
        return [], [f"{requirements.name}: pip-audit failed ({done.stderr.strip()[-300:]})"], 0
    vulnerable, skipped, audited = [], [], 0
    for dependency in report.get("dependencies", []):
        name, version = dependency.get("name"), dependency.get("version", "?")
        if "skip_reason" in dependency:
            skipped.append(f"{name} {version}: {dependency['skip_reason']}")
            continue
        audited += 1
        for vulnerability in dependency.get("vulns", []):
            fixes = ", ".join(vulnerability.get("fix_versions") or []) or "no fixed release"
            vulnerable.append(f"{name} {version}: {vulnerability.get('id')} (fixed in {fixes})")
    return vulnerable, skipped, audited


def main(argv: list[str]) -> int:
    files = [Path(arg) for arg in argv] or [REPO / name for name in DEFAULT_FILES if (REPO / name).exists()]
    found = False
    for requirements in files:
        vulnerable, skipped, audited = audit(requirements)
        print(f"{requirements.name}: {audited} package(s) audited, {len(vulnerable)} known vulnerability(ies), "
              f"{len(skipped)} NOT AUDITED")
        for line in vulnerable:
            print(f"  VULNERABLE {line}")
        for line in skipped:
            print(f"  NOT AUDITED {line}")
        found = found or bool(vulnerable)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
