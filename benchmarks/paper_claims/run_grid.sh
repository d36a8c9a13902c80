#!/usr/bin/env bash
# The background queue of the evidence grid (issue 23), issue 27's e-SNLI arms and issue 22's SVAMP
# arm: one ordered list of runs (a recipe's method, and for issue 22 a seed) that lanes (one by
# default) take from in turn, each the next run nobody has taken, so that no lane idles while
# another has hours of work left, and each run finishes within a session on a two-core machine. The
# order finishes whole pairs first: the SVAMP grid, seed by seed; issue 27's arms at 25% of e-SNLI
# (esnli-shared-input-seed*.yaml, whose standard and shared-input runs are the grid's own), seed by
# seed, before the grid spends hours on shared input; issue 22's SVAMP arm (kept examples only
# against every example, from its own worktree ../partial: the grid's commit lacks
# `rationale_required`); the e-SNLI grid; then the summaries. Runs restored from the committed
# results and finished runs are skipped, interrupted ones resumed, so the same script continues a
# stopped queue; each finished run is saved under benchmarks/results/ at once (`sync_runs.py save`
# in its worktree). Run it in the background from a worktree whose code is pinned at the grid's
# commit (551f4da), with this folder's scripts and recipes and the committed results from main, and
# issue 22's worktree beside it, pinned at 23579d1:
#
#   git worktree add --detach ../grid 551f4da && cd ../grid
#   git checkout main -- benchmarks/paper_claims benchmarks/results/paper_claims
#   bash scripts/setup.sh && mkdir -p logs
#   git worktree add --detach ../partial 23579d1 && (cd ../partial && bash scripts/setup.sh &&
#       git checkout main -- benchmarks/partial_rationales benchmarks/results/partial_rationales \
#       benchmarks/paper_claims/sync_runs.py)
#   OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 nohup nice -n 19 bash benchmarks/paper_claims/run_grid.sh \
#       > logs/grid.log 2>&1 &
#
# `run_grid.sh --list` prints the queue and runs nothing. Each run's log is
# logs/<recipe>[-seed<N>]-<method>.log. LANES (1 by default) sets how many lanes take runs, each
# with OMP_NUM_THREADS threads. On two cores one lane of two threads finishes more: SVAMP
# step-by-step took 5.6 s a step that way (2026-12-07) against 17.5 s a step on one thread beside
# a second lane (2026-12-03), both on an AMD EPYC, so about 1.6 times the steps an hour; a run
# finishes within about an hour, and a session that ends on a fresh machine (checkpoints are too
# big to commit, so an unfinished run starts again) loses less of it.
set -euo pipefail
cd "$(dirname "$0")/../.."
grid=benchmarks/paper_claims
partial=benchmarks/partial_rationales/svamp-partial.yaml
lanes=${LANES:-1}

queue() {  # one run a line: worktree, recipe, method label[, seed]
    local seed method
    for seed in 0 1 2; do
        for method in standard step-by-step; do
            echo ". $grid/svamp-grid-seed$seed.yaml $method"
        done
    done
    for seed in 0 1 2; do
        for method in standard prefixes step-by-step shared-alpha0.8 shuffled; do
            echo ". $grid/esnli-shared-input-seed$seed.yaml $method"
        done
    done
    for seed in 0 1 2; do
        for method in kept every; do echo "../partial $partial $method $seed"; done
    done
    for seed in 0 1 2; do
        for method in standard step-by-step; do
            echo ". $grid/esnli-grid-seed$seed.yaml $method"
        done
    done
}

if [ "${1:-}" = --list ]; then
    queue
    exit 0
fi

mkdir -p logs
queue > logs/queue.txt
: > logs/taken.txt  # a restart takes every run again: finished ones are skipped at once

take() {  # the next run of the queue that no lane has taken (nothing when none is left)
    (
        flock 9
        while read -r item; do
            grep -qxF "$item" logs/taken.txt && continue
            echo "$item" >> logs/taken.txt
            echo "$item"
            break
        done < logs/queue.txt
    ) 9> logs/queue.lock
}

lane() {  # take runs until none is left; a failed run stops this lane (its log says why)
    local item dir recipe method seed log
    while item=$(take) && [ -n "$item" ]; do
        read -r dir recipe method seed <<< "$item"
        log="$PWD/logs/$(basename "$recipe" .yaml)${seed:+-seed$seed}-$method.log"
        echo "$(date -u +%FT%TZ) lane $1: $item"
        if ! (cd "$dir" && .venv/bin/stepdistill experiment "$recipe" --method "$method" \
            ${seed:+--seed "$seed"} && .venv/bin/python $grid/sync_runs.py save) > "$log" 2>&1; then
            echo "$(date -u +%FT%TZ) lane $1 stopped: $item failed (see $log)"
            return 1
        fi
    done
}

.venv/bin/python $grid/sync_runs.py restore
[ -f runs/esnli-user/esnli_valid_palm.jsonl ] ||
    .venv/bin/python benchmarks/esnli_user_task/make_data.py
(
    cd ../partial  # fails here, before any run, where issue 22's worktree is missing
    .venv/bin/python $grid/sync_runs.py restore
    [ -f runs/partial_rationales/svamp_palm_agree_with_gold.jsonl ] ||
        .venv/bin/python benchmarks/partial_rationales/svamp_filtered.py ../shared/data/paper
)
pids=()
for number in $(seq "$lanes"); do
    lane "$number" &
    pids+=($!)
done
for pid in "${pids[@]}"; do
    wait "$pid"  # a stopped lane stops the queue here, before the summaries would train its runs
done
for recipe in svamp-grid esnli-shared-input esnli-grid; do
    .venv/bin/stepdistill experiment "$grid/$recipe.yaml" > "logs/$recipe.log" 2>&1
done
(cd ../partial && .venv/bin/stepdistill experiment $partial) > logs/svamp-partial.log 2>&1
echo "$(date -u +%FT%TZ) the queue is done"
