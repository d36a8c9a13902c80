#!/usr/bin/env bash
# Standard fine-tuning against distilling step-by-step on SVAMP with the smollm2-135m student,
# same steps, batch and seed, run one after the other on this machine, then summarised into
# benchmarks/results/svamp_smollm2_<steps>steps.json.
#
#   bash benchmarks/svamp_smollm2.sh [STEPS] [OUTPUT_ROOT]     (defaults: 90 = one epoch, runs/)
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-90}"
root="${2:-runs}"
data="${STEPDISTILL_DATA_DIR:-../shared/data/paper}"
for method in standard step-by-step; do
    .venv/bin/stepdistill train --task svamp --data-dir "$data" --method "$method" \
        --student smollm2-135m --output "$root/svamp-smollm2-$method" \
        --batch-size 8 --max-steps "$steps" --eval-steps $(( steps / 2 )) --seed 0 --overwrite
done
.venv/bin/python benchmarks/collect_runs.py --output "benchmarks/results/svamp_smollm2_${steps}steps.json" \
    "$root/svamp-smollm2-standard" "$root/svamp-smollm2-step-by-step"
