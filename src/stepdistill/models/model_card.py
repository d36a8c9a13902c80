"""The README.md model card written into every trained folder."""

from __future__ import annotations

from typing import Any

from stepdistill.data.label_sources import LABEL_SOURCES

USAGE = """## Use

```bash
stepdistill predict --model {name} --input in.jsonl --output out.jsonl
stepdistill serve --model {name} --port 8000    # /v1/predict, OpenAI-compatible /v1/completions
stepdistill export --model {name} --output {name}-int8    # CTranslate2, int8
```

```python
from stepdistill.serving import Predictor
predictor = Predictor("{name}")
print(predictor.predict(["your input"])[0].label)
```

The folder is a plain Hugging Face model (`AutoModelForSeq2SeqLM` or `AutoModelForCausalLM`,
and `AutoTokenizer`); `stepdistill.json` holds the task, method, prompts and resolved config,
`metrics.json` the validation curve and the test accuracy.
"""


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


def _weights(info: dict[str, Any]) -> str:
    config, student = info["config"], info["student"]
    if not student.get("adapter"):
        return "every weight trained"
    return (
        f"LoRA adapters (r={config['lora_r']}, alpha={config['lora_alpha']}) over "
        f"`{student['name']}`; load with peft, or `stepdistill predict` / `serve` as they are"
    )


def model_card(
    info: dict[str, Any], metrics: dict[str, Any], name: str, method_description: str
) -> str:
    """Markdown: task, method, data, teacher, metrics, and how to load and serve the model.

    ``method_description`` is the training method's own account of itself."""
    task, config, data = info["task"], info["config"], info.get("data") or {}
    counts = metrics.get("train_examples", {})
    skipped = ", ".join(f"{k}: {v}" for k, v in counts.items() if k != "used")
    labels = LABEL_SOURCES.get(config["label_source"]).description
    teacher = data.get("teacher_file") or "the paper's released PaLM-540B chain-of-thought outputs"
    steps = (
        f"{metrics.get('steps')} at effective batch {metrics.get('effective_batch_size')}, "
        f"lr {config['learning_rate']}, seed {config['seed']}"
    )
    test = f"{_percent(metrics.get('test_accuracy'))} on {metrics.get('test_size', '-')} examples"
    space = ", ".join(info["label_space"]) if info.get("label_space") else "open"
    rows = [
        ("method", method_description),
        ("labels", labels),
        ("teacher rationales", teacher),
        (
            "training examples",
            f"{counts.get('used', '-')} used" + (f" ({skipped})" if skipped else ""),
        ),
        ("train fraction", f"{data.get('train_fraction', 1.0)} (seed {data.get('data_seed', 0)})"),
        ("steps", steps),
        ("best validation accuracy", _percent(metrics.get("best_validation_accuracy"))),
        ("test accuracy", test),
        ("label space", space),
        ("weights", _weights(info)),
    ]
    header = [
        "---",
        "library_name: transformers",
        f"tags: [stepdistill, distilling-step-by-step, {task['name']}]",
        "---",
        f"# {name}",
        "",
        f"A `{info['student']['name']}` student ({info['student']['kind']}) trained with "
        f"stepdistill (Distilling Step-by-Step, Hsieh et al., 2023) on the `{task['name']}` task.",
        "Only the label task runs at inference: no rationale, no LLM.",
        "",
        "| | |",
        "|---|---|",
    ]
    table = [f"| {key} | {value} |" for key, value in rows]
    return "\n".join([*header, *table, "", USAGE.format(name=name)])
