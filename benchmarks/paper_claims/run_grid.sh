#!/usr/bin/env bash
# The evidence grid as two one-thread lanes, one per method (so that each run finishes within a
# session on a two-core machine), each in the order that finishes whole pairs first: SVAMP seed
# 0, 1, 2, then e-SNLI seed 0, 1, 2; then the two summaries. Runs restored from the committed
# results and finished runs are skipped, interrupted ones resumed, so the same script continues a
# stopped grid; each finished run is saved to benchmarks/results/paper_claims/grid at once.
# Run it in the background from a worktree pinned at one commit:
#
#   git worktree add --detach ../grid COMMIT && cd ../grid && bash scripts/setup.sh && mkdir logs
#   OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nohup nice -n 19 bash benchmarks/paper_claims/run_grid.sh \
#       > logs/grid.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/../.."
python=.venv/bin/python
run() { .venv/bin/stepdistill experiment "benchmarks/paper_claims/$1.yaml" "${@:2}"; }
lane() {
    for recipe in svamp-grid-seed{0,1,2} esnli-grid-seed{0,1,2}; do
        run "$recipe" --method "$1" > "logs/$1-$recipe.log" 2>&1
        $python benchmarks/paper_claims/sync_runs.py save
    done
}
mkdir -p logs
$python benchmarks/paper_claims/sync_runs.py restore
[ -f runs/esnli-user/esnli_valid_palm.jsonl ] || $python benchmarks/esnli_user_task/make_data.py
lane standard &
first=$!
lane step-by-step &
second=$!
wait $first
wait $second  # a failed lane stops here, before the summaries would train its runs
run svamp-grid
run esnli-grid
