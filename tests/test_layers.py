"""The layers the tree shows are kept: import-linter's contracts (pyproject.toml) on the real import graph.

The contracts: cli on top, then the adapters, the loop, the pure core and the files coming in; no
import cycle between siblings anywhere, function-level imports included; the core and the loop
import no hardware, audio or database library; the core no clock, thread or file API.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_layers_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_layers_top_of_the_package_holds_few_modules_and_none_is_long() -> None:
    package = ROOT / "coach"
    top = sorted(p.name for p in package.glob("*.py"))
    assert len(top) <= 6, top
    long = {str(p.relative_to(ROOT)): n for p in package.rglob("*.py") if (n := len(p.read_text().splitlines())) > 450}
    assert not long, long
