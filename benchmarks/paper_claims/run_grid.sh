#!/usr/bin/env bash
# The evidence grid's background queue as two one-thread lanes (so that each run finishes within
# a session on a two-core machine), each in the order that finishes whole pairs first: the SVAMP
# grid, seed 0, 1, 2; then issue 27's e-SNLI arms at 25% (esnli-shared-input.yaml, whose
# standard and shared-input runs are the grid's own), seed by seed, before the grid spends hours
# on shared input; then issue 22's SVAMP arm (kept examples only against every example, from
# its own worktree ../partial: the grid's commit lacks `rationale_required`); then the e-SNLI
# grid, seed 0, 1, 2; then the summaries. Runs restored from the committed results and finished
# runs are skipped, interrupted ones resumed, so the same script continues a stopped queue; each
# finished run is saved to benchmarks/results/ at once. Run it in the background from a worktree
# whose code is pinned at the grid's commit (551f4da), with this folder's scripts and recipes and
# the committed results from main, and issue 22's worktree beside it, pinned at 23579d1:
#
#   git worktree add --detach ../grid 551f4da && cd ../grid
#   git checkout main -- benchmarks/paper_claims benchmarks/results/paper_claims
#   bash scripts/setup.sh && mkdir -p logs
#   git worktree add --detach ../partial 23579d1 && (cd ../partial && bash scripts/setup.sh &&
#       git checkout main -- benchmarks/partial_rationales benchmarks/results/partial_rationales)
#   OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nohup nice -n 19 bash benchmarks/paper_claims/run_grid.sh \
#       > logs/grid.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/../.."
python=.venv/bin/python
run() { .venv/bin/stepdistill experiment "benchmarks/paper_claims/$1.yaml" "${@:2}"; }
# one lane: its methods (labels) of each recipe in turn, `recipe:label,label ...`
lane() {
    local name=$1 item recipe label
    shift
    for item in "$@"; do
        recipe=${item%%:*}
        local methods=()
        for label in ${item#*:}; do methods+=(--method "$label"); done
        run "$recipe" "${methods[@]}" > "logs/$name-$recipe.log" 2>&1
        $python benchmarks/paper_claims/sync_runs.py save
    done
}
# issue 22's SVAMP arm: one method, seed by seed, in ../partial, each seed saved there at once
partial() {
    local seed
    for seed in 0 1 2; do
        (cd ../partial && .venv/bin/stepdistill experiment \
            benchmarks/partial_rationales/svamp-partial.yaml --method "$1" --seed $seed &&
            $python benchmarks/paper_claims/sync_runs.py save) > "logs/$1-svamp-partial-seed$seed.log" 2>&1
    done
}
mkdir -p logs
$python benchmarks/paper_claims/sync_runs.py restore
[ -f runs/esnli-user/esnli_valid_palm.jsonl ] || $python benchmarks/esnli_user_task/make_data.py
(
    cd ../partial  # fails here, before any run, where issue 22's worktree is missing
    python=.venv/bin/python
    $python benchmarks/paper_claims/sync_runs.py restore
    [ -f runs/partial_rationales/svamp_palm_agree_with_gold.jsonl ] ||
        $python benchmarks/partial_rationales/svamp_filtered.py ../shared/data/paper
)
{
    lane standard svamp-grid-seed{0,1,2}:standard esnli-shared-input-seed{0,1,2}:"standard prefixes"
    partial kept
    lane standard esnli-grid-seed{0,1,2}:standard
} &
first=$!
{
    lane step-by-step svamp-grid-seed{0,1,2}:step-by-step \
        esnli-shared-input-seed{0,1,2}:"step-by-step shared-alpha0.8 shuffled"
    partial every
    lane step-by-step esnli-grid-seed{0,1,2}:step-by-step
} &
second=$!
wait $first
wait $second  # a failed lane stops here, before the summaries would train its runs
run svamp-grid
run esnli-shared-input
run esnli-grid
(cd ../partial && .venv/bin/stepdistill experiment benchmarks/partial_rationales/svamp-partial.yaml)
