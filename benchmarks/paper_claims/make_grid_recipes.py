"""Write the evidence grid's recipes for the learning rate the protocol chose (run once, the
recipes committed):

    python benchmarks/paper_claims/make_grid_recipes.py 1.0e-4
"""

import sys
from pathlib import Path

lr = sys.argv[1]
root = Path(__file__).resolve().parent
# step-by-step at 100% and 25% against standard at 100%, and at 25% against 25%
ESNLI_PAIRS = ((1.0, 1.0), (0.25, 1.0), (0.25, 0.25))
esnli_compare = "compare:\n" + "".join(
    f"  - {{treatment: step-by-step, baseline: standard, treatment_fraction: {ours}, "
    f"baseline_fraction: {theirs}}}\n"
    for ours, theirs in ESNLI_PAIRS
)
head = {
    "svamp": (
        "task: svamp\ndata_dir: ../../../shared/data/paper\n",
        "SVAMP, gold labels, all 720 training problems (80 of them validate, 200 test)",
        "[1.0]",
        "",
    ),
    "esnli": (
        "task: esnli-task.yaml\nmax_valid_examples: 200\n",
        "e-SNLI as a user's task (esnli-task.yaml: 7,541 train, 200 of 234 validate, 2,067 test)",
        "[0.25, 1.0]",
        esnli_compare,
    ),
}
for task, (source, what, fractions, compare) in head.items():
    for seeds, suffix in (
        ("[0]", "-seed0"),
        ("[1]", "-seed1"),
        ("[2]", "-seed2"),
        ("[0, 1, 2]", ""),
    ):
        text = f"""# The evidence grid (issue 23), protocol in benchmarks/results/paper_claims/:
# {what}; standard fine-tuning against step-by-step (shared input), all PaLM rationales (no
# filter), smollm2-135m, batch 8, lr {lr}, 600 steps, validation every 30 steps (best checkpoint
# kept), seeds {seeds}. One recipe per seed so that pairs finish together; the seedless one
# (all three seeds) only summarises what the others trained (finished runs are skipped):
#
#   OMP_NUM_THREADS=1 stepdistill experiment benchmarks/paper_claims/{task}-grid{suffix}.yaml
name: {task}-grid{suffix}
{source}students: [smollm2-135m]
methods:
  - method: standard
  - method: step-by-step
    settings: {{shared_input: true}}
train_fractions: {fractions}
seeds: {seeds}
settings:
  per_device_batch_size: 8
  learning_rate: {lr}
  max_steps: 600
  eval_steps: 30
  save_total_limit: 1
{compare}output: ../../runs/cpu/{task}-grid
"""
        (root / f"{task}-grid{suffix}.yaml").write_text(text)
print("written")
