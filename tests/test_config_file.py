"""One checker for every YAML settings file: unknown keys with the closest valid one, value
types from the settings dataclasses, ``--set`` through the same path."""

from __future__ import annotations

import pytest

from stepdistill.config_file import check_keys, settings_from
from stepdistill.errors import DataError
from stepdistill.extraction import TeacherSettings
from stepdistill.pipeline import load_pipeline
from stepdistill.training import RunSettings
from test_pipeline import make_pipeline


def test_an_unknown_key_names_the_closest_valid_one():
    with pytest.raises(
        DataError, match=r"here: unknown keys \['trian'\] \('trian': did you mean 'train'\?\)"
    ):
        check_keys({"trian": 1}, ["task", "train"], "here")


@pytest.mark.parametrize(
    ("changes", "overrides", "message"),
    [
        ({"trian": {}}, [], "did you mean 'train'"),
        ({"train__data_seeed": 1}, [], "did you mean 'data_seed'"),
        ({"teacher__concurency": 2}, [], "did you mean 'concurrency'"),
        ({}, ["train.max_valid_examples=abc"], "max_valid_examples must be int | None, got 'abc'"),
        ({}, ["train.settings.learning_rate=1e-4"], "learning_rate must be float, got '1e-4'"),
        ({}, ["teacher.max_tokens=many"], "max_tokens must be int, got 'many'"),
    ],
)
def test_pipeline_files_and_overrides_are_checked_before_anything_runs(
    tmp_path, tiny_t5_dir, changes, overrides, message
):
    path = make_pipeline(tmp_path, tiny_t5_dir, "http://127.0.0.1:9/v1", **changes)
    with pytest.raises(DataError, match=message) as raised:
        load_pipeline(path, overrides=overrides)
    assert str(path) in str(raised.value)


def test_settings_from_fills_the_dataclass_and_rejects_wrong_types():
    run = settings_from(RunSettings, {"train_fraction": 0.5, "data_seed": 3}, "f")
    assert (run.train_fraction, run.data_seed) == (0.5, 3)
    with pytest.raises(DataError, match="f: overwrite must be bool, got 'yes'"):
        settings_from(RunSettings, {"overwrite": "yes"}, "f")
    teacher = settings_from(TeacherSettings, {"filters": ["agree-with-gold"], "n": 1}, "t")
    assert teacher.filters == ["agree-with-gold"]
    with pytest.raises(DataError, match="t: filters must be list"):
        settings_from(TeacherSettings, {"filters": 3}, "t")
