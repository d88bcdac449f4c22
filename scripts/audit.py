"""Audit the locked dependency sets for known vulnerabilities: pip-audit over constraints*.txt.

    .venv/bin/python scripts/audit.py [constraints.txt constraints-meltano.txt ...]
    .venv/bin/python scripts/audit.py --advisories DIR [files ...]   # offline, a clone of pypa/advisory-database

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


def pinned(requirements: Path) -> list[tuple[str, str]]:
    """(normalised name, version) of each ``name==version`` line."""
    pins = []
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = (part.strip() for part in line.split("==", 1))
            pins.append((name.lower().replace("_", "-").replace(".", "-"), version.split(";")[0].strip()))
    return pins


def affects(advisory: dict, name: str, version: str) -> bool:
    """Whether an OSV advisory (the PyPA advisory database's format) names this release of ``name``."""
    from packaging.version import InvalidVersion, Version

    for affected in advisory.get("affected", []) or []:
        package = affected.get("package") or {}
        if str(package.get("name", "")).lower().replace("_", "-").replace(".", "-") != name:
            continue
        if version in [str(v) for v in affected.get("versions") or []]:
            return True
        try:
            mine = Version(version)
            for span in affected.get("ranges") or []:
                introduced, fixed = None, None
                for event in span.get("events") or []:
                    if "introduced" in event:
                        introduced = Version(str(event["introduced"]))
                    if "fixed" in event:
                        fixed = Version(str(event["fixed"]))
                    if introduced is not None and fixed is not None:
                        if introduced <= mine < fixed:
                            return True
                        introduced, fixed = None, None
                if introduced is not None and introduced <= mine:
                    return True
        except InvalidVersion:
            continue
    return False


def audit_offline(requirements: Path, advisories: Path) -> tuple[list[str], list[str], int]:
    """The same answer as ``audit`` from a local clone of https://github.com/pypa/advisory-database."""
    import yaml

    vulnerable = []
    pins = pinned(requirements)
    for name, version in pins:
        for path in sorted((advisories / "vulns" / name).glob("*.yaml")):
            advisory = yaml.safe_load(path.read_text()) or {}
            if affects(advisory, name, version) and not advisory.get("withdrawn"):
                vulnerable.append(f"{name} {version}: {advisory.get('id', path.stem)}")
    return vulnerable, [], len(pins)


def main(argv: list[str]) -> int:
    advisories = None
    if argv[:1] == ["--advisories"]:
        advisories, argv = Path(argv[1]), argv[2:]
    files = [Path(arg) for arg in argv] or [REPO / name for name in DEFAULT_FILES if (REPO / name).exists()]
    found = False
    for requirements in files:
        if advisories is not None:
            vulnerable, skipped, audited = audit_offline(requirements, advisories)
        else:
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
