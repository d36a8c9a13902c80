"""CTranslate2 export: the exported folder predicts like the PyTorch one, in predict and serve."""

from __future__ import annotations

import json

import pytest

from stepdistill.cli.main import main
from stepdistill.serving import Predictor, load_label_predictor
from stepdistill.training import make_config
from stepdistill.training.run import train_student
from tiny import arithmetic_task_data

pytest.importorskip("ctranslate2")


@pytest.fixture(scope="module", params=["t5", "llama"])
def trained(request, tiny_t5_dir, tiny_llama_dir, tmp_path_factory):
    student = {"t5": tiny_t5_dir, "llama": tiny_llama_dir}[request.param]
    out = tmp_path_factory.mktemp("export") / f"{request.param}-sbs"
    config = make_config(
        "step-by-step",
        per_device_batch_size=4,
        max_steps=3,
        eval_steps=3,
        learning_rate=1e-3,
        max_new_tokens=10,
        shared_input=request.param == "t5",
    )
    train_student(
        data=arithmetic_task_data(),
        method="step-by-step",
        config=config,
        student=str(student),
        output_dir=out,
    )
    return out


def test_float32_export_predicts_what_pytorch_predicts(trained, tmp_path, capsys):
    exported = tmp_path / "ct2"
    assert (
        main(
            [
                "export",
                "--model",
                str(trained),
                "--output",
                str(exported),
                "--quantization",
                "float32",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["quantization"] == "float32"
    inputs = [e.input for e in arithmetic_task_data()["test"]]
    original = load_label_predictor(trained).predict(inputs)
    assert load_label_predictor(exported).engine is not None
    assert load_label_predictor(exported).predict(inputs) == original
    with_rationale = Predictor(exported).predict(inputs[:2], rationale=True)
    assert all(isinstance(p.rationale, str) for p in with_rationale)


def test_int8_export_runs_in_predict_and_serve(trained, tmp_path, capsys):
    from fastapi.testclient import TestClient

    from stepdistill.serving.app import create_app

    exported = tmp_path / "ct2-int8"
    assert main(["export", "--model", str(trained), "--output", str(exported)]) == 0
    capsys.readouterr()
    source = tmp_path / "in.jsonl"
    source.write_text(
        "".join(json.dumps({"input": e.input}) + "\n" for e in arithmetic_task_data()["test"])
    )
    out = tmp_path / "out.jsonl"
    assert (
        main(["predict", "--model", str(exported), "--input", str(source), "--output", str(out)])
        == 0
    )
    assert len(out.read_text().splitlines()) == 6
    with TestClient(create_app(Predictor(exported))) as client:
        response = client.post("/v1/predict", json={"inputs": ["Ann has 2 pens.\nHow many?"]})
        assert response.status_code == 200 and "label" in response.json()["predictions"][0]
    assert main(["export", "--model", str(trained), "--output", str(exported)]) == 2
    assert "not empty" in capsys.readouterr().err
