#!/usr/bin/env bash
# The evidence grid, in the order that finishes whole pairs first: SVAMP seed 0, 1, 2 (standard
# and step-by-step each), then e-SNLI seed 0, 1, 2, then the two summaries. Every command skips
# finished runs and resumes interrupted ones, so the same script continues a stopped grid.
# Run it in the background from a worktree pinned at one commit:
#
#   git worktree add --detach ../grid COMMIT && cd ../grid && bash scripts/setup.sh
#   OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nohup nice -n 19 bash benchmarks/paper_claims/run_grid.sh \
#       > logs/grid.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/../.."
run() { .venv/bin/stepdistill experiment "benchmarks/paper_claims/$1.yaml"; }
for seed in 0 1 2; do run "svamp-grid-seed$seed"; done
[ -f runs/esnli-user/esnli_valid_palm.jsonl ] || .venv/bin/python benchmarks/esnli_user_task/make_data.py
for seed in 0 1 2; do run "esnli-grid-seed$seed"; done
run svamp-grid
run esnli-grid
