"""The benchmark harness runs: `python -m bench lists` on a tiny SQLite database prints its table.

No timing is asserted; this only keeps the harness from rotting as the app changes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_list_benchmark_runs_and_prints_its_table(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bench", "lists", "--sizes", "300", "--rounds", "1"]
        + ["--requests", "2", "--folder", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    out = result.stdout
    assert "| request | Kesu p50 | Kesu p95 | statements | bare FAB p95 |" in out
    for request in (
        "API list, default (newest first)",
        "API list, second page",
        "API list, overdue + sort by deadline",
        "API list, search by customer",
        "screen /cases/ default",
        "case page, screen",
    ):
        assert f"| {request}" in out, request
    assert (tmp_path / "kesu-bench-sqlite-300.sqlite").exists()
