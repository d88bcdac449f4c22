"""The tap and the sandbox are two distributions, and imports run one way: the sandbox imports the tap.

- No ``tap_xero`` module imports ``xero_sandbox``, at module level or inside a function: every
  module imports in a fresh interpreter where ``xero_sandbox`` cannot be imported, and no source
  file names it in an import statement.
- The tap's wheel holds ``tap_xero`` only (no emulator file, no ``xero_sandbox``), does not require
  the emulator-only dependency (simplejson) and has no ``tap-xero-sandbox`` command; the sandbox's
  wheel holds ``xero_sandbox`` only, requires the tap and has the command. Both wheels are built
  from copies of the sources, offline (``--no-index --no-build-isolation``).
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TAP_PACKAGE = REPO / "tap_xero"
SANDBOX_DIR = REPO / "sandbox"


def _imported_modules(path: Path) -> set[str]:
    """Every module an ``import`` statement anywhere in ``path`` names (functions included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_no_tap_source_file_imports_the_sandbox():
    offenders = {
        str(path.relative_to(REPO)): sorted(n for n in _imported_modules(path) if n.split(".")[0] == "xero_sandbox")
        for path in TAP_PACKAGE.rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_every_tap_module_imports_without_the_sandbox():
    code = (
        "import importlib, pkgutil, sys\n"
        "sys.modules['xero_sandbox'] = None  # any import of it now raises ImportError\n"
        "import tap_xero\n"
        "names = [m.name for m in pkgutil.walk_packages(tap_xero.__path__, 'tap_xero.')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "print(len(names))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.strip()) > 30  # every module was walked, not an empty package


def _build_wheel(source: Path, out: Path) -> zipfile.ZipFile:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index", "--no-build-isolation",
         "--wheel-dir", str(out), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (wheel,) = out.glob("*.whl")
    return zipfile.ZipFile(wheel)


@pytest.fixture(scope="module")
def source_copy(tmp_path_factory) -> Path:
    """The repository's packaging inputs, copied: building never writes into the checkout."""
    copy = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, copy / name)
    shutil.copytree(TAP_PACKAGE, copy / "tap_xero", ignore=ignore)
    shutil.copytree(SANDBOX_DIR, copy / "sandbox", ignore=ignore)
    return copy


def _metadata(wheel: zipfile.ZipFile, name: str) -> str:
    (path,) = [n for n in wheel.namelist() if n.endswith(".dist-info/" + name)]
    return wheel.read(path).decode("utf-8")


def test_the_taps_wheel_holds_the_tap_only(source_copy, tmp_path):
    wheel = _build_wheel(source_copy, tmp_path)
    files = wheel.namelist()
    assert any(name == "tap_xero/endpoints.py" for name in files)
    assert any(name.startswith("tap_xero/schemas/") for name in files)
    strays = [name for name in files if not name.startswith(("tap_xero/", "tap_xero-"))]
    assert strays == []
    assert [name for name in files if name.startswith("tap_xero/sandbox/") or "xero_sandbox" in name] == []
    requires = [line for line in _metadata(wheel, "METADATA").splitlines() if line.startswith("Requires-Dist:")]
    assert not [line for line in requires if "simplejson" in line and "extra ==" not in line]
    assert "tap-xero-sandbox" not in _metadata(wheel, "entry_points.txt")


def test_the_sandboxs_wheel_holds_the_sandbox_and_needs_the_tap(source_copy, tmp_path):
    wheel = _build_wheel(source_copy / "sandbox", tmp_path)
    files = wheel.namelist()
    assert "xero_sandbox/resources/invoices.py" in files
    assert [name for name in files if not name.startswith(("xero_sandbox/", "xero_sandbox-"))] == []
    requires = [line for line in _metadata(wheel, "METADATA").splitlines() if line.startswith("Requires-Dist:")]
    assert any("tap-xero" in line for line in requires) and any("simplejson" in line for line in requires)
    assert "tap-xero-sandbox = xero_sandbox.cli:main" in _metadata(wheel, "entry_points.txt")
