"""The shipped accelerate configs load and name real things, and `accelerate launch` runs the
train command. (Two CPU processes: tests/test_distributed.py, with torchrun; accelerate launches
several CPU processes only through MPI, and refuses FSDP without an accelerator.)"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from accelerate.commands.config.config_args import ClusterConfig

CONFIGS = sorted((Path(__file__).resolve().parent.parent / "recipes" / "accelerate").glob("*.yaml"))
# the block class an FSDP config wraps, by the architecture its file is for
FSDP_BLOCKS = {
    "fsdp_t5.yaml": ("transformers.models.t5.modeling_t5", "T5Block"),
    "fsdp_llama.yaml": ("transformers.models.llama.modeling_llama", "LlamaDecoderLayer"),
}


def test_the_configs_are_shipped():
    names = {path.name for path in CONFIGS}
    assert {"single_gpu.yaml", "ddp.yaml", *FSDP_BLOCKS} <= names
    assert {"deepspeed_zero2.yaml", "deepspeed_zero3.yaml"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_each_config_loads_and_its_header_says_how_to_launch(path):
    config = ClusterConfig.from_yaml_file(str(path))
    assert config.num_processes >= 1 and config.num_machines == 1
    assert "accelerate launch --config_file recipes/accelerate/" + path.name in path.read_text()
    kind = config.distributed_type.value
    if path.name in FSDP_BLOCKS:
        module, block = FSDP_BLOCKS[path.name]
        fsdp = config.fsdp_config
        assert kind == "FSDP" and fsdp["fsdp_sharding_strategy"] == "FULL_SHARD"
        assert fsdp["fsdp_auto_wrap_policy"] == "TRANSFORMER_BASED_WRAP"
        assert fsdp["fsdp_transformer_layer_cls_to_wrap"] == block
        assert hasattr(importlib.import_module(module), block)
    if path.name.startswith("deepspeed"):
        assert kind == "DEEPSPEED"
        assert config.deepspeed_config["zero_stage"] == int(path.stem[-1])


@pytest.mark.slow
def test_accelerate_launch_runs_the_train_command(tiny_llama_dir, paper_dir, tmp_path):
    out = tmp_path / "launched"
    single = next(path for path in CONFIGS if path.name == "single_gpu.yaml")  # on a CPU here
    command = [
        str(Path(sys.executable).parent / "accelerate"),
        "launch",
        "--config_file",
        str(single),
    ]
    command += ["-m", "stepdistill", "train", "--task", "svamp", "--data-dir", str(paper_dir)]
    command += ["--student", str(tiny_llama_dir), "--output", str(out), "--train-fraction", "0.1"]
    command += ["--method", "step-by-step", "--shared-input", "--batch-size", "2"]
    command += ["--max-steps", "2", "--eval-steps", "2", "--max-valid-examples", "4"]
    command += ["--max-new-tokens", "4"]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["world_size"], metrics["steps"], metrics["test_size"]) == (1, 2, 200)
