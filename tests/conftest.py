from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
PAPER_DATA = Path(
    os.environ.get("STEPDISTILL_PAPER_DATA", REPO_ROOT.parent / "shared" / "data" / "paper")
)


@pytest.fixture(scope="session")
def paper_dir() -> Path:
    """The paper's released data (../shared/data/paper). CI always has it; elsewhere the tests
    that need it are skipped with the reason, never passed silently."""
    if not (PAPER_DATA / "cqa").is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"paper data not found at {PAPER_DATA}")
        pytest.skip(f"paper data not found at {PAPER_DATA} (set STEPDISTILL_PAPER_DATA)")
    return PAPER_DATA
