#!/usr/bin/env bash
# Bootstrapped self-training on SVAMP with smollm2-135m step-by-step (shared input): 25% of the
# training problems labeled (with PaLM rationales), the other 75% as the unlabeled pool (their
# gold labels only measure the pseudo-labels). Round 0 is step-by-step on the labeled share
# alone; rounds 1 and 2 add the student's confident pseudo-labels. Two seeds (data subsample,
# initialisation, sampling); then, for seed 0, the same rounds continuing from the previous
# round's weights instead of restarting from the base student. Resumes where it stopped.
#
# MAX_POOL caps the unlabeled pool (its first N inputs) to bound the CPU time of pseudo-labelling.
#
#   bash benchmarks/self_training_svamp.sh [OUT=runs/self-training] [STEPS=90] [MAX_POOL=all]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/self-training}
STEPS=${2:-90}
pool=()
[ -n "${3:-}" ] && pool=(--max-pool "$3")
DATA=../shared/data/paper
BIN=.venv/bin/stepdistill
for seed in 0 1; do
    round0="$OUT/seed$seed/round0"
    if [ ! -f "$round0/metrics.json" ]; then
        resume=()
        [ -d "$round0" ] && resume=(--resume)
        $BIN train --task svamp --data-dir $DATA --method step-by-step --shared-input \
            --student smollm2-135m --train-fraction 0.25 --data-seed $seed --seed $seed \
            --batch-size 8 --max-steps "$STEPS" --eval-steps "$STEPS" --output "$round0" "${resume[@]}"
    fi
    $BIN self-train --model "$round0" --unlabeled train --rounds 2 --samples 5 \
        --threshold 0.6 --seed $seed --init base --output "$OUT/seed$seed/base" "${pool[@]}"
done
$BIN self-train --model "$OUT/seed0/round0" --unlabeled train --rounds 2 --samples 5 \
    --threshold 0.6 --seed 0 --init previous --output "$OUT/seed0/previous" "${pool[@]}"
.venv/bin/python benchmarks/summarize_self_training.py --output "$OUT/summary.json" \
    "$OUT"/seed*/base "$OUT"/seed0/previous | tee "$OUT/summary.md"
