"""Running a pipeline: extract -> train (and evaluate on test) -> export -> report.

Every stage writes its usual artifact in the output folder and is skipped when that artifact is
complete: ``teacher.jsonl`` (written at the end of an extraction whose settings it records),
each student's folder (``metrics.json`` is written last), each export. A killed run started
again resumes: teacher requests that completed come from the SQLite cache, training continues
from its last checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from stepdistill.comparisons import (
    ClassReport,
    class_report,
    compare_folders,
    folders_accuracy,
    plot_verdicts,
)
from stepdistill.data.io import write_json
from stepdistill.data.task_data import TaskData
from stepdistill.errors import NoUsableExamples, StepdistillError
from stepdistill.evaluation.classes import coverage_warnings
from stepdistill.extraction import (
    TeacherSettings,
    extraction_plan,
    run_extraction,
    split_examples,
)
from stepdistill.models.folder import has_metrics, is_model_folder, read_info, read_metrics
from stepdistill.pipeline.config import PipelineConfig, StudentRun
from stepdistill.pipeline.progress import RunProgress
from stepdistill.pipeline.report import ReportView, pipeline_view
from stepdistill.reports import write_report
from stepdistill.throughput import Estimate, fixed_estimate, record_fixed, total
from stepdistill.training import (
    RunSettings,
    TrainConfig,
    hold_output,
    holder_of,
    holds,
    in_use,
    step_clock,
)

logger = logging.getLogger(__name__)

STATE_FILE = "pipeline.json"
TEACHER_FILE = "teacher.jsonl"
CACHE_FILE = "teacher.cache.sqlite"
PLOT_FILE = "report.png"


def _fingerprint(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def read_state(path: Path) -> dict[str, Any]:
    """A run folder's ``pipeline.json`` (none yet: no stage done); one that is not a JSON
    object of stages (truncated by a full disk, edited by hand) is a one-line error."""
    if not path.exists():
        return {"stages": {}}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise StepdistillError(
            f"{path} is not readable JSON ({error}); the run's state is lost: remove the folder "
            "with --overwrite, or choose another --output"
        ) from None
    if not isinstance(state, dict) or not isinstance(state.get("stages"), dict):
        raise StepdistillError(f"{path} does not hold a run's stages; choose another --output")
    return state


class PipelineRun:
    """One pipeline's output folder: what each stage has done, kept in ``pipeline.json``."""

    def __init__(self, config: PipelineConfig) -> None:
        self.config = config
        self.output = config.output
        self.source = config.source()
        self.state_path = self.output / STATE_FILE
        self.state: dict[str, Any] = read_state(self.state_path)
        self._plans: dict[bool, dict[str, Any]] = {}  # extraction plans, made once each
        # the data as the students train on it, read once for every student's estimates (a
        # teacher file is read only once the teacher stage is done: it never changes after)
        self._data: dict[RunSettings, TaskData] = {}

    def check_output(self) -> None:
        """An existing output folder must be this kind of run's (never someone else's files),
        or hold nothing but the pipeline's own inputs (the demo's generated data)."""
        if self.output.exists() and not self.output.is_dir():
            raise StepdistillError(f"output {self.output} exists and is not a folder")
        inputs = {path.resolve() for path in self.source.input_paths()}
        others = (
            [p for p in self.output.iterdir() if p.resolve() not in inputs]
            if (self.output.is_dir())
            else []
        )
        if others and not self.state_path.exists():
            raise StepdistillError(
                f"output {self.output} exists and is not a stepdistill run's folder (no "
                f"{STATE_FILE}); choose another --output"
            )

    def save_state(self) -> None:
        write_json(self.state_path, self.state)

    # --- extraction -------------------------------------------------------------------------

    @property
    def teacher(self) -> TeacherSettings:
        """The pipeline's extraction settings (only asked of a pipeline that has them)."""
        if self.config.teacher is None:
            raise StepdistillError(f"{self.config.origin} has no teacher section")
        return self.config.teacher

    def teacher_fingerprint(self) -> str:
        settings = self.teacher
        return _fingerprint({"task": self.source.to_info(), "teacher": settings.identity()})

    def extraction_done(self) -> bool:
        stage = self.state["stages"].get("extract", {})
        return (self.output / TEACHER_FILE).exists() and stage.get(
            "fingerprint"
        ) == self.teacher_fingerprint()

    def extraction_plan(self, *, may_calibrate: bool = False) -> dict[str, Any]:
        """The teacher stage's plan (each prompt rendered to count it: made once per run)."""
        if may_calibrate not in self._plans:
            self._plans[may_calibrate] = extraction_plan(
                self.source, self.teacher, may_calibrate=may_calibrate
            )
        return self._plans[may_calibrate]

    def extract(self) -> dict[str, Any]:
        extraction = run_extraction(
            self.source,
            self.teacher,
            output=self.output / TEACHER_FILE,
            cache=self.output / CACHE_FILE,
        )
        summary = extraction.summary()
        self.state["stages"]["extract"] = {
            "fingerprint": self.teacher_fingerprint(),
            "report": summary,
        }
        self.save_state()
        return summary

    # --- training ---------------------------------------------------------------------------

    def student_folder(self, name: str) -> Path:
        return self.output / name

    def check_trained(self, name: str, config: TrainConfig) -> bool:
        """Whether student ``name`` is trained already with this config (an error if with
        another)."""
        folder = self.student_folder(name)
        if not has_metrics(folder):
            return False
        trained = read_info(folder).config
        wanted = json.loads(
            json.dumps({k: v for k, v in config.to_dict().items() if k != "method"})
        )
        # a setting added since the folder was trained counts as what it was then: its default
        defaults = json.loads(json.dumps(type(config)().to_dict()))
        trained = {**{k: v for k, v in defaults.items() if k not in trained}, **trained}
        trained.pop("method", None)
        if trained != wanted:
            raise StepdistillError(
                f"{folder} was trained with other settings than the pipeline's now; choose "
                "another --output, or another method label"
            )
        return True

    def planned_examples(self, student: StudentRun) -> dict[str, int] | str:
        """Each objective's training examples, where they are known before training (not
        while the teacher's records are still to come)."""
        from stepdistill.training import planned_examples

        if self.config.teacher is not None and not self.extraction_done():
            return "known once the teacher stage has run"
        return planned_examples(
            self.run_data(self.run_settings(resume=False)),
            student.entry.method,
            self.config.train.config(student.entry, student.seed),
        )

    def run_data(self, settings: RunSettings) -> TaskData:
        """The task's data as a student with these run settings trains on it (read once)."""
        from stepdistill.training import run_data

        if settings not in self._data:
            self._data[settings] = run_data(self.source, settings)
        return self._data[settings]

    def run_settings(self, *, resume: bool) -> RunSettings:
        """The run settings of every student: the stage's, with this run's teacher file."""
        teacher_file = self.output / TEACHER_FILE if self.config.teacher else None
        return self.config.train.run_settings(teacher_file, resume=resume)

    def training_estimate(self, student: StudentRun, *, may_calibrate: bool) -> Estimate:
        """How long training ``student`` will take here (before the teacher has run:
        with rationales of a typical length assumed)."""
        from stepdistill.training import estimate_training

        before_teacher = self.config.teacher is not None and not self.extraction_done()
        settings = self.run_settings(resume=False)
        if before_teacher:
            settings = replace(settings, teacher_file=None)
        explained = (
            {example.id for example in split_examples(self.source, self.teacher)}
            if before_teacher
            else None
        )
        return estimate_training(
            self.run_data(settings),
            student.entry.method,
            self.config.train.config(student.entry, student.seed),
            self.config.train.student,
            settings,
            may_calibrate=may_calibrate,
            explained=explained,
        )

    def estimates(self, *, may_calibrate: bool) -> dict[str, Estimate]:
        """Every stage's estimated duration on this machine, in run order (a done stage:
        nothing; ``may_calibrate``: time a few steps where nothing is recorded)."""
        found: dict[str, Estimate] = {}
        if self.config.teacher is not None:
            found["extract"] = (
                Estimate.nothing()
                if self.extraction_done()
                else Estimate.from_dict(
                    self.extraction_plan(may_calibrate=may_calibrate)["duration"]
                )
            )
        for student in self.config.train.students():
            name = student.name
            found[f"train {name}"] = (
                Estimate.nothing()
                if has_metrics(self.student_folder(name))
                else self.training_estimate(student, may_calibrate=may_calibrate)
            )
            if self.config.export_quantization:
                found[f"export {name}"] = (
                    Estimate.nothing()
                    if is_model_folder(self.export_folder(name))
                    else fixed_estimate("export", self.export_workload())
                )
        found["report"] = fixed_estimate("report", {})
        return found

    def export_workload(self) -> dict[str, Any]:
        return {
            "student": self.config.train.student,
            "quantization": self.config.export_quantization,
        }

    def train(self, student: StudentRun, callbacks: Sequence[Any] = ()) -> dict[str, Any]:
        from stepdistill.training import train_on_task

        stage = self.config.train
        folder = self.student_folder(student.name)
        result = train_on_task(
            source=self.source,
            method=student.entry.method,
            config=stage.config(student.entry, student.seed),
            student=stage.student,
            output_dir=folder,
            # a killed run continues from its last checkpoint
            run=self.run_settings(resume=folder.exists()),
            callbacks=callbacks,
        )
        return result.metrics

    # --- export -----------------------------------------------------------------------------

    def export_folder(self, name: str) -> Path:
        return self.output / f"{name}-{self.config.export_quantization}"

    def export(self, name: str) -> dict[str, Any]:
        from stepdistill.serving import export_ctranslate2

        quantization = self.config.export_quantization or "int8"
        started = time.perf_counter()
        folder = export_ctranslate2(
            self.student_folder(name),
            self.export_folder(name),
            quantization=quantization,
            overwrite=True,  # only ever a folder this pipeline started and did not finish
        )
        record_fixed("export", self.export_workload(), time.perf_counter() - started)
        return {"folder": str(folder), "quantization": self.config.export_quantization}


def plan(config: PipelineConfig, *, may_calibrate: bool = True) -> dict[str, Any]:
    """What a run would do, stage by stage, without doing it: the teacher's request count and
    cost ceiling, each student's examples, and each stage's estimated duration on this machine
    (from recorded runs, else, with ``may_calibrate``, from a few timed steps)."""
    run = PipelineRun(config)
    durations = run.estimates(may_calibrate=may_calibrate)
    stages: dict[str, Any] = {}
    if config.teacher is not None:
        done = run.extraction_done()
        stages["extract"] = {
            "status": "done" if done else "todo",
            "teacher": config.teacher.teacher,
            # the plan the estimates made (a done stage is never timed)
            **run.extraction_plan(may_calibrate=may_calibrate and not done),
        }
    for student in config.train.students():
        name = student.name
        done = has_metrics(run.student_folder(name))
        stages[f"train {name}"] = {
            "status": "done" if done else "todo",
            "method": student.entry.method,
            "student": config.train.student,
            "folder": str(run.student_folder(name)),
            "train_examples": run.planned_examples(student),
        }
        if config.export_quantization:
            exported = is_model_folder(run.export_folder(name))
            stages[f"export {name}"] = {
                "status": "done" if exported else "todo",
                "folder": str(run.export_folder(name)),
            }
    stages["report"] = {"status": "todo"}
    for name, found in durations.items():
        stages[name]["duration"] = found.to_dict()
    return {
        "pipeline": config.origin,
        "output": str(config.output),
        "duration": total(durations.values()).to_dict(),
        "stages": stages,
    }


def clear_output(output: Path, inputs: Sequence[Path] = ()) -> None:
    """Remove a finished or interrupted pipeline run's folder (``--overwrite``): never a folder
    that is not one, nor one that holds an input of the run."""
    if not output.exists() or (output.is_dir() and not any(output.iterdir())):
        return
    if not (output / STATE_FILE).exists():
        raise StepdistillError(
            f"--overwrite: {output} is not a stepdistill run's folder (no {STATE_FILE}); "
            "choose another --output"
        )
    holder = holder_of(output)
    if holder is not None:
        raise in_use(output, holder)
    for path in inputs:
        if holds(output, path):
            raise StepdistillError(f"--overwrite would delete {output}, which holds {path}")
    shutil.rmtree(output)


def verdicts(run: PipelineRun, trained: dict[str, Any]) -> dict[str, Any]:
    """Each method's test accuracy with its interval over test examples and seeds, the
    verdicts of the stage's pairs (from the folders' test predictions), and ``report.png``;
    a pair with a side that was not trained or has no test predictions is named in ``notes``."""
    stage = run.config.train
    names: dict[str, list[str]] = {}
    for student in stage.students():
        names.setdefault(student.entry.label, []).append(student.name)
    tested = {
        label: [run.student_folder(name) for name in seeds]
        for label, seeds in names.items()
        if all(trained.get(name, {}).get("test_accuracy") is not None for name in seeds)
    }
    accuracy = {label: folders_accuracy(paths) for label, paths in tested.items()}
    comparisons, notes = [], []
    for treatment, baseline in stage.pairs():
        if treatment in tested and baseline in tested:
            pair = (treatment, baseline)
            comparisons.append(compare_folders(tested[treatment], tested[baseline], names=pair))
        else:
            notes.append(f"{treatment} vs {baseline}: not compared (a side has no test accuracy)")
    for comparison in comparisons:
        logger.info("verdict: %s", comparison.line())
    classes = {
        label: found
        for label, paths in tested.items()
        if (found := class_report(paths, label)) is not None
    }
    warnings = class_warnings(run, trained, list(classes.values()))
    for warning in warnings:
        logger.warning("%s", warning)
    plot = None
    if accuracy:
        title = f"{run.source.task.name}: test accuracy"
        confusions = {label: found.confusion for label, found in classes.items()}
        path = run.output / PLOT_FILE
        plot = str(plot_verdicts(accuracy, comparisons, title, path, confusions))
    return {
        "accuracy": {
            label: {"mean": mean, "low": low, "high": high}
            for label, (mean, low, high) in accuracy.items()
        },
        "comparisons": [comparison.to_dict() for comparison in comparisons],
        "comparison_notes": notes,
        "classes": {label: found.to_dict() for label, found in classes.items()},
        "warnings": warnings,
        "plot": plot,
    }


def class_warnings(
    run: PipelineRun, trained: dict[str, Any], classes: list[ClassReport]
) -> list[str]:
    """For a closed label set: kept teacher labels, each student's training labels and its
    predictions that cover too few classes or one class only."""
    label_space = run.source.task.label_space
    if not label_space:
        return []
    extraction = run.state["stages"].get("extract", {}).get("report", {})
    warnings = coverage_warnings(
        "the kept teacher labels", extraction.get("kept_labels") or {}, label_space
    )
    for name, metrics in trained.items():
        warnings += coverage_warnings(
            f"the training labels of {name}", metrics.get("train_labels") or {}, label_space
        )
    for found in classes:
        warnings += found.warnings
    return warnings


def run_pipeline(config: PipelineConfig, *, view: ReportView = pipeline_view) -> dict[str, Any]:
    """Run every stage that is not complete yet; write ``report.md`` and ``report.json`` (as
    ``view`` tells the run's report) and return the report.

    A student whose method finds no usable example (no rationale was kept) is not trained; the
    report says why.

    Raises:
        BudgetReached: the teacher's budget ran out (completed requests are cached).
        StepdistillError / DataError: a bad output folder, task, data or setting.
    """
    started = time.perf_counter()
    run = PipelineRun(config)
    run.check_output()
    progress = RunProgress(run.estimates(may_calibrate=False))
    run.output.mkdir(parents=True, exist_ok=True)
    with hold_output(run.output):  # a second run into this folder is refused, not mixed in
        run.save_state()
        return run_stages(run, progress, view, started)


def run_stages(
    run: PipelineRun, progress: RunProgress, view: ReportView, started: float
) -> dict[str, Any]:
    """``run_pipeline``'s stages, in a folder it holds."""
    config = run.config
    report: dict[str, Any] = {
        "pipeline": config.origin,
        "task": run.source.task.name,
        "teacher": config.teacher.teacher if config.teacher else None,
        "student": config.train.student,
    }
    if config.teacher is not None:
        progress.begin("extract")
        if run.extraction_done():
            logger.info("extract: done already (%s)", run.output / TEACHER_FILE)
            report["extract"] = {**run.state["stages"]["extract"]["report"], "skipped": True}
        else:
            logger.info("extract: teacher %s", config.teacher.teacher)
            report["extract"] = run.extract()
            if progress.unestimated():  # each call reads the task's data again
                progress.update(run.estimates(may_calibrate=False))
        progress.end("extract")
    report["students"] = {}
    report["skipped_students"] = {}
    for student in config.train.students():
        name = student.name
        progress.begin(f"train {name}")
        if run.check_trained(name, config.train.config(student.entry, student.seed)):
            logger.info("train %s: done already", name)
            metrics = {**read_metrics(run.student_folder(name)), "skipped": True}
        else:
            logger.info("train %s: %s", name, student.entry.method)
            try:
                metrics = run.train(student, [step_clock(progress.advance)])
            except NoUsableExamples as error:
                logger.warning("train %s: not trained: %s", name, error)
                report["skipped_students"][name] = str(error)
                progress.end(f"train {name}")
                if config.export_quantization:
                    progress.end(f"export {name}")  # nothing to export
                continue
            if progress.unestimated():  # each call reads the task's data again
                progress.update(run.estimates(may_calibrate=False))
        progress.end(f"train {name}")
        report["students"][name] = metrics
        if config.export_quantization:
            progress.begin(f"export {name}")
            if is_model_folder(run.export_folder(name)):
                exported = {"folder": str(run.export_folder(name)), "skipped": True}
            else:
                logger.info("export %s: %s", name, config.export_quantization)
                exported = run.export(name)
            report["students"][name]["export"] = exported
            progress.end(f"export {name}")
    progress.begin("report")
    reported = time.perf_counter()
    report.update(verdicts(run, report["students"]))
    report["seconds"] = round(time.perf_counter() - started, 1)
    written, markdown = view(report, config)
    files = write_report(run.output, written, markdown)
    record_fixed("report", {}, time.perf_counter() - reported)
    progress.end("report")
    return {**written, "files": files}
