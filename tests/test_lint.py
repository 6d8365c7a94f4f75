"""The code passes ruff (pyflakes and syntax rules, configured in pyproject.toml; the version pinned in
requirements.txt): an unused import, an undefined name or a syntax error anywhere fails the suite."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def _ruff() -> list[str]:
    beside = Path(sys.executable).parent / "ruff"  # the virtual environment's, installed from requirements.txt
    if beside.is_file():
        return [str(beside)]
    if shutil.which("ruff"):
        return ["ruff"]
    return [sys.executable, "-m", "ruff"]


def test_ruff_finds_nothing():
    result = subprocess.run([*_ruff(), "check", "--no-cache", "generator", "tests", "scripts"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert "All checks passed" in result.stdout


def test_ruff_reads_the_projects_rules(tmp_path):
    """The rules are the project's own, not ruff's defaults alone: an unused import is found."""
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    (tmp_path / "bad.py").write_text("import os\n")
    result = subprocess.run([*_ruff(), "check", "--no-cache", "bad.py"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "F401" in result.stdout, result.stdout + result.stderr
