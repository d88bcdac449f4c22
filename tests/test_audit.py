"""scripts/audit.py's offline check against the PyPA advisory database (OSV records): which pinned releases an
advisory names, by its version list or its ranges."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "audit.py"
spec = importlib.util.spec_from_file_location("audit", SCRIPT)
assert spec and spec.loader
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)

ADVISORY = """\
id: PYSEC-2099-1
affected:
- package: {name: Some_Package, ecosystem: PyPI}
  ranges:
  - type: ECOSYSTEM
    events: [{introduced: "0"}, {fixed: "1.5.1"}, {introduced: "2.0"}, {fixed: "2.0.3"}]
  versions: ["3.0.0"]
"""


def test_ranges_and_listed_versions_name_the_affected_releases():
    import yaml

    advisory = yaml.safe_load(ADVISORY)
    affected = {v for v in ("1.0", "1.5.0", "1.5.1", "1.9", "2.0.0", "2.0.2", "2.0.3", "3.0.0", "3.0.1")
                if audit.affects(advisory, "some-package", v)}
    assert affected == {"1.0", "1.5.0", "2.0.0", "2.0.2", "3.0.0"}
    assert not audit.affects(advisory, "other-package", "1.0")


def test_the_offline_audit_reads_the_pins_and_the_database(tmp_path):
    (tmp_path / "vulns" / "some-package").mkdir(parents=True)
    (tmp_path / "vulns" / "some-package" / "PYSEC-2099-1.yaml").write_text(ADVISORY)
    pins = tmp_path / "constraints.txt"
    pins.write_text("# pinned\nsome_package==1.5.0\nclean-package==1.0\n")
    vulnerable, skipped, audited = audit.audit_offline(pins, tmp_path)
    assert vulnerable == ["some-package 1.5.0: PYSEC-2099-1"] and skipped == [] and audited == 2
    assert audit.main(["--advisories", str(tmp_path), str(pins)]) == 1
