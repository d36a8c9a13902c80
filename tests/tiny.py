"""Tiny random students and a synthetic arithmetic task, built in seconds on a CPU."""

from __future__ import annotations

import random
from pathlib import Path

from stepdistill.data.task_data import TaskData
from stepdistill.schema import Example, TeacherRecord
from stepdistill.tasks import get_task

NAMES = ["Tom", "Ann", "Lia", "Bo", "Max", "Eve"]
THINGS = ["apples", "pens", "cards", "books"]


def arithmetic_examples(n: int, *, seed: int, split: str) -> list[Example]:
    """Word problems labelled with SVAMP-style equations and teacher rationales."""
    rng = random.Random(seed)
    examples = []
    for i in range(n):
        a, b = rng.randint(1, 20), rng.randint(1, 20)
        name, thing = rng.choice(NAMES), rng.choice(THINGS)
        plus = rng.random() < 0.5
        op, verb = ("+", "gets") if plus else ("-", "loses")
        question = f"{name} has {a} {thing} and {verb} {b}.\nHow many {thing} now?"
        label = f"( {a}.0 {op} {b}.0 )"
        rationale = (
            f"{name} has {a} {thing}. {name} {verb} {b}. {a} {op} {b} = {a + b if plus else a - b}."
        )
        record = TeacherRecord(f"{split}-{i}", rationale, label, True, teacher="synthetic")
        examples.append(Example(f"{split}-{i}", question, label, {}, record))
    return examples


def arithmetic_task_data(n_train: int = 24, n_valid: int = 6, n_test: int = 6) -> TaskData:
    return TaskData(
        task=get_task("svamp"),
        splits={
            "train": arithmetic_examples(n_train, seed=0, split="train"),
            "valid": arithmetic_examples(n_valid, seed=1, split="valid"),
            "test": arithmetic_examples(n_test, seed=2, split="test"),
        },
    )


def train_tokenizer(corpus: list[str]):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<pad>", "</s>", "<unk>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(corpus, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )


def corpus() -> list[str]:
    lines = ["predict: explain: So the answer is"]
    for example in arithmetic_examples(300, seed=9, split="corpus"):
        lines += [example.input, example.label, example.teacher.rationale]
    return lines


def tiny_t5(folder: Path) -> Path:
    from transformers import T5Config, T5ForConditionalGeneration

    tokenizer = train_tokenizer(corpus())
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=32,
        d_ff=64,
        d_kv=16,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=2,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
    )
    seeded(T5ForConditionalGeneration, config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def seeded(model_class, config):
    """A model initialised from seed 0 without touching the caller's random state."""
    import torch

    # a fixed initialisation, whatever ran before (session fixtures are built by whichever test
    # first asks, so an unseeded model would differ with the test order)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return model_class(config)


def tiny_llama(folder: Path, *, tied: bool = False) -> Path:
    """A tiny Llama-style causal LM (``tied``: its output layer is its embedding, as in
    SmolLM2)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = train_tokenizer(corpus())
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=tied,
    )
    seeded(LlamaForCausalLM, config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def teacher_file_train_args(
    paper_dir: Path, student: Path, teacher_file: Path, output: Path
) -> list[str]:
    """CLI arguments of a two-step step-by-step run on SVAMP with a teacher file's labels."""
    args = ["train", "--task", "svamp", "--data-dir", str(paper_dir), "--method", "step-by-step"]
    args += [
        "--student",
        str(student),
        "--output",
        str(output),
        "--teacher-file",
        str(teacher_file),
    ]
    args += [
        "--label-source",
        "teacher",
        "--max-steps",
        "2",
        "--batch-size",
        "4",
        "--eval-steps",
        "2",
    ]
    return [*args, "--max-valid-examples", "4", "--max-new-tokens", "8"]
