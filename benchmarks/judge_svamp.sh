#!/usr/bin/env bash
# Rationale filtering on SVAMP with smollm2-135m step-by-step (shared input), same steps and
# seeds for every condition; PaLM-540B's rationales of the paper data, judged by the embedded
# local model (SmolLM2-135M-Instruct, the built-in rubric):
#   all           every PaLM rationale that parses (the shipped data)
#   judge-top     only rationales the judge scored at least JUDGE_MIN
#   agree-gold    only rationales whose PaLM label agrees with the gold label
#   random-quarter  a random quarter of the training problems (the control of judge-top, which
#                 keeps about a quarter: is it the judge's choice or the smaller data?)
# Finished runs (metrics.json) are skipped, so the script resumes.
#
#   bash benchmarks/judge_svamp.sh [OUT=runs/judge] [STEPS=90] [JUDGE_MIN=4]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/judge}
STEPS=${2:-90}
JUDGE_MIN=${3:-4}
DATA=../shared/data/paper
BIN=.venv/bin/stepdistill
mkdir -p "$OUT"
if [ ! -f "$OUT/svamp_train_judged.jsonl" ]; then
    $BIN judge --task svamp --data-dir $DATA --split train --judge local:smollm2-135m \
        --output "$OUT/svamp_train_judged.jsonl" --json > "$OUT/judge_report.json"
fi
for condition in judge-top agree-gold; do
    filter="judge-min=$JUDGE_MIN"
    [ $condition = agree-gold ] && filter=agree-with-gold
    if [ ! -f "$OUT/teacher_$condition.jsonl" ]; then
        $BIN judge --task svamp --data-dir $DATA --split train --judge local:smollm2-135m \
            --cache "$OUT/svamp_train_judged.jsonl.cache.sqlite" --filter "$filter" \
            --output "$OUT/teacher_$condition.jsonl" --json > "$OUT/filter_$condition.json"
    fi
done
for seed in 0 1; do
    for condition in all judge-top agree-gold random-quarter; do
        folder="$OUT/sbs-$condition/seed$seed"
        [ -f "$folder/metrics.json" ] && continue
        extra=()
        case $condition in
            judge-top | agree-gold) extra=(--teacher-file "$OUT/teacher_$condition.jsonl") ;;
            random-quarter) extra=(--train-fraction 0.25 --data-seed $seed) ;;
        esac
        resume=()
        [ -d "$folder" ] && resume=(--resume)
        $BIN train --task svamp --data-dir $DATA --method step-by-step --shared-input \
            --student smollm2-135m --batch-size 8 --max-steps "$STEPS" --eval-steps "$STEPS" \
            --seed $seed --output "$folder" "${extra[@]}" "${resume[@]}"
    done
done
.venv/bin/python benchmarks/collect_runs.py --output "$OUT/summary.json" "$OUT"/sbs-*/seed* > "$OUT/summary.txt"
cat "$OUT/summary.txt"
