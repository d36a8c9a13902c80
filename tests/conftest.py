from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

# Nothing in the tests may reach a model hub: local folders and offline wheels only.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Runs record their throughput: in the tests, never in the user's own file.
os.environ["STEPDISTILL_THROUGHPUT"] = str(
    Path(tempfile.mkdtemp(prefix="stepdistill-tests-")) / "throughput.json"
)
REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/tiny.py
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


@pytest.fixture(scope="session")
def tiny_t5_dir(tmp_path_factory) -> Path:
    from tiny import tiny_t5

    return tiny_t5(tmp_path_factory.mktemp("tiny-t5"))


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory) -> Path:
    from tiny import tiny_llama

    return tiny_llama(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(params=["t5", "llama"])
def tiny_student_dir(request, tiny_t5_dir, tiny_llama_dir) -> Path:
    return {"t5": tiny_t5_dir, "llama": tiny_llama_dir}[request.param]
