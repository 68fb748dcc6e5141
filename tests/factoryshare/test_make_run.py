"""`make run` is the whole service: the server, a schedule-run worker and the job scheduler,
all stopped together."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run_recipe() -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed here")
    # -n prints the recipe without running it; -o takes the installed venv as up to date.
    result = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", "run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def test_make_run_starts_the_job_scheduler_beside_the_worker_and_the_server(run_recipe):
    assert "factoryshare scheduler &" in run_recipe
    assert "factoryshare worker &" in run_recipe
    assert "factoryshare serve" in run_recipe
    assert run_recipe.index("factoryshare scheduler &") < run_recipe.index("factoryshare serve")


def test_stopping_make_run_stops_the_scheduler_and_the_worker_too(run_recipe):
    trap = next(line for line in run_recipe.splitlines() if line.startswith("trap "))
    assert "$scheduler" in trap and "$worker" in trap
    assert "INT" in trap and "TERM" in trap and "EXIT" in trap
